"""What an integrator publishes: one AMQP message per inbound payload, with the properties the
dossiers service relies on (format in `type` and in a header, a unique `message_id`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pika

from services.contracts.inbound import (
    FORMAT_DVCQG_PROGRESS,
    FORMAT_DVCQG_SYNC,
    FORMAT_NATIVE,
    FORMATS,
    DvcqgProgress,
    DvcqgSync,
    NativeDossierEvent,
)

FORMAT_HEADER = "parpulse-format"
CONTENT_TYPE = "application/json"
MIXED_UNITS = "mixed"


def new_message_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class OutboundMessage:
    body: bytes
    fmt: str
    routing_key: str
    message_id: str = field(default_factory=new_message_id)
    headers: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ValueError(f"unknown inbound format {self.fmt!r}; expected one of {FORMATS}")
        if not self.message_id:
            raise ValueError("message_id must not be empty: the dossiers service dedups on it")

    def properties(self) -> pika.BasicProperties:
        return pika.BasicProperties(
            content_type=CONTENT_TYPE,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=self.message_id,
            type=self.fmt,
            headers={**self.headers, FORMAT_HEADER: self.fmt},
        )


def routing_key(fmt: str, unit_code: str | None) -> str:
    return f"{fmt}.{unit_code or MIXED_UNITS}"


def native_message(
    event: NativeDossierEvent | Mapping[str, Any], message_id: str | None = None
) -> OutboundMessage:
    """Validates a dict first, so an integrator learns of a bad field here, not in quarantine."""
    model = event if isinstance(event, NativeDossierEvent) else NativeDossierEvent.model_validate(
        event
    )
    return OutboundMessage(
        body=model.model_dump_json(exclude_none=True).encode(),
        fmt=FORMAT_NATIVE,
        routing_key=routing_key(FORMAT_NATIVE, model.unit_code),
        message_id=message_id or new_message_id(),
    )


def _dvcqg_message(
    fmt: str, body: Mapping[str, Any], unit_code: str | None, message_id: str | None
) -> OutboundMessage:
    return OutboundMessage(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        fmt=fmt,
        routing_key=routing_key(fmt, unit_code),
        message_id=message_id or new_message_id(),
    )


def single_unit(data: Any, key: str) -> str | None:
    """The unit shared by every element of a DVCQG `data` list, else None (routed as mixed)."""
    # Only strings count (an object or a list there is the dossiers service's to quarantine,
    # and cannot even go in a set).
    values = [item.get(key) for item in data if isinstance(item, Mapping)] if data else []
    if values and all(isinstance(v, str) and v == values[0] for v in values):
        return str(values[0]) or None
    return None


def dvcqg_sync_message(
    body: Mapping[str, Any], unit_code: str | None = None, message_id: str | None = None
) -> OutboundMessage:
    """Checks the envelope only: per-dossier errors are the dossiers service's to quarantine,
    as the national portal reports them per dossier too."""
    DvcqgSync.model_validate(body)
    unit = unit_code or single_unit(body.get("data"), "DonViXuLy")
    return _dvcqg_message(FORMAT_DVCQG_SYNC, body, unit, message_id)


def dvcqg_progress_message(
    body: Mapping[str, Any], unit_code: str | None = None, message_id: str | None = None
) -> OutboundMessage:
    """Progress steps name no unit: pass `unit_code` when the caller knows it."""
    DvcqgProgress.model_validate(body)
    return _dvcqg_message(FORMAT_DVCQG_PROGRESS, body, unit_code, message_id)


FailureKind = Literal["returned", "nacked", "unconfirmed"]


@dataclass(frozen=True)
class FailedMessage:
    message: OutboundMessage
    kind: FailureKind
    reason: str


class PublishError(Exception):
    """Some messages were not confirmed. Re-publishing `failed` (same message ids) is safe:
    the dossiers service drops a message id it has already applied."""

    def __init__(self, failed: list[FailedMessage], confirmed: int) -> None:
        self.failed = failed
        self.confirmed = confirmed
        kinds = sorted({f.kind for f in failed})
        first = failed[0].reason if failed else "no detail"
        super().__init__(
            f"{len(failed)} message(s) not delivered ({', '.join(kinds)}; first: {first}); "
            f"{confirmed} confirmed"
        )

    def of_kind(self, kind: FailureKind) -> list[FailedMessage]:
        return [f for f in self.failed if f.kind == kind]
