"""Engines, the declarative base and column types shared by every service's tables."""

from __future__ import annotations

import os
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, Table, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def upsert_many(session: Any, stmt: Any, rows: list[dict[str, Any]], key: Any) -> None:
    """Run an `INSERT ... ON CONFLICT` for many rows as multi-row statements.

    SQLAlchemy batches an executemany INSERT into multi-row VALUES, but an ON CONFLICT one only
    when it has RETURNING (sqlalchemy#13130); without, every row is a statement of its own, and
    the database parses and plans each. `key` is the column returned (and ignored)."""
    if rows:
        session.execute(stmt.returning(key), rows).close()


def table_of(model: type[Base]) -> Table:
    """A model's Table, typed as one, for Core statements on the hot paths (no ORM objects)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite as on PostgreSQL.

    SQLite has no time zones: storing naive UTC keeps ordering and comparisons right there.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _green_psycopg2() -> None:
    # psycopg2 blocks the whole eventlet hub on every query unless its wait callback is green.
    if "eventlet" in sys.modules:
        import eventlet.patcher

        if eventlet.patcher.is_monkey_patched("socket"):
            from psycogreen.eventlet import patch_psycopg

            patch_psycopg()


_SQLITE_LOCKS: dict[str, Any] = {}
_SQLITE_LOCKS_GUARD = threading.Lock()


def _sqlite_writer_lock(database: str) -> Any:
    key = os.path.realpath(database) if database != ":memory:" else database
    with _SQLITE_LOCKS_GUARD:
        return _SQLITE_LOCKS.setdefault(key, threading.Lock())


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg2 here (SQLAlchemy 2.1 would pick psycopg 3, which has no
    eventlet support)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def make_engine(url: str, pool_size: int = 10, echo: bool = False) -> Engine:
    """An engine sized for `pool_size` concurrent workers, with the dialect's safe settings."""
    url = normalise_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Python's sqlite3 opens transactions lazily; BEGIN IMMEDIATE on our own terms keeps
            # read-modify-write units of work serialised instead of failing with SQLITE_BUSY.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # SQLite allows one writer. Under eventlet a green thread waiting in sqlite's busy
        # handler blocks the whole process, including the green thread holding the write lock:
        # a deadlock until the timeout. A green-aware lock, one per database file and shared by
        # every engine of the process, makes the waiting cooperative.
        writer = _sqlite_writer_lock(engine.url.database or ":memory:")

        def _release(info: dict[str, Any]) -> None:
            if info.pop("parpulse_writer", False):
                writer.release()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            writer.acquire()
            conn.info["parpulse_writer"] = True
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except Exception:
                _release(conn.info)
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _sqlite_end(conn: Any) -> None:
            _release(conn.info)

        @event.listens_for(engine.pool, "checkin")
        def _sqlite_checkin(_dbapi: Any, record: Any) -> None:
            _release(record.info)

        return engine
    if url.startswith("postgresql"):
        _green_psycopg2()
        # values_plus_batch: an executemany UPDATE (a batch's changed rows) goes to the server
        # in pages, not one round trip per row.
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                      executemany_mode="values_plus_batch")
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
