"""The shapes the simulator needs from the province reference data, and what it produces.

Typed structurally so the generator depends on no loader: `services.common.reference.Province`
fits, and so do small stand-ins in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from services.contracts.dossiers import Channel, Status


class UnitLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def level(self) -> str: ...
    def is_valid_on(self, d: date) -> bool: ...


class ProcedureLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def field_code(self) -> str: ...
    @property
    def statutory_amount(self) -> float: ...
    @property
    def statutory_unit(self) -> str: ...
    @property
    def fee_bearing(self) -> bool: ...
    @property
    def levels(self) -> Sequence[str]: ...


class ProvinceLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def units(self) -> Sequence[UnitLike]: ...
    @property
    def procedures(self) -> Sequence[ProcedureLike]: ...


@dataclass(frozen=True)
class Supplement:
    requested_at: datetime
    due_before: datetime
    received_at: datetime | None = None
    due_after: datetime | None = None


@dataclass(frozen=True)
class DossierState:
    """What the one-stop system knows about a dossier right after one step."""

    code: str
    unit: UnitLike
    procedure: ProcedureLike
    channel: Channel
    applicant_type: int
    status: Status
    at: datetime
    submitted_at: datetime
    accepted_at: datetime | None = None
    due_at: datetime | None = None
    completed_at: datetime | None = None
    returned_at: datetime | None = None
    supplements: tuple[Supplement, ...] = ()
    flags: dict[str, bool] = field(default_factory=dict)
    paid_on_provincial_portal: bool = False  # DuocThanhToanTrucTuyen 2 rather than 1
    personal: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Emission:
    """One lifecycle step, ready to publish once the simulated clock reaches `at`.

    `payload` is a `parpulse.dossier.v1` event, or one element of a DVCQG call's `data` list
    (`updating` is the call's isUpdating)."""

    at: datetime
    dossier_code: str
    unit_code: str
    status: Status
    fmt: str
    payload: dict[str, Any]
    updating: bool = True
