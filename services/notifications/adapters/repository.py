"""Alert and delivery persistence: the port the handlers use, and its SQLAlchemy adapter."""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db import table_of, upsert_many

from ..domain.alerts import APOLOGY_KINDS, Alert, AlertKind, AlertState
from ..domain.apology import ApologyDraft
from ..domain.contacts import Target
from . import DeliveryResult
from .orm import AlertRow, DeliveryRow, DigestSlot, DossierVersion

_VERSIONS = table_of(DossierVersion)
_ALERT_FIELDS = ("acknowledged_at", "acknowledged_by", "resolved_at", "resolution",
                 "apology_issued_at", "escalated_at", "reminded_at")


@dataclass(frozen=True)
class PendingDelivery:
    id: int
    alert_key: str
    purpose: str
    target: Target
    not_before: datetime
    content: dict[str, Any] | None = None  # pre-rendered (digests); else rendered from the alert


@dataclass(frozen=True)
class StoredApology:
    alert_key: str
    dossier_code: str
    subject: str
    body_text: str
    new_due_at: datetime | None


class AlertRepository(abc.ABC):
    def preload(self, dossier_codes: Iterable[str]) -> None:  # noqa: B027 (optional)
        """Read (and lock) the versions and alerts of a batch's dossiers at once, so that
        `advance_version` and `for_dossier` answer from memory."""

    def flush(self) -> None:  # noqa: B027 (optional)
        """Write what was kept back; the unit of work calls it before it commits."""

    @abc.abstractmethod
    def add(self, alert: Alert) -> bool:
        """Insert by key; False (and nothing written) when the key exists already."""

    @abc.abstractmethod
    def get(self, key: str) -> Alert | None: ...

    @abc.abstractmethod
    def update(self, alert: Alert) -> None: ...

    @abc.abstractmethod
    def for_dossier(self, dossier_code: str) -> list[Alert]: ...

    @abc.abstractmethod
    def search(self, unit_code: str | None, kind: str | None, state: str | None, limit: int,
             offset: int) -> list[Alert]: ...

    @abc.abstractmethod
    def set_apology(self, key: str, draft: ApologyDraft) -> None: ...

    @abc.abstractmethod
    def apology_for(self, dossier_code: str) -> StoredApology | None:
        """The latest draft kept for the dossier, if any."""

    @abc.abstractmethod
    def claim_owing_apology(self, limit: int) -> list[Alert]:
        """Active late-dossier alerts with no apology yet, locked (skipping rows other replicas
        hold) until the unit of work ends."""

    @abc.abstractmethod
    def add_delivery(self, alert_key: str, purpose: str, target: Target, not_before: datetime,
                     now: datetime, round_: int = 0,
                     content: dict[str, Any] | None = None) -> bool: ...

    @abc.abstractmethod
    def advance_version(self, dossier_code: str, version: int) -> bool:
        """Records `version` as the dossier's latest unless a newer one was applied; False for
        an older (stale) version. The row stays locked until the unit of work ends."""

    @abc.abstractmethod
    def units_with_active_alerts(self) -> list[str]: ...

    @abc.abstractmethod
    def active_for_unit(self, unit_code: str) -> list[Alert]: ...

    @abc.abstractmethod
    def last_digest(self, unit_code: str) -> datetime | None: ...

    @abc.abstractmethod
    def record_digest(self, unit_code: str, slot: datetime, now: datetime) -> bool:
        """True the first time (unit, slot) is recorded, False ever after (any replica)."""

    @abc.abstractmethod
    def claim_deliveries(self, now: datetime, lease: timedelta,
                         limit: int) -> list[PendingDelivery]:
        """Pending deliveries due now and not leased; leased to the caller until now + lease."""

    @abc.abstractmethod
    def record_delivery(self, delivery_id: int, result: DeliveryResult, at: datetime,
                        outcome: str | None = None) -> str:
        """Stores the outcome; returns it (delivered, failed, blocked, or `outcome` when given,
        e.g. cancelled)."""


def address_hash(target: Target) -> str:
    return hashlib.sha256(f"{target.channel}:{target.address}".encode()).hexdigest()


class SqlAlertRepository(AlertRepository):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"
        # Preloaded dossiers: the version stored (None: no row yet), the version applied in
        # this unit of work, and their alerts.
        self._stored: dict[str, int | None] = {}
        self._versions: dict[str, int | None] = {}
        self._alerts: dict[str, list[Alert]] = {}
        self._added: dict[str, AlertRow] = {}  # alerts of preloaded dossiers added here
        self._rows: dict[str, AlertRow] = {}  # the rows of preloaded alerts, locked by preload

    def preload(self, dossier_codes: Iterable[str]) -> None:
        codes = sorted(set(dossier_codes) - set(self._versions))
        if not codes:
            return
        # A row per dossier, version 0 until an event is applied, inserted if missing and then
        # locked: batches and replicas handling the same dossier take turns on it, so what
        # they read of its alerts stays true until they commit.
        dialect = postgresql if self._postgres else sqlite
        upsert_many(self.session, dialect.insert(_VERSIONS).on_conflict_do_nothing(),
                    [{"dossier_code": c, "version": 0} for c in codes], _VERSIONS.c.dossier_code)
        versions = select(_VERSIONS.c.dossier_code, _VERSIONS.c.version).where(
            _VERSIONS.c.dossier_code.in_(codes)).order_by(_VERSIONS.c.dossier_code)
        alerts = select(AlertRow).where(AlertRow.dossier_code.in_(codes)).order_by(AlertRow.id)
        if self._postgres:
            versions, alerts = versions.with_for_update(), alerts.with_for_update()
        found: dict[str, int] = {c: v for c, v in self.session.execute(versions)}
        for code in codes:
            self._stored[code] = self._versions[code] = found.get(code) or None
            self._alerts[code] = []
        for row in self.session.scalars(alerts):
            if row.dossier_code is not None:
                self._alerts[row.dossier_code].append(to_domain(row))
                self._rows[row.key] = row

    def flush(self) -> None:
        changed = [(c, v) for c, v in sorted(self._versions.items())
                   if v is not None and v != self._stored[c]]
        if changed:
            self.session.execute(update(_VERSIONS).where(
                _VERSIONS.c.dossier_code == bindparam("code")).values(version=bindparam("v")),
                [{"code": c, "v": v} for c, v in changed])
        self._stored.update(changed)

    def _row(self, key: str) -> AlertRow | None:
        query = select(AlertRow).where(AlertRow.key == key)
        if self._postgres:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def add(self, alert: Alert) -> bool:
        known = self._alerts.get(alert.dossier_code) if alert.dossier_code else None
        if known is not None:
            # A preloaded dossier: its alerts are all known and its row is locked by us, so no
            # replica can be adding the same key meanwhile.
            if any(a.key == alert.key for a in known):
                return False
            row = AlertRow(key=alert.key)
            _copy(alert, row)
            self.session.add(row)
            self._added[alert.key] = row
            known.append(alert)
            return True
        if self.session.scalars(select(AlertRow.id).where(AlertRow.key == alert.key)).first():
            return False
        try:
            # A replica inserting the same key concurrently makes this fail, not duplicate.
            with self.session.begin_nested():
                row = AlertRow(key=alert.key)
                _copy(alert, row)
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    def get(self, key: str) -> Alert | None:
        row = self.session.scalars(select(AlertRow).where(AlertRow.key == key)).one_or_none()
        return to_domain(row) if row is not None else None

    def update(self, alert: Alert) -> None:
        kept = self._added.get(alert.key) or self._rows.get(alert.key)
        if kept is not None:
            # Read and locked by preload, or added in this unit of work: the session writes
            # the change with the batch's others at the commit.
            _copy(alert, kept)
        else:
            row = self._row(alert.key)
            if row is None:
                raise KeyError(alert.key)
            _copy(alert, row)
            self.session.flush()
        known = self._alerts.get(alert.dossier_code or "")
        if known is not None:
            self._alerts[alert.dossier_code or ""] = [
                alert if a.key == alert.key else a for a in known]

    def for_dossier(self, dossier_code: str) -> list[Alert]:
        if dossier_code in self._alerts:
            return list(self._alerts[dossier_code])
        query = select(AlertRow).where(AlertRow.dossier_code == dossier_code).order_by(AlertRow.id)
        if self._postgres:
            query = query.with_for_update()
        return [to_domain(r) for r in self.session.scalars(query)]

    def search(self, unit_code: str | None, kind: str | None, state: str | None, limit: int,
             offset: int) -> list[Alert]:
        query = select(AlertRow)
        if unit_code:
            query = query.where(AlertRow.unit_code == unit_code)
        if kind:
            query = query.where(AlertRow.kind == kind)
        if state:
            query = query.where(AlertRow.state == state)
        query = query.order_by(AlertRow.id.desc()).limit(limit).offset(offset)
        return [to_domain(r) for r in self.session.scalars(query)]

    def set_apology(self, key: str, draft: ApologyDraft) -> None:
        added = self._added.get(key)
        row = added or self._row(key)
        if row is None:
            raise KeyError(key)
        row.apology_subject = draft.subject
        row.apology_text = draft.body_text
        row.apology_new_due_at = draft.new_due_at
        if added is None:
            self.session.flush()
        # A row added in this unit of work is written with the others at the commit: one
        # multi-row insert for the batch's alerts instead of a flush per alert.

    def apology_for(self, dossier_code: str) -> StoredApology | None:
        row = self.session.scalars(
            select(AlertRow)
            .where(AlertRow.dossier_code == dossier_code, AlertRow.apology_text.is_not(None))
            .order_by(AlertRow.id.desc())
        ).first()
        if row is None or row.apology_text is None:
            return None
        return StoredApology(row.key, dossier_code, row.apology_subject or "", row.apology_text,
                             row.apology_new_due_at)

    def claim_owing_apology(self, limit: int) -> list[Alert]:
        query = (
            select(AlertRow)
            .where(AlertRow.state != AlertState.RESOLVED.value,
                   AlertRow.kind.in_([k.value for k in APOLOGY_KINDS]),
                   AlertRow.apology_issued_at.is_(None))
            .order_by(AlertRow.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        return [to_domain(r) for r in self.session.scalars(query)]

    def advance_version(self, dossier_code: str, version: int) -> bool:
        if dossier_code in self._versions:
            known = self._versions[dossier_code]
            if known is not None and version < known:
                return False
            self._versions[dossier_code] = version
            return True
        query = select(DossierVersion).where(DossierVersion.dossier_code == dossier_code)
        if self._postgres:
            query = query.with_for_update()
        row = self.session.scalars(query).one_or_none()
        if row is None:
            try:
                with self.session.begin_nested():
                    self.session.add(DossierVersion(dossier_code=dossier_code, version=version))
                return True
            except IntegrityError:  # another replica inserted it first: compare with theirs
                return self.advance_version(dossier_code, version)
        if version < row.version:
            return False
        row.version = version
        return True

    def units_with_active_alerts(self) -> list[str]:
        query = (select(AlertRow.unit_code).where(AlertRow.state != AlertState.RESOLVED.value)
                 .distinct().order_by(AlertRow.unit_code))
        return list(self.session.scalars(query))

    def active_for_unit(self, unit_code: str) -> list[Alert]:
        query = (select(AlertRow).where(AlertRow.unit_code == unit_code,
                                        AlertRow.state != AlertState.RESOLVED.value)
                 .order_by(AlertRow.id))
        return [to_domain(r) for r in self.session.scalars(query)]

    def last_digest(self, unit_code: str) -> datetime | None:
        return self.session.scalar(select(func.max(DigestSlot.slot))
                                   .where(DigestSlot.unit_code == unit_code))

    def record_digest(self, unit_code: str, slot: datetime, now: datetime) -> bool:
        if self.session.get(DigestSlot, (unit_code, slot)) is not None:
            return False
        try:
            with self.session.begin_nested():
                self.session.add(DigestSlot(unit_code=unit_code, slot=slot, created_at=now))
        except IntegrityError:
            return False
        return True

    def add_delivery(self, alert_key: str, purpose: str, target: Target, not_before: datetime,
                     now: datetime, round_: int = 0,
                     content: dict[str, Any] | None = None) -> bool:
        digest = address_hash(target)
        if alert_key in self._added:  # a new alert has no deliveries yet
            self.session.add(_delivery_row(alert_key, purpose, round_, target, digest, content,
                                           now, not_before))
            return True
        exists = select(DeliveryRow.id).where(
            DeliveryRow.alert_key == alert_key, DeliveryRow.channel == target.channel,
            DeliveryRow.address_hash == digest, DeliveryRow.purpose == purpose,
            DeliveryRow.round == round_)
        if self.session.scalars(exists).first():
            return False
        try:
            with self.session.begin_nested():
                self.session.add(_delivery_row(alert_key, purpose, round_, target, digest,
                                               content, now, not_before))
        except IntegrityError:
            return False
        return True

    def claim_deliveries(self, now: datetime, lease: timedelta,
                         limit: int) -> list[PendingDelivery]:
        query = (
            select(DeliveryRow)
            .where(DeliveryRow.outcome == "pending", DeliveryRow.not_before <= now,
                   or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now))
            .order_by(DeliveryRow.not_before, DeliveryRow.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        claimed = []
        for row in self.session.scalars(query):
            row.lease_until = now + lease
            target = Target(row.channel, row.address, row.role, row.name, row.secret_env)
            claimed.append(PendingDelivery(row.id, row.alert_key, row.purpose, target,
                                           row.not_before, row.content))
        self.session.flush()
        return claimed

    def record_delivery(self, delivery_id: int, result: DeliveryResult, at: datetime,
                        outcome: str | None = None) -> str:
        row = self.session.get(DeliveryRow, delivery_id)
        if row is None:
            raise KeyError(delivery_id)
        row.outcome = outcome or ("delivered" if result.ok else
                                  "blocked" if result.blocked else "failed")
        row.attempts = (row.attempts or 0) + result.attempts
        row.error = result.error
        row.lease_until = None
        if result.ok:
            row.delivered_at = at
        self.session.flush()
        return row.outcome


def _delivery_row(alert_key: str, purpose: str, round_: int, target: Target, digest: str,
                  content: dict[str, Any] | None, now: datetime,
                  not_before: datetime) -> DeliveryRow:
    return DeliveryRow(
        alert_key=alert_key, purpose=purpose, round=round_, channel=target.channel,
        address=target.address, address_hash=digest, role=target.role, name=target.name,
        secret_env=target.secret_env, outcome="pending", content=content, attempts=0,
        created_at=now, not_before=not_before)


def _copy(alert: Alert, row: AlertRow) -> None:
    row.kind = alert.kind.value
    row.unit_code = alert.unit_code
    row.dossier_code = alert.dossier_code
    row.state = alert.state.value
    row.raised_at = alert.raised_at
    row.details = dict(alert.details)
    for name in _ALERT_FIELDS:
        setattr(row, name, getattr(alert, name))


def to_domain(row: AlertRow) -> Alert:
    return Alert(
        key=row.key, kind=AlertKind(row.kind), unit_code=row.unit_code,
        dossier_code=row.dossier_code, state=AlertState(row.state), raised_at=row.raised_at,
        details=dict(row.details or {}),
        **{name: getattr(row, name) for name in _ALERT_FIELDS},
    )
