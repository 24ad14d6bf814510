"""Time for services: the real clock, or a compressed one for demos (`CLOCK_START`, `CLOCK_SPEED`).

Domain code never reads the clock; handlers get `now` from here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Clock:
    """`start` is the instant the clock reads at `origin` (monotonic seconds); `speed` is how
    many clock seconds pass per real second."""

    start: datetime | None = None
    speed: float = 1.0
    origin: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        if self.start is None and self.speed == 1.0:
            return datetime.now(UTC)
        base = self.start or datetime.now(UTC)
        return base + timedelta(seconds=(time.monotonic() - self.origin) * self.speed)

    @classmethod
    def from_config(cls, start: str | datetime | None, speed: float | str | None) -> Clock:
        # YAML configuration may already have turned the value into a datetime.
        parsed = start if isinstance(start, datetime) else (
            datetime.fromisoformat(start) if start else None)
        if parsed is not None and parsed.tzinfo is None:
            raise ValueError("CLOCK_START must carry a UTC offset, e.g. 2026-11-23T07:00:00+07:00")
        value = float(speed) if speed not in (None, "") else 1.0
        if value <= 0:
            raise ValueError("CLOCK_SPEED must be positive")
        return cls(start=parsed, speed=value)
