"""Events the gateway's tests publish, built with the contracts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.contracts.dossiers import DossierAccepted, DossierSnapshot, Status
from services.contracts.notifications import AlertRaised, AlertView
from services.contracts.scoring import GroupPoints, RankingChanged, RankingEntry

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def ranking(version: int, leader: str = "H99.01", period: str = "2026-10",
            level: str = "department") -> RankingChanged:
    other = "H99.02" if leader != "H99.02" else "H99.01"
    return RankingChanged(
        scheme="qd766", level=level, period=period, as_of=date(2026, 10, 6), version=version,
        entries=[
            RankingEntry(unit_code=leader, rank=1, previous_rank=2, change=1, score_100=91.5,
                         total=80.5, measured_max=88, band="excellent",
                         groups=[GroupPoints(key="progress", points=20, max_points=20,
                                             measured_max=20)]),
            RankingEntry(unit_code=other, rank=2, previous_rank=1, change=-1, score_100=70.0,
                         total=61.6, measured_max=88, band="fair"),
        ])


def accepted(code: str, version: int = 1, unit: str = "H99.01",
             at: datetime | None = None) -> DossierAccepted:
    at = at or datetime(2026, 10, 6, 7, 30, tzinfo=VN)
    snap = DossierSnapshot(dossier_code=code, version=version, unit_code=unit,
                           procedure_code="1.005342", status=Status.ACCEPTED, accepted_at=at,
                           deadline_state="within")
    return DossierAccepted(dossier=snap)


def alert(key: str) -> AlertRaised:
    return AlertRaised(alert=AlertView(key=key, kind="overdue", state="open",
                                       unit_code="H99.01", dossier_code="D-1",
                                       raised_at=datetime(2026, 10, 6, 8, tzinfo=VN)))
