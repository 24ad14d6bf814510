"""Realistic dossier lifecycles for one province, as the steps a one-stop system reports.

Pure: the random generator and the simulated times are passed in, so a seed reproduces a run.
Each new dossier's whole lifecycle is planned at once (submission, acceptance or refusal,
processing with supplement and payment pauses, decision, return); the runner emits each step
when the simulated clock reaches it.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from services.contracts.dossiers import Channel, Status

from . import render
from .catalogue import Catalogue
from .clock import (
    VN_TZ,
    WORKDAY_MINUTES,
    add_working_minutes,
    is_working,
    working_minutes_between,
)
from .model import DossierState, Emission, ProcedureLike, ProvinceLike, Supplement, UnitLike
from .people import fake_person

MIN_GAP = timedelta(minutes=1)


@dataclass(frozen=True)
class TrafficConfig:
    """Shares are probabilities per dossier (or per the group named)."""

    online_share: float = 0.45  # during working hours; out of hours only online filings arrive
    post_share: float = 0.02
    dvcqg_share: float = 0.30  # dossiers reported in the DVCQG formats instead of the native one
    refused_share: float = 0.03
    withdrawn_share: float = 0.01
    supplement_share: float = 0.12
    second_supplement_share: float = 0.15  # of dossiers with a supplement request
    payment_share: float = 0.35  # of fee-bearing dossiers: a wait for payment (status 6)
    late_share: float = 0.08  # of decided dossiers: decided after the due date
    returned_share: float = 0.95  # of decided dossiers: the result is handed back
    off_hours_share: float = 0.02  # acceptances and returns outside working hours
    digitised_share: float = 0.75
    reuse_share: float = 0.35  # of digitised dossiers
    national_store_share: float = 0.2
    vneid_online_share: float = 0.85
    vneid_offline_share: float = 0.3
    e_result_share: float = 0.6
    paid_online_share: float = 0.5  # of fee-bearing dossiers
    synced_share: float = 0.97


class TrafficGenerator:
    def __init__(
        self, province: ProvinceLike, rng: random.Random, config: TrafficConfig | None = None
    ) -> None:
        self.province = province
        self.config = config or TrafficConfig()
        self._rng = rng
        self._catalogue: dict[date, Catalogue] = {}
        self._sequences: dict[tuple[str, str], int] = {}

    def new_dossier(self, at: datetime) -> list[Emission]:
        """A dossier submitted at `at`: every step it will go through, in time order."""
        states = self._lifecycle(at.astimezone(VN_TZ).replace(microsecond=0))
        as_dvcqg = self._rng.random() < self.config.dvcqg_share
        return [render.dvcqg(s) if as_dvcqg else render.native(s) for s in states]

    def _lifecycle(self, submitted: datetime) -> list[DossierState]:
        rng, cfg = self._rng, self.config
        unit, procedure = self._pick(submitted.date())
        channel = self._channel(is_working(submitted))
        applicant_type = rng.choices((1, 2, 3, 4), weights=(80, 15, 2, 3))[0]
        state = DossierState(
            code=self._code(unit.code, submitted), unit=unit, procedure=procedure,
            channel=channel, applicant_type=applicant_type, status=Status.SUBMITTED,
            at=submitted, submitted_at=submitted, flags=self._flags(channel, procedure),
            paid_on_provincial_portal=rng.random() < 0.3,
            personal=fake_person(rng, applicant_type),
        )
        states = [state]

        def step(status: Status, t: datetime, **changes: object) -> datetime:
            nonlocal state
            state = replace(state, status=status, at=t, **changes)  # type: ignore[arg-type]
            states.append(state)
            return t

        wait = rng.uniform(2, 20) if channel == Channel.IN_PERSON else min(
            rng.lognormvariate(math.log(90), 1.0), 3 * WORKDAY_MINUTES)
        accepted = self._later(state, self._official(submitted, wait))
        if rng.random() < cfg.refused_share:
            step(Status.REFUSED, accepted)
            return states
        due = _due(accepted, procedure)
        statutory = max(working_minutes_between(accepted, due), 30.0)
        step(Status.ACCEPTED, accepted, accepted_at=accepted, due_at=due)
        start = self._later(state, add_working_minutes(accepted, min(
            rng.uniform(5, 60), 0.05 * statutory)))
        step(Status.IN_PROCESSING, start)
        if rng.random() < cfg.withdrawn_share:
            step(Status.WITHDRAWN, self._later(state, add_working_minutes(
                start, rng.uniform(30, statutory / 2))))
            return states

        supplements = 0
        if rng.random() < cfg.supplement_share:
            supplements = 2 if rng.random() < cfg.second_supplement_share else 1
        late = rng.random() < cfg.late_share
        active = (statutory + rng.uniform(0.3, 3.0) * WORKDAY_MINUTES if late
                  else statutory * rng.uniform(0.25, 0.97))
        pauses = sorted(
            [(rng.uniform(0.1, 0.7), Status.SUPPLEMENT_REQUESTED) for _ in range(supplements)]
            + ([(rng.uniform(0.8, 0.95), Status.AWAITING_PAYMENT)]
               if procedure.fee_bearing and rng.random() < cfg.payment_share else [])
        )
        consumed = working_minutes_between(accepted, start)
        for fraction, reason in pauses:
            target = max(fraction * active, consumed + 1)
            paused = self._later(state, add_working_minutes(state.at, target - consumed))
            consumed = target
            old_due = state.due_at or due
            sups = state.supplements
            if reason == Status.SUPPLEMENT_REQUESTED:
                sups = (*sups, Supplement(paused, old_due))
                gap = timedelta(hours=rng.uniform(4, 120))  # the applicant brings the papers
            else:
                gap = timedelta(minutes=rng.uniform(10, 48 * 60))
            step(reason, paused, supplements=sups)
            resumed = self._later(state, add_working_minutes(paused + gap, rng.uniform(5, 120)))
            # The source system moves its due date by the paused working time, as the SLA clock.
            new_due = add_working_minutes(old_due, working_minutes_between(paused, resumed))
            if reason == Status.SUPPLEMENT_REQUESTED:
                sups = (*sups[:-1], replace(sups[-1], received_at=resumed, due_after=new_due))
            step(Status.IN_PROCESSING, resumed, due_at=new_due, supplements=sups)

        decided = self._later(state, add_working_minutes(state.at, max(active - consumed, 5)))
        flags = {**state.flags, "e_result": rng.random() < cfg.e_result_share}
        step(Status.DECIDED, decided, completed_at=decided, flags=flags)
        if rng.random() < cfg.returned_share:
            electronic = flags["e_result"] or channel == Channel.ONLINE
            wait = rng.uniform(5, 240) if electronic else rng.uniform(60, 3 * WORKDAY_MINUTES)
            returned = self._later(state, self._official(decided, wait))
            step(Status.RETURNED, returned, returned_at=returned)
        return states

    def _official(self, after: datetime, working_minutes: float) -> datetime:
        """When an official acts `working_minutes` of working time later; a few work late."""
        if self._rng.random() < self.config.off_hours_share:
            return after + timedelta(minutes=working_minutes)
        return add_working_minutes(after, working_minutes)

    @staticmethod
    def _later(state: DossierState, t: datetime) -> datetime:
        return max(t.replace(microsecond=0), state.at + MIN_GAP)

    def _channel(self, working: bool) -> Channel:
        draw = self._rng.random()
        if not working or draw < self.config.online_share:
            return Channel.ONLINE
        return Channel.POST if draw < self.config.online_share + self.config.post_share else (
            Channel.IN_PERSON)

    def _flags(self, channel: Channel, procedure: ProcedureLike) -> dict[str, bool]:
        rng, cfg = self._rng, self.config
        digitised = rng.random() < cfg.digitised_share
        vneid = cfg.vneid_online_share if channel == Channel.ONLINE else cfg.vneid_offline_share
        return {
            "synced_national": rng.random() < cfg.synced_share,
            "digitised": digitised,
            "data_reused": digitised and rng.random() < cfg.reuse_share,
            "from_national_store": rng.random() < cfg.national_store_share,
            "vneid_verified": rng.random() < vneid,
            "paid_online": procedure.fee_bearing and rng.random() < cfg.paid_online_share,
        }

    def _code(self, unit_code: str, submitted: datetime) -> str:
        """Unit, yymmdd, daily sequence; each run starts its sequences at a seeded offset so
        two runs on one day rarely reuse a code."""
        day = f"{submitted:%y%m%d}"
        seq = self._sequences.get((unit_code, day)) or self._rng.randrange(1, 90000)
        self._sequences[(unit_code, day)] = seq + 1
        return f"{unit_code}-{day}-{seq:04d}"

    def _pick(self, on: date) -> tuple[UnitLike, ProcedureLike]:
        catalogue = self._catalogue.get(on) or self._catalogue.setdefault(
            on, Catalogue.build(self.province, on))
        unit = self._rng.choices(catalogue.units, cum_weights=catalogue.unit_weights)[0]
        procedures, weights = catalogue.procedures[str(unit.level)]
        return unit, self._rng.choices(procedures, cum_weights=weights)[0]


def _due(accepted: datetime, procedure: ProcedureLike) -> datetime:
    amount = procedure.statutory_amount
    if procedure.statutory_unit == "calendar_days":
        return accepted + timedelta(days=amount)
    minutes = amount * (60 if procedure.statutory_unit == "working_hours" else WORKDAY_MINUTES)
    return add_working_minutes(accepted, minutes).replace(microsecond=0)
