"""Each service's migrations build exactly the schema its models describe, on SQLite and on
PostgreSQL, and downgrade cleanly."""

from __future__ import annotations

import importlib

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect

from services.common.db import make_engine
from services.common.migrate import alembic_config, upgrade

SERVICES = ["dossiers", "scoring", "notifications", "gateway"]


def model_metadata(service: str) -> MetaData:
    tables = importlib.import_module(f"services.{service}.adapters.orm").TABLES
    target = MetaData(naming_convention=tables[0].metadata.naming_convention)
    for table in tables:
        table.to_metadata(target)
    return target


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_build_the_models_schema(service: str, database_url: str) -> None:
    upgrade(service, database_url)
    engine = make_engine(database_url, pool_size=1)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_version_table})
        diffs = compare_metadata(context, model_metadata(service))
    engine.dispose()
    assert diffs == []


def _not_version_table(name: str | None, type_: str, parent: object) -> bool:
    return not (type_ == "table" and (name or "").startswith("alembic_version"))


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_downgrade_to_nothing(service: str, database_url: str) -> None:
    upgrade(service, database_url)
    command.downgrade(alembic_config(service, database_url), "base")
    engine = make_engine(database_url, pool_size=1)
    left = set(inspect(engine).get_table_names())
    engine.dispose()
    assert left <= {f"alembic_version_{service}"}
