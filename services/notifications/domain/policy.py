"""Notification policy as data: what goes to whom and by which channel, and when.

Parsed from a plain mapping (the loader reads `data/notification-policy.yaml`). Every rule here
takes the time and the working calendar as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from .alerts import Alert, AlertKind
from .calendar import CalendarLike
from .contacts import CHANNELS, ROLES, Contacts, Target, targets_for

_TOP_KEYS = {"version", "quiet_hours", "fallback_roles", "routes", "escalation", "digest",
             "apology"}


class PolicyError(ValueError):
    """The policy document is malformed; the message says where."""


@dataclass(frozen=True)
class Route:
    roles: tuple[str, ...]
    channels: tuple[str, ...]
    urgent: bool = False  # urgent alerts ignore quiet hours


@dataclass(frozen=True)
class EscalationPolicy:
    after_working_hours: int = 4
    kinds: frozenset[AlertKind] = frozenset({AlertKind.OVERDUE})
    roles: tuple[str, ...] = ("unit_head",)
    channels: tuple[str, ...] = ("email",)


@dataclass(frozen=True)
class DigestPolicy:
    enabled: bool = True
    at: time = time(16, 30)  # local time of the working calendar
    roles: tuple[str, ...] = ("unit_head",)
    channels: tuple[str, ...] = ("email",)


@dataclass(frozen=True)
class ApologyPolicy:
    extra_working_days: int = 3
    remind_every_working_hours: int = 4


@dataclass(frozen=True)
class Policy:
    routes: Mapping[AlertKind, Route]
    quiet_hours: bool = True  # hold non-urgent deliveries until the next working instant
    fallback_roles: tuple[str, ...] = ("operations_centre",)
    escalation: EscalationPolicy = EscalationPolicy()
    digest: DigestPolicy = DigestPolicy()
    apology: ApologyPolicy = ApologyPolicy()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise PolicyError(f"policy: unknown keys {unknown}")
        routes_in = data.get("routes") or {}
        if not isinstance(routes_in, Mapping):
            raise PolicyError("policy: 'routes' must map alert kinds to routes")
        routes = {_kind(k, "routes"): _route(str(k), v) for k, v in routes_in.items()}
        esc, dig, apo = (data.get(k) or {} for k in ("escalation", "digest", "apology"))
        return cls(
            routes=routes,
            quiet_hours=bool(data.get("quiet_hours", True)),
            fallback_roles=_names(data.get("fallback_roles", ["operations_centre"]), ROLES,
                                  "fallback_roles"),
            escalation=EscalationPolicy(
                after_working_hours=_positive(esc.get("after_working_hours", 4), "escalation"),
                kinds=frozenset(_kind(k, "escalation.kinds") for k in esc.get("kinds",
                                                                                ["overdue"])),
                roles=_names(esc.get("roles", ["unit_head"]), ROLES, "escalation.roles"),
                channels=_names(esc.get("channels", ["email"]), CHANNELS, "escalation.channels"),
            ),
            digest=DigestPolicy(
                enabled=bool(dig.get("enabled", True)),
                at=_time(dig.get("at", "16:30")),
                roles=_names(dig.get("roles", ["unit_head"]), ROLES, "digest.roles"),
                channels=_names(dig.get("channels", ["email"]), CHANNELS, "digest.channels"),
            ),
            apology=ApologyPolicy(
                extra_working_days=_positive(apo.get("extra_working_days", 3), "apology"),
                remind_every_working_hours=_positive(apo.get("remind_every_working_hours", 4),
                                                     "apology"),
            ),
        )


@dataclass(frozen=True)
class EscalationDue:
    alert: Alert
    roles: tuple[str, ...]
    channels: tuple[str, ...]
    due_since: datetime  # when the working hours without an apology ran out


def recipients_for(alert: Alert, contacts: Contacts, policy: Policy) -> list[Target]:
    """The deliveries an alert needs; the fallback roles when its own roles reach nobody."""
    route = policy.routes.get(alert.kind)
    if route is None:
        return []
    found = targets_for(alert.unit_code, route.roles, route.channels, contacts)
    return found or targets_for(alert.unit_code, policy.fallback_roles, route.channels, contacts)


def in_working_time(now: datetime, calendar: CalendarLike) -> bool:
    return calendar.next_working_instant(now) <= now


def delivery_time(alert: Alert, now: datetime, calendar: CalendarLike, policy: Policy) -> datetime:
    """Now, unless quiet hours hold a non-urgent alert until the next working instant."""
    route = policy.routes.get(alert.kind)
    if not policy.quiet_hours or (route is not None and route.urgent):
        return now
    return now if in_working_time(now, calendar) else calendar.next_working_instant(now)


def escalations_due(open_alerts: Iterable[Alert], now: datetime, calendar: CalendarLike,
                    policy: Policy) -> list[EscalationDue]:
    """Late-dossier alerts with no apology after N working hours, not yet escalated."""
    esc = policy.escalation
    candidates = [a for a in open_alerts if a.kind in esc.kinds and a.is_active
                  and a.owes_apology and a.escalated_at is None]
    return [EscalationDue(a, esc.roles, esc.channels,
                          calendar.add_working_hours(a.raised_at, esc.after_working_hours))
            for a in candidates
            if calendar.working_minutes_between(a.raised_at, now) >= esc.after_working_hours * 60]


def reminders_due(open_alerts: Iterable[Alert], now: datetime, calendar: CalendarLike,
                  policy: Policy) -> list[Alert]:
    """Late-dossier alerts whose apology letter is still not issued, every N working hours."""
    every = policy.apology.remind_every_working_hours * 60
    return [a for a in open_alerts
            if a.is_active and a.owes_apology
            and calendar.working_minutes_between(a.reminded_at or a.raised_at, now) >= every]


def digest_due(unit: str, last_digest_at: datetime | None, now: datetime,
               calendar: CalendarLike, policy: Policy) -> datetime | None:
    """Today's digest slot for `unit` if it has come and not been sent, else None.

    Record the returned slot (not `now`) as the unit's last digest: that keeps replicas and
    restarts idempotent. A missed slot is not caught up the next day: that day's digest covers it.
    """
    if not policy.digest.enabled:
        return None
    tz = calendar.hours.tz
    local = now.astimezone(tz)
    if not calendar.is_working_day(local.date()):
        return None
    slot = datetime.combine(local.date(), policy.digest.at, tzinfo=tz)
    if local < slot or (last_digest_at is not None and last_digest_at >= slot):
        return None
    return slot


def _kind(value: object, where: str) -> AlertKind:
    try:
        return AlertKind(str(value))
    except ValueError:
        raise PolicyError(f"policy: {where}: unknown alert kind {value!r}") from None


def _route(kind: str, value: Any) -> Route:
    if not isinstance(value, Mapping):
        raise PolicyError(f"policy: routes.{kind} must be a mapping")
    return Route(_names(value.get("roles", []), ROLES, f"routes.{kind}.roles"),
                 _names(value.get("channels", []), CHANNELS, f"routes.{kind}.channels"),
                 bool(value.get("urgent", False)))


def _names(values: Any, allowed: tuple[str, ...], where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or any(v not in allowed for v in values):
        raise PolicyError(f"policy: {where} must be a list drawn from {', '.join(allowed)}")
    return tuple(values)


def _positive(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise PolicyError(f"policy: {where}: expected a positive whole number, got {value!r}")
    return value


def _time(value: Any) -> time:
    if isinstance(value, time):
        return value
    try:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 16:30 as 990 (sexagesimal)
            return time(value // 60, value % 60)
        return time.fromisoformat(str(value))
    except ValueError:
        raise PolicyError(f"policy: digest.at: expected HH:MM, got {value!r}") from None
