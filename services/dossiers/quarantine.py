"""Operators' view of quarantined input, and re-injection after a fix."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select

from services.common.tables import QuarantinedMessage
from services.common.topology import INBOUND_EXCHANGE
from services.common.uow import UnitOfWork, outbox_row
from services.contracts.dossiers import QuarantinedItem

STATES = ("open", "reinjected", "all")


class QuarantineError(LookupError):
    """An operator asked for something the quarantine cannot do; the message says why."""


def list_items(uow: UnitOfWork, state: str, limit: int,
               offset: int) -> tuple[list[QuarantinedItem], int]:
    if state not in STATES:
        raise QuarantineError(f"unknown state {state!r}: use one of {', '.join(STATES)}")
    with uow:
        query = select(QuarantinedMessage)
        count = select(func.count()).select_from(QuarantinedMessage)
        if state != "all":
            query = query.where(QuarantinedMessage.state == state)
            count = count.where(QuarantinedMessage.state == state)
        rows = uow.session.scalars(
            query.order_by(QuarantinedMessage.id.desc()).limit(limit).offset(offset))
        total = uow.session.scalar(count) or 0
        return [to_item(r) for r in rows], int(total)


def reinject(uow: UnitOfWork, quarantine_id: int, payload: str | None) -> QuarantinedItem:
    """Publish the item again (as it was, or as fixed by the operator) through the outbox, as a
    new message of the same format; the quarantine row records what became of it."""
    with uow:
        row = uow.session.get(QuarantinedMessage, quarantine_id)
        if row is None:
            raise QuarantineError(f"no quarantined message with id {quarantine_id}")
        if row.state != "open":
            raise QuarantineError(f"quarantined message {quarantine_id} is {row.state} already")
        body = payload.encode() if payload is not None else row.raw_payload
        fmt = row.source_format
        if row.item_index is not None:
            # One dossier of a DVCQG batch: re-send it as a batch of one.
            service = fmt.split(".", 1)[1]
            body = b'{"service": "' + service.encode() + b'", "data": [' + body + b"]}"
        message_id = str(uuid.uuid4())
        uow.add_outbox(outbox_row(
            message_id=message_id, exchange=INBOUND_EXCHANGE,
            routing_key=f"{fmt}.reinjected", message_type=fmt, body=body,
            headers={"parpulse-format": fmt, "parpulse-reinjected-from": str(quarantine_id)},
        ))
        row.state = "reinjected"
        row.resolved_at = datetime.now(UTC)
        row.reinjected_message_id = message_id
        item = to_item(row)
        uow.commit()
        return item


def to_item(row: QuarantinedMessage) -> QuarantinedItem:
    return QuarantinedItem(
        id=row.id, received_at=row.received_at, message_id=row.message_id,
        source_format=row.source_format, routing_key=row.routing_key,
        item_index=row.item_index, reason_code=row.reason_code, reason=row.reason,
        unit_code=row.unit_code, state=row.state,
        raw_payload=row.raw_payload.decode("utf-8", errors="replace"),
        reinjected_message_id=row.reinjected_message_id,
    )
