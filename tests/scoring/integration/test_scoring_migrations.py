"""scoring_0002: counters stored by quarter and year before become sums of months, and the
ledger entries keep only the buckets a later delta is applied to; downgrade restores them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from services.common.db import make_engine
from services.common.migrate import alembic_config, upgrade


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = make_engine(url, pool_size=1)
    with engine.connect() as conn:
        found = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return sorted(found)


def test_quarters_and_years_become_sums_of_months_and_back(database_url: str) -> None:
    upgrade("scoring", database_url, "scoring_0001")
    engine = make_engine(database_url, pool_size=1)
    with engine.begin() as conn:
        cells = [("U1", b, "received", 2) for b in ("2026-11-03", "2026-11", "2026-Q4", "2026")]
        cells += [("U1", b, "received", 1) for b in ("2026-10-01", "2026-10")]
        for unit, bucket, name, value in cells:
            conn.execute(text("INSERT INTO scoring_counters (unit_code, bucket, name, value) "
                              "VALUES (:u, :b, :n, :v)"),
                         {"u": unit, "b": bucket, "n": name, "v": value})
        conn.execute(text(
            "INSERT INTO scoring_ledger (dossier_code, version, unit_code, anchor_day, buckets,"
            " contribution) VALUES ('D-1', 3, 'U1', '2026-11-03', "
            "'[\"2026-11-03\", \"2026-11\", \"2026-Q4\", \"2026\"]', '{\"received\": 1}')"))
    engine.dispose()

    upgrade("scoring", database_url)
    assert _rows(database_url, "SELECT bucket, value FROM scoring_counters") == [
        ("2026-10", 1), ("2026-10-01", 1), ("2026-11", 2), ("2026-11-03", 2)]
    assert _rows(database_url, "SELECT buckets FROM scoring_ledger") in (
        [('["2026-11-03", "2026-11"]',)], [(["2026-11-03", "2026-11"],)])

    command.downgrade(alembic_config("scoring", database_url), "scoring_0001")
    assert _rows(database_url, "SELECT bucket, value FROM scoring_counters") == [
        ("2026", 3), ("2026-10", 1), ("2026-10-01", 1), ("2026-11", 2), ("2026-11-03", 2),
        ("2026-Q4", 3)]
