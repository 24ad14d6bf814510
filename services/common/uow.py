"""Unit of work: one transaction that holds a handler's effect, the events it emits (written to
the outbox) and the record that the message was processed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.contracts.base import Event

from .db import table_of
from .tables import OutboxMessage, ProcessedMessage, QuarantinedMessage

EVENTS_EXCHANGE = "parpulse.events"


def outbox_row(
    *,
    message_id: str,
    exchange: str,
    routing_key: str,
    message_type: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    return OutboxMessage(
        message_id=message_id,
        exchange=exchange,
        routing_key=routing_key,
        message_type=message_type,
        body=body,
        headers=headers or {},
        created_at=now or datetime.now(UTC),
        attempts=0,
    )


def event_row(event: Event, headers: dict[str, str] | None = None) -> OutboxMessage:
    return OutboxMessage(**event_values(event, headers))


def event_values(event: Event, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """The outbox row of an event, as column values (for one multi-row insert)."""
    return {
        "message_id": str(event.event_id),
        "exchange": EVENTS_EXCHANGE,
        "routing_key": event.TYPE,
        "message_type": event.TYPE,
        "body": event.model_dump_json().encode(),
        "headers": headers or {},
        "created_at": event.occurred_at,
        "attempts": 0,
    }


class UnitOfWork:
    """`with uow: ...; uow.commit()`; leaving the block without commit rolls back."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        on_commit: Callable[[], None] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._sessions = sessions
        self._on_commit = on_commit
        self._headers = headers or {}
        self.session: Session
        self.events: list[Event] = []
        self._event_headers: list[dict[str, str]] = []
        # What the last commit published: for metrics, which must count committed facts only.
        self.last_committed: list[Event] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.events, self._event_headers = [], []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self.session.close()

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self._event_headers.append(self._headers)

    def correlate(self, correlation_id: str | None) -> None:
        """Events emitted from now on carry this correlation id (one per message of a batch)."""
        if correlation_id:
            self._headers = {**self._headers, "correlation_id": correlation_id}

    def claim_messages(self, consumer: str, message_ids: list[str]) -> set[str]:
        """Record every id as processed by `consumer`; returns those that were not already.

        One statement for the batch. A replica inserting the same id concurrently makes this
        wait for its commit, then see the id as taken: one of the two processes it."""
        # Sorted: two batches claiming overlapping ids lock them in the same order.
        unique = sorted(set(message_ids))
        if not unique:
            return set()
        table = table_of(ProcessedMessage)
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        now = _now()
        claimed = self.session.execute(
            dialect.insert(table).on_conflict_do_nothing().returning(table.c.message_id),
            [{"consumer": consumer, "message_id": m, "processed_at": now} for m in unique])
        return set(claimed.scalars())

    def add_outbox(self, row: OutboxMessage) -> None:
        self.session.add(row)

    def claim_message(self, consumer: str, message_id: str) -> bool:
        """Record `message_id` as processed by `consumer`; False if it already was.

        Two replicas racing on one redelivered message both pass this check; the second one's
        commit then fails on the primary key and its message is retried, finding the record.
        """
        if self.session.get(ProcessedMessage, (consumer, message_id)) is not None:
            return False
        self.session.add(
            ProcessedMessage(consumer=consumer, message_id=message_id, processed_at=_now())
        )
        return True

    def quarantine(self, **fields: Any) -> QuarantinedMessage:
        row = QuarantinedMessage(received_at=_now(), state="open", **fields)
        self.session.add(row)
        self.session.flush()
        return row

    def commit(self) -> None:
        if self.events:
            self.session.flush()
            self.session.execute(insert(table_of(OutboxMessage)), [
                event_values(e, h) for e, h in zip(self.events, self._event_headers,
                                                   strict=True)])
        self.session.commit()
        self.last_committed, self.events, self._event_headers = self.events, [], []
        if self._on_commit is not None:
            self._on_commit()

    def rollback(self) -> None:
        self.session.rollback()
        self.events, self._event_headers = [], []


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["EVENTS_EXCHANGE", "IntegrityError", "UnitOfWork", "event_row", "event_values",
           "outbox_row"]
