"""Events emitted by the dossiers service, and the snapshot every one of them carries.

Every event carries the whole (non-personal) state of the dossier with a per-dossier `version`
that grows by one on every change. Consumers keep the highest version they have applied and
ignore older ones, so redelivered or reordered events never undo newer state.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import AwareDatetime

from .base import Contract, Event, register


class Status(IntEnum):
    """TrangThaiHoSo, as DVCQG and the provincial systems number it."""

    SUBMITTED = 1
    ACCEPTED = 2
    REFUSED = 3
    IN_PROCESSING = 4
    SUPPLEMENT_REQUESTED = 5
    AWAITING_PAYMENT = 6
    WITHDRAWN = 7
    SUSPENDED = 8
    DECIDED = 9
    RETURNED = 10


class Channel(IntEnum):
    IN_PERSON = 1
    ONLINE = 2
    POST = 3


class Outcome(StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


class DeadlineState(StrEnum):
    WITHIN = "within"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    NOT_STARTED = "not_started"


class DossierSnapshot(Contract):
    """The dossier as the dossiers service knows it after a change. No personal data."""

    dossier_code: str
    version: int
    unit_code: str
    procedure_code: str
    status: Status
    channel: Channel | None = None
    applicant_type: int | None = None
    submitted_at: AwareDatetime | None = None
    accepted_at: AwareDatetime | None = None
    # The due date that decides lateness: the source's NgayHenTra when sent, else our own.
    due_at: AwareDatetime | None = None
    computed_due_at: AwareDatetime | None = None
    source_due_at: AwareDatetime | None = None
    due_date_disagrees: bool = False
    completed_at: AwareDatetime | None = None
    returned_at: AwareDatetime | None = None
    outcome: Outcome | None = None
    deadline_state: DeadlineState | None = None
    supplement_count: int = 0
    paused: bool = False
    apology_issued_at: AwareDatetime | None = None
    # Indicator inputs; None means the source did not say.
    synced_national: bool | None = None
    fee_bearing: bool | None = None
    paid_online: bool | None = None
    digitised: bool | None = None
    data_reused: bool | None = None
    from_national_store: bool | None = None
    vneid_verified: bool | None = None
    e_result: bool | None = None
    needs_result: bool | None = None

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


CLOSED_STATUSES = frozenset(
    {Status.REFUSED, Status.WITHDRAWN, Status.DECIDED, Status.RETURNED}
)


class DossierEvent(Event):
    dossier: DossierSnapshot


@register
class DossierAccepted(DossierEvent):
    TYPE = "dossier.accepted"


@register
class DossierStatusChanged(DossierEvent):
    TYPE = "dossier.status_changed"
    from_status: Status | None = None
    to_status: Status


@register
class DossierPaused(DossierEvent):
    TYPE = "dossier.paused"
    reason: Status


@register
class DossierResumed(DossierEvent):
    TYPE = "dossier.resumed"


@register
class DossierCompleted(DossierEvent):
    TYPE = "dossier.completed"
    outcome: Outcome


@register
class ApologyIssued(DossierEvent):
    TYPE = "dossier.apology_issued"
    new_due_at: AwareDatetime | None = None


@register
class DossierDueSoon(DossierEvent):
    TYPE = "dossier.due_soon"
    remaining_working_minutes: int


@register
class DossierOverdue(DossierEvent):
    TYPE = "dossier.overdue"


@register
class DossierRevised(DossierEvent):
    """A change that moves no status: a late-arriving older event, a new due date, new flags."""

    TYPE = "dossier.revised"


@register
class MessageQuarantined(Event):
    """Inbound input that could not be applied. The raw payload stays in the dossiers service."""

    TYPE = "inbound.quarantined"
    quarantine_id: int
    source_format: str
    reason: str
    unit_code: str | None = None


class DossierRef(Contract):
    dossier_code: str


# -- RPC payloads of the dossiers service ---------------------------------------------------


class StatusEntryView(Contract):
    status: Status
    at: AwareDatetime


class PauseView(Contract):
    start: AwareDatetime
    end: AwareDatetime | None = None


class DossierDetail(Contract):
    """A dossier for people: personal data masked, the deadline spelled out."""

    dossier: DossierSnapshot
    holder_name: str | None = None
    holder_id_number: str | None = None
    email: str | None = None
    phone: str | None = None
    history: list[StatusEntryView] = []
    pauses: list[PauseView] = []
    remaining_working_minutes: int | None = None
    elapsed_working_minutes: int | None = None


class QuarantinedItem(Contract):
    id: int
    received_at: AwareDatetime
    message_id: str | None = None
    source_format: str
    routing_key: str | None = None
    item_index: int | None = None
    reason_code: str
    reason: str
    unit_code: str | None = None
    state: str
    # The raw input, which may hold personal data: only shown to operators, never in events.
    raw_payload: str
    reinjected_message_id: str | None = None


class Page(Contract):
    total: int
    limit: int
    offset: int
