"""What every handler needs besides the unit of work: rules data, calendar, senders, now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.common.reference import Province
from services.common.workcalendar import WorkingCalendar

from .dependencies import Channels


@dataclass(frozen=True)
class Context:
    province: Province
    calendar: WorkingCalendar
    channels: Channels
    now: datetime

    def unit_name(self, unit_code: str) -> str:
        unit = self.province.unit(unit_code)
        return unit.name if unit is not None else self.channels.contacts.unit_name(unit_code)

    def procedure_name(self, procedure_code: str | None) -> str:
        procedure = self.province.procedure(procedure_code) if procedure_code else None
        return procedure.name if procedure is not None else ""
