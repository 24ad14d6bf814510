"""The outbox relay: publishes committed outbox rows and marks them sent after the confirm.

Rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number of replicas can
relay at once without publishing a row twice in normal operation. A crash between the confirm
and the commit republishes the batch: consumers are idempotent on the message id.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from .db import table_of
from .metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED
from .publisher import BatchResult, OutgoingMessage
from .tables import OutboxMessage

log = logging.getLogger(__name__)

_OUTBOX = table_of(OutboxMessage)


class BatchPublisher(Protocol):
    def publish_batch(self, messages: list[OutgoingMessage]) -> BatchResult: ...


class OutboxRelay:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        publisher: BatchPublisher,
        service: str,
        batch_size: int = 500,
        keep_sent: timedelta = timedelta(hours=24),
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._service = service
        self.batch_size = batch_size
        self._keep_sent = keep_sent

    def relay_once(self) -> int:
        """Publish one batch of pending rows; returns how many were confirmed."""
        table = _OUTBOX
        with self._sessions() as session, session.begin():
            query = (
                select(table.c.id, table.c.message_id, table.c.exchange, table.c.routing_key,
                       table.c.message_type, table.c.body, table.c.headers)
                .where(table.c.sent_at.is_(None))
                .order_by(table.c.id)
                .limit(self.batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if not rows:
                return 0
            result = self._publisher.publish_batch([_outgoing(r) for r in rows])
            confirmed = set(result.confirmed)
            sent = [r.id for r in rows if r.message_id in confirmed]
            if sent:
                session.execute(update(table).where(table.c.id.in_(sent))
                                .values(sent_at=datetime.now(UTC)))
            for row in rows:
                if row.message_id not in confirmed:
                    error = result.failed.get(row.message_id, "not confirmed")[:500]
                    session.execute(update(table).where(table.c.id == row.id).values(
                        attempts=table.c.attempts + 1, last_error=error))
            if result.failed:
                log.error("outbox: %d of %d not published: %s", len(result.failed),
                          len(rows), next(iter(result.failed.values())))
            OUTBOX_PUBLISHED.labels(self._service).inc(len(confirmed))
            return len(confirmed)

    def observe_backlog(self) -> tuple[int, float]:
        with self._sessions() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.sent_at.is_(None)
                )
            ).one()
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        OUTBOX_BACKLOG.labels(self._service).set(count)
        OUTBOX_OLDEST_AGE.labels(self._service).set(age)
        return int(count), age

    def purge_sent(self) -> int:
        cutoff = datetime.now(UTC) - self._keep_sent
        with self._sessions() as session, session.begin():
            result: Any = session.execute(
                delete(OutboxMessage).where(OutboxMessage.sent_at < cutoff)
            )
            return int(result.rowcount or 0)


def _outgoing(row: Any) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=row.message_id,
        exchange=row.exchange,
        routing_key=row.routing_key,
        message_type=row.message_type,
        body=row.body,
        headers=dict(row.headers or {}),
    )
