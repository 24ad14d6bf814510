"""HTTP ingest: bodies checked and turned into messages for `parpulse.inbound`.

Message ids derive from the content, so an integrator that retries after a timeout or a 503
sends the same ids and the dossiers service applies each message once."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from pydantic import BaseModel, ValidationError

from services.common.publisher import OutgoingMessage
from services.common.topology import INBOUND_EXCHANGE
from services.contracts.inbound import (
    FORMAT_DVCQG_PROGRESS,
    FORMAT_DVCQG_SYNC,
    FORMAT_NATIVE,
    DvcqgProgress,
    DvcqgSync,
    NativeDossierEvent,
)
from services.integrator.messages import FORMAT_HEADER, routing_key, single_unit

from .errors import BadRequest, ValidationFailed
from .views import json_body

MAX_EVENTS = 1000
_NS = uuid.UUID("6f1c1d0e-5b0a-4c47-9a53-5e4f1c2b7a10")
_ENVELOPES: dict[str, tuple[str, type[BaseModel]]] = {
    "DongBoHoSoMC": (FORMAT_DVCQG_SYNC, DvcqgSync),
    "CapNhatTienDoHoSoMC": (FORMAT_DVCQG_PROGRESS, DvcqgProgress),
}


def content_id(body: bytes) -> str:
    return str(uuid.uuid5(_NS, hashlib.sha256(body).hexdigest()))


def where(prefix: str, error: Any) -> str:
    path = prefix
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def first_error(exc: ValidationError, prefix: str = "") -> tuple[str, str]:
    error = exc.errors()[0]
    field = where(prefix, error)
    return field, f"{field}: {error['msg']}"


def message(body: bytes, fmt: str, unit: str | None) -> OutgoingMessage:
    return OutgoingMessage(message_id=content_id(body), exchange=INBOUND_EXCHANGE,
                           routing_key=routing_key(fmt, unit), message_type=fmt, body=body,
                           headers={FORMAT_HEADER: fmt, "parpulse-source": "gateway"})


def dvcqg_message(raw: bytes) -> OutgoingMessage:
    """The DVCQG call exactly as received. The envelope is checked here; a bad dossier inside a
    good envelope is the dossiers service's to quarantine, one dossier at a time, as the
    national portal reports them."""
    body = json_body(raw)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with service and data")
    service = body.get("service")
    if service not in _ENVELOPES:
        raise ValidationFailed(
            f"service must be DongBoHoSoMC or CapNhatTienDoHoSoMC, got {service!r}",
            field="service")
    fmt, envelope = _ENVELOPES[service]
    try:
        envelope.model_validate(body)
    except ValidationError as exc:
        field, text = first_error(exc)
        raise ValidationFailed(text, field=field) from None
    data = body["data"]
    if not data:
        raise ValidationFailed("data must hold at least one item", field="data")
    unit = single_unit(data, "DonViXuLy") if fmt == FORMAT_DVCQG_SYNC else None
    return message(raw, fmt, unit)


def event_messages(raw: bytes) -> list[OutgoingMessage]:
    """One message per native event; every event is validated before any is published."""
    body = json_body(raw)
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise BadRequest('the body must be {"events": [...]}')
    if not 1 <= len(events) <= MAX_EVENTS:
        raise ValidationFailed(f"events must hold 1 to {MAX_EVENTS} items, got {len(events)}",
                               field="events")
    out = []
    for i, item in enumerate(events):
        try:
            event = NativeDossierEvent.model_validate(item)
        except ValidationError as exc:
            field, text = first_error(exc, f"events[{i}]")
            raise ValidationFailed(text, field=field, index=i) from None
        encoded = event.model_dump_json(exclude_none=True).encode()
        out.append(message(encoded, FORMAT_NATIVE, event.unit_code))
    return out
