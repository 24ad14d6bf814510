"""Masking of personal data (Decree 13/2023/NĐ-CP): enough left to recognise, not to identify."""

from __future__ import annotations


def mask_name(name: str) -> str:
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split() if w)


def mask_id_number(value: str) -> str:
    keep = 4 if len(value) > 6 else 1
    return "*" * (len(value) - keep) + value[-keep:]


def mask_phone(value: str) -> str:
    digits = value.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 6) + digits[-3:]


def mask_email(value: str) -> str:
    local, sep, domain = value.partition("@")
    if not sep:
        return "*" * len(value)
    return (local[:1] + "***") + "@" + domain


MASKS = {
    "holder_name": mask_name,
    "holder_id_number": mask_id_number,
    "phone": mask_phone,
    "email": mask_email,
}


def masked(personal: dict[str, str]) -> dict[str, str]:
    return {k: MASKS[k](v) for k, v in personal.items() if k in MASKS and v}
