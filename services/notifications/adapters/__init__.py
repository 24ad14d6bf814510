"""Delivery channels: email over SMTP and signed webhooks.

Senders never raise to the caller: every outcome, including a refusal by the personal-data
guard, comes back as a `DeliveryResult` the service records.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str | None = None  # the last error; never contains message content
    attempts: int = 0
    dead_lettered: bool = False  # given up for good: no further attempt will be made
    status: int | None = None  # the last HTTP status or SMTP reply code, when there was one
    blocked: bool = False  # refused before sending by the personal-data guard
    attempt_errors: tuple[str, ...] = ()


def backoff_delay(retry: int, base_s: float, factor: float, max_s: float) -> float:
    """The pause before retry number `retry` (1 for the first retry): base × factor^(retry-1)."""
    return float(min(max_s, base_s * factor ** (retry - 1)))


def guard_refusal(kinds: list[str]) -> DeliveryResult:
    return DeliveryResult(ok=False, error="blocked by the personal-data guard: " + ", ".join(kinds),
                          attempts=0, dead_lettered=True, blocked=True)
