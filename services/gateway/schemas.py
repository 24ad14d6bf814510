"""What the gateway's HTTP API answers and accepts, as pydantic models: the OpenAPI document is
generated from these, so it describes the code."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.contracts.dossiers import DossierDetail, DossierSnapshot, QuarantinedItem
from services.contracts.inbound import NativeDossierEvent
from services.contracts.notifications import AlertView
from services.contracts.scoring import GroupPoints, Scorecard


class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case error name, e.g. validation_error")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class UnitView(BaseModel):
    code: str
    name: str
    name_en: str | None = None
    level: str
    valid_from: date | None = None
    valid_to: date | None = None


class ProcedureView(BaseModel):
    code: str
    name: str
    field_name: str
    statutory_amount: float
    statutory_unit: str
    fee_bearing: bool


class RankingEntryView(BaseModel):
    unit_code: str
    unit_name: str | None = None
    unit_name_en: str | None = None
    rank: int | None = None
    previous_rank: int | None = None
    change: int | None = None
    previous_period_rank: int | None = None
    period_change: int | None = None
    score_100: float | None = None
    total: float = 0.0
    measured_max: float = 0.0
    band: str | None = None
    groups: list[GroupPoints] = []


class RankingView(BaseModel):
    scheme: str
    level: str
    period: str
    as_of: date
    version: int | None = None
    entries: list[RankingEntryView]


class ScorecardView(Scorecard):
    unit_name: str | None = None
    unit_name_en: str | None = None


class Kpis(BaseModel):
    as_of: str
    received_today: int
    on_time_rate: float | None = Field(description="early or on time / closed this month")
    open_overdue: int
    due_soon: int
    open_total: int


class Page(BaseModel):
    total: int | None
    limit: int
    offset: int


class UnitList(Page):
    items: list[UnitView]


class ProcedureList(Page):
    items: list[ProcedureView]


class DossierList(Page):
    items: list[DossierSnapshot]


class AlertList(Page):
    items: list[AlertView]


class QuarantineList(Page):
    items: list[QuarantinedItem]


# No NUL: PostgreSQL text cannot hold it (and a JSON text never contains a raw one).
NUL_FREE = r"^[^\x00]*$"


class AckRequest(BaseModel):
    by: str | None = Field(default=None, max_length=128, pattern=NUL_FREE,
                           description="who acknowledges; default: the token's name")


class ReinjectRequest(BaseModel):
    payload: str | None = Field(default=None, pattern=NUL_FREE,
                                description="the fixed raw JSON, if any")


class DvcqgCall(BaseModel):
    """The DVCQG call body, as sent to the national portal (unknown fields kept)."""

    model_config = {"extra": "allow"}
    service: Literal["DongBoHoSoMC", "CapNhatTienDoHoSoMC"]
    # The portal's flags come as "True"/"False", true/false or 0/1.
    isUpdating: str | bool | Literal[0, 1] | None = None
    data: list[dict[str, Any]] = Field(min_length=1)


class DvcqgAnswer(BaseModel):
    error_code: str = Field(description='"0" on success')
    message: str


class IngestEvents(BaseModel):
    events: list[NativeDossierEvent] = Field(min_length=1, max_length=1000)


class IngestAccepted(BaseModel):
    accepted: int
    message_ids: list[str]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    ready: bool
    database: bool
    broker: bool


__all__ = ["AlertView", "DossierDetail"]
