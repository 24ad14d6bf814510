"""Personal data (Decree 13/2023/NĐ-CP): masks, a scrubber and the last guard before sending.

Notifications never receives an applicant's name, ID number, phone or email: snapshots carry
none. The guard still checks every outbound text, both for values a caller knows (tests pass the
real ones) and for anything shaped like a Vietnamese phone number, ID number or email address,
so a free-text field from upstream (a quarantine reason, say) cannot smuggle one out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

_EDGE_L = r"(?<![\w.\-/])"
_EDGE_R = r"(?![\w\-/]|\.\d)"
PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"),
    # 0912345678, 0912 345 678, 091.234.5678, +84912345678
    "phone": re.compile(_EDGE_L + r"(?:\+?84|0)\d{2,3}[ .]?\d{3}[ .]?\d{3,4}" + _EDGE_R),
    # CCCD has 12 digits, the old CMND 9.
    "id_number": re.compile(_EDGE_L + r"\d{9}(?:\d{3})?" + _EDGE_R),
}


class PersonalDataError(ValueError):
    """Outbound text contains personal data. The message names what kind, never the value."""


def mask_name(name: str) -> str:
    """`Nguyễn Văn An` -> `N*** V*** A***`: initials only, word lengths hidden."""
    return " ".join(word[0] + "***" for word in name.split())


def mask_id_number(value: str) -> str:
    """`001203012345` -> `*********345`."""
    digits = re.sub(r"\D", "", value)
    return "*" * max(len(digits) - 3, 3) + digits[-3:] if len(digits) > 3 else "***"


def mask_phone(value: str) -> str:
    """`0912 345 678` -> `*******678`."""
    return mask_id_number(value)


def mask_email(value: str) -> str:
    """`an.nguyen@example.com` -> `a***@example.com`."""
    local, sep, domain = value.strip().partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


_MASKERS = {"email": mask_email, "phone": mask_phone, "id_number": mask_id_number}


# Field names (DVCQG and native) whose values are personal: a validation message quoting the
# bad input of one of these, e.g. "data.0.SoDienThoai: ... (got '09x1')", must not quote it.
PERSONAL_FIELDS = frozenset({"chuhoso", "sogiaytochuhoso", "email", "sodienthoai",
                             "holder_name", "holder_id_number", "phone"})
_QUOTED_INPUT = re.compile(r"(?P<field>[\w.\[\]]+): (?P<msg>[^;]*?)\(got .*?\)(?=; |$)", re.S)


def scrub(text: str) -> str:
    """Masks anything shaped like personal data in free text from upstream, and drops the
    quoted input of personal fields from validation messages."""
    text = _QUOTED_INPUT.sub(_drop_personal_input, text)
    for kind, pattern in PATTERNS.items():
        text = pattern.sub(_on_match(_MASKERS[kind]), text)
    return text


def _drop_personal_input(m: re.Match[str]) -> str:
    field = m.group("field").rsplit(".", 1)[-1].casefold()
    return f"{m.group('field')}: {m.group('msg')}(got ***)" if field in PERSONAL_FIELDS else m[0]


def _on_match(mask: Callable[[str], str]) -> Callable[[re.Match[str]], str]:
    return lambda m: mask(m.group(0))


def find_personal_data(text: str, personal_values: Iterable[str] = ()) -> list[str]:
    """What kinds of personal data `text` holds: pattern names and `value#<i>` for known values."""
    found = [kind for kind, pattern in PATTERNS.items() if pattern.search(text)]
    # Without diacritics, "Nguyen Van An" still names Nguyễn Văn An.
    haystack = _strip_marks(_fold(text))
    for i, value in enumerate(personal_values):
        if value.strip() and _value_pattern(value).search(haystack):
            found.append(f"value#{i}")
    return found


def assert_no_personal_data(text: str, personal_values: Iterable[str] = ()) -> None:
    found = find_personal_data(text, personal_values)
    if found:
        raise PersonalDataError(f"outbound text contains personal data: {', '.join(found)}")


def _value_pattern(value: str) -> re.Pattern[str]:
    folded = _fold(value)
    digits = re.sub(r"\D", "", folded)
    if len(digits) >= 6 and len(digits) >= len(re.sub(r"[\s.+\-()]", "", folded)):
        # A number: match it with or without the usual separators between digits.
        return re.compile(r"(?<!\d)" + r"[\s.\-]?".join(digits) + r"(?!\d)")
    words = [re.escape(w) for w in _strip_marks(folded).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _strip_marks(text: str) -> str:
    # đ has no Unicode decomposition, so it is mapped by hand.
    decomposed = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in decomposed if not unicodedata.combining(c))
