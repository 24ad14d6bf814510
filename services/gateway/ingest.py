"""HTTP ingest: bodies checked and turned into messages for `parpulse.inbound`.

Message ids derive from the content, so an integrator that retries after a timeout or a 503
sends the same ids and the dossiers service applies each message once."""

from __future__ import annotations

import hashlib
import json
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
from services.integrator.messages import FORMAT_HEADER, routing_key

from .errors import BadRequest, ValidationFailed
from .schemas import DvcqgCall
from .views import first_error, json_body

MAX_EVENTS = 1000
_NS = uuid.UUID("6f1c1d0e-5b0a-4c47-9a53-5e4f1c2b7a10")
_ENVELOPES: dict[str, tuple[str, type[BaseModel]]] = {
    "DongBoHoSoMC": (FORMAT_DVCQG_SYNC, DvcqgSync),
    "CapNhatTienDoHoSoMC": (FORMAT_DVCQG_PROGRESS, DvcqgProgress),
}


def content_id(body: bytes) -> str:
    return str(uuid.uuid5(_NS, hashlib.sha256(body).hexdigest()))


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
    # isinstance first: `{} in dict` raises TypeError (unhashable), which was a 500.
    if not isinstance(service, str) or service not in _ENVELOPES:
        raise ValidationFailed(
            f"service must be DongBoHoSoMC or CapNhatTienDoHoSoMC, got {service!r}",
            field="service")
    if body.get("data") == []:
        raise ValidationFailed("data must hold at least one item", field="data")
    fmt, envelope = _ENVELOPES[service]
    # The body /openapi.json documents (the same for both calls), then what the dossiers
    # service reads of it: the first alone let e.g. any isUpdating through on progress calls.
    for model in (DvcqgCall, envelope):
        try:
            model.model_validate(body)
        except ValidationError as exc:
            field, text = first_error(exc)
            raise ValidationFailed(text, field=field) from None
    data = body["data"]
    unit = shared_unit(data) if fmt == FORMAT_DVCQG_SYNC else None
    return message(raw, fmt, unit)


def shared_unit(data: list[dict[str, Any]]) -> str | None:
    """The DonViXuLy every dossier of the call shares, for the routing key; else None (mixed).
    Not the integrator kit's single_unit: it puts the values in a set, and a DonViXuLy that is
    an object or a list (the dossiers service's to quarantine) made that a TypeError, a 500."""
    units = [item.get("DonViXuLy") for item in data]
    first = units[0] if units else None
    if isinstance(first, str) and first and all(u == first for u in units):
        return first
    return None


def integral(item: Any) -> Any:
    """`4.0` as `4`: JSON Schema counts a number with no fraction as an integer, strict pydantic
    does not. Only the top level: the native event is flat."""
    if not isinstance(item, dict):
        return item
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v
            for k, v in item.items()}


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
            # Strict, as /openapi.json documents the format: a flag is true or false, a status
            # an integer. Lax validation took 0, "2" or a Unix time too, which the document
            # does not allow; our own format has no legacy senders to humour (DVCQG does).
            event = NativeDossierEvent.model_validate_json(json.dumps(integral(item)),
                                                           strict=True)
        except ValidationError as exc:
            field, text = first_error(exc, f"events[{i}]")
            raise ValidationFailed(text, field=field, index=i) from None
        encoded = event.model_dump_json(exclude_none=True).encode()
        out.append(message(encoded, FORMAT_NATIVE, event.unit_code))
    return out
