"""Who can be reached, per unit and role (`data/provinces/<code>/contacts.yaml`).

Roles looked up for a unit fall back to the `province` entry, which is where the province-wide
roles (operations centre, integrators, operators) live. Webhook secrets are never in the file:
a contact names the environment variable that holds its secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .alerts import PROVINCE

ROLES = ("handling_officer", "unit_head", "operations_centre", "integrator", "operator")
CHANNELS = ("email", "webhook")


class ContactsError(ValueError):
    """The contacts file is malformed; the message says where."""


@dataclass(frozen=True)
class Contact:
    role: str
    name: str
    email: str | None = None
    webhook_url: str | None = None
    webhook_secret_env: str | None = None


@dataclass(frozen=True)
class Target:
    """One delivery to make: a channel and its address, and why this recipient gets it."""

    channel: str  # "email" | "webhook"
    address: str  # an email address or a webhook URL
    role: str
    name: str
    secret_env: str | None = None  # webhooks: the environment variable holding the secret


@dataclass(frozen=True)
class Contacts:
    unit_names: Mapping[str, str]
    by_unit: Mapping[str, tuple[Contact, ...]]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Contacts:
        units = data.get("units")
        if not isinstance(units, Mapping):
            raise ContactsError("contacts: 'units' must be a mapping of unit code to roles")
        names: dict[str, str] = {}
        by_unit: dict[str, tuple[Contact, ...]] = {}
        for code, entry in units.items():
            if not isinstance(entry, Mapping):
                raise ContactsError(f"contacts: unit {code!r} must be a mapping")
            names[str(code)] = str(entry.get("name", code))
            by_unit[str(code)] = tuple(_contacts(str(code), entry))
        return cls(names, by_unit)

    def unit_name(self, unit_code: str) -> str:
        return self.unit_names.get(unit_code, unit_code)

    def for_role(self, unit_code: str, role: str) -> list[Contact]:
        own = [c for c in self.by_unit.get(unit_code, ()) if c.role == role]
        return own or [c for c in self.by_unit.get(PROVINCE, ()) if c.role == role]


def targets_for(unit_code: str, roles: Iterable[str], channels: Iterable[str],
                contacts: Contacts) -> list[Target]:
    """Each (channel, address) once, in role order, even if a person holds two roles."""
    wanted = tuple(channels)
    seen: set[tuple[str, str]] = set()
    out: list[Target] = []
    for role in roles:
        for c in contacts.for_role(unit_code, role):
            for channel, address in (("email", c.email), ("webhook", c.webhook_url)):
                if channel in wanted and address and (channel, address) not in seen:
                    seen.add((channel, address))
                    secret = c.webhook_secret_env if channel == "webhook" else None
                    out.append(Target(channel, address, role, c.name, secret))
    return out


def _contacts(code: str, entry: Mapping[str, Any]) -> Iterable[Contact]:
    for role, people in entry.items():
        if role == "name":
            continue
        if role not in ROLES:
            raise ContactsError(f"contacts: unit {code!r} has unknown role {role!r}")
        if not isinstance(people, list):
            raise ContactsError(f"contacts: {code}.{role} must be a list of contacts")
        for i, p in enumerate(people):
            if not isinstance(p, Mapping) or not (p.get("email") or p.get("webhook")):
                raise ContactsError(f"contacts: {code}.{role}[{i}] needs an email or a webhook")
            if p.get("webhook") and not p.get("webhook_secret_env"):
                raise ContactsError(f"contacts: {code}.{role}[{i}] webhook needs "
                                    "webhook_secret_env")
            yield Contact(role, str(p.get("name", role)), p.get("email"), p.get("webhook"),
                          p.get("webhook_secret_env"))
