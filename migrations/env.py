"""Alembic environment shared by every service: each service has its own version folder
(`migrations/<service>/`) and version table, and only its own tables in its database."""

from __future__ import annotations

import importlib

from alembic import context
from sqlalchemy import MetaData

from services.common.db import make_engine

cfg = context.config
service = cfg.attributes.get("service") or cfg.get_main_option("service")
url = cfg.attributes.get("url") or cfg.get_main_option("sqlalchemy.url")
tables = importlib.import_module(f"services.{service}.adapters.orm").TABLES

target = MetaData(naming_convention=tables[0].metadata.naming_convention)
for table in tables:
    table.to_metadata(target)


def run() -> None:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target,
            version_table=f"alembic_version_{service}",
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
