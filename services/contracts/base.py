"""Base classes for everything that crosses a process boundary.

Contracts are additive-only: a new field must have a default, a field is never renamed or
removed, and `schema_version` is bumped when a field is added so consumers can tell.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(UTC)


class Contract(BaseModel):
    """A message or payload: immutable, and tolerant of fields added by newer producers."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(Contract):
    """A domain event published on `parpulse.events` with routing key `TYPE`."""

    TYPE: ClassVar[str] = ""

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    schema_version: int = 1

    @property
    def type(self) -> str:
        return self.TYPE


EVENT_TYPES: dict[str, type[Event]] = {}


def register(cls: type[Event]) -> type[Event]:
    """Class decorator: makes an event type decodable by its routing key."""
    if not cls.TYPE or cls.TYPE in EVENT_TYPES:
        raise ValueError(f"event type {cls.TYPE!r} is empty or registered twice")
    EVENT_TYPES[cls.TYPE] = cls
    return cls


def decode_event(event_type: str, body: bytes | str | dict[str, Any]) -> Event:
    """Parse an event body by its type; raises KeyError for an unknown type."""
    cls = EVENT_TYPES[event_type]
    if isinstance(body, dict):
        return cls.model_validate(body)
    return cls.model_validate_json(body)
