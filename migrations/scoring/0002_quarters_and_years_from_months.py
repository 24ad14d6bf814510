"""quarters and years are sums of months

Counters used to be stored in four buckets per dossier (day, month, quarter, year). Quarters and
years are now read as sums of their months, so their cells are dropped and every ledger entry
keeps only its day and month buckets (the buckets a later delta is applied to).

Revision ID: scoring_0002
Revises: scoring_0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = 'scoring_0002'
down_revision = 'scoring_0001'
branch_labels = None
depends_on = None

_PAGE = 5000


def _rewrite_ledger(buckets_of):
    conn = op.get_bind()
    ledger = sa.table("scoring_ledger", sa.column("dossier_code", sa.String),
                      sa.column("buckets", sa.JSON))
    after = ""
    while True:
        rows = conn.execute(sa.select(ledger.c.dossier_code, ledger.c.buckets)
                            .where(ledger.c.dossier_code > after)
                            .order_by(ledger.c.dossier_code).limit(_PAGE)).all()
        if not rows:
            return
        changed = [{"code": code, "b": buckets_of(list(buckets or []))} for code, buckets in rows]
        changed = [c for c, (_, old) in zip(changed, rows) if c["b"] != list(old or [])]
        if changed:
            conn.execute(ledger.update().where(ledger.c.dossier_code == sa.bindparam("code"))
                         .values(buckets=sa.bindparam("b", type_=sa.JSON)), changed)
        after = rows[-1][0]


def upgrade() -> None:
    op.execute("DELETE FROM scoring_counters WHERE bucket LIKE '%-Q%' OR length(bucket) = 4")
    _rewrite_ledger(lambda buckets: buckets[:2])


def _quarter(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def downgrade() -> None:
    quarter = ("substr(bucket, 1, 4) || '-Q' || "
               "CAST((CAST(substr(bucket, 6, 2) AS INTEGER) - 1) / 3 + 1 AS VARCHAR(1))")
    for key in (quarter, "substr(bucket, 1, 4)"):
        op.execute(f"INSERT INTO scoring_counters (unit_code, bucket, name, value) "
                   f"SELECT unit_code, {key}, name, SUM(value) FROM scoring_counters "
                   f"WHERE length(bucket) = 7 AND bucket NOT LIKE '%-Q%' "
                   f"GROUP BY unit_code, {key}, name")
    _rewrite_ledger(lambda b: [*b[:2], _quarter(b[1]), b[1][:4]] if len(b) == 2 else b)
