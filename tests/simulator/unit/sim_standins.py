"""A tiny province in the shape of services.common.reference, for the simulator's tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    level: str
    valid_from: date | None = None
    valid_to: date | None = None

    def is_valid_on(self, d: date) -> bool:
        return (self.valid_from is None or self.valid_from <= d) and (
            self.valid_to is None or d < self.valid_to
        )


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field_code: str
    statutory_amount: float
    statutory_unit: str
    online_level: str
    fee_bearing: bool
    levels: tuple[str, ...]


@dataclass(frozen=True)
class Province:
    code: str
    units: tuple[Unit, ...]
    procedures: tuple[Procedure, ...]


GONE = date(2025, 7, 1)

PROVINCE = Province(
    code="test",
    units=(
        Unit("H98", "Ủy ban nhân dân Tỉnh Thử", "province"),
        Unit("H98.01", "Sở Tư pháp", "department"),
        Unit("H98.02", "Sở Xây dựng", "department"),
        Unit("H98.20", "Công an tỉnh", "branch"),
        Unit("H98.30", "UBND huyện Cũ", "district", valid_to=GONE),
        Unit("H98.40.01", "UBND xã Một", "commune", valid_from=GONE),
        Unit("H98.40.02", "UBND phường Hai", "commune", valid_from=GONE),
        Unit("H98.40.03", "UBND xã Đã Nhập", "commune", valid_to=GONE),
    ),
    procedures=(
        Procedure("1.000001", "Cấp phiếu lý lịch tư pháp", "LLTP", 10, "working_days", "full",
                  True, ("department",)),
        Procedure("1.000002", "Cấp giấy phép xây dựng", "XD", 20, "working_days", "partial",
                  True, ("department", "district")),
        Procedure("1.000003", "Đăng ký khai sinh", "HT", 4, "working_hours", "full",
                  False, ("commune", "district")),
        Procedure("1.000004", "Chứng thực bản sao", "CT", 2, "calendar_days", "partial",
                  True, ("commune",)),
        Procedure("1.000005", "Cấp căn cước", "CC", 7, "working_days", "full",
                  False, ("branch",)),
    ),
)
