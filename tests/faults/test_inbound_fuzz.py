"""Fuzzing every inbound format through the real handler (with the in-memory unit of work): no
input makes it raise, and every message is either applied or quarantined with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.common.calendar_data import load_calendar
from services.common.entrypoints import InboundMessage
from services.common.reference import load_province
from services.contracts.inbound import FORMAT_DVCQG_PROGRESS, FORMAT_DVCQG_SYNC, FORMAT_NATIVE
from services.dossiers.handlers import handle_inbound
from services.dossiers.views import Context
from tests.dossiers.fakes import FakeUnitOfWork

VN = ZoneInfo("Asia/Ho_Chi_Minh")
KNOWN = "H99.01-261005-0001"  # accepted before every example, so progress steps can apply
NOW = datetime(2026, 10, 6, 8, tzinfo=VN)


@cache
def context() -> Context:
    return Context(province=load_province("demo"), calendar=load_calendar(), now=NOW)


# -- field values: mostly plausible, sometimes wrong in every way a source system gets wrong -

json_scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | \
    st.floats(allow_nan=False) | st.text(max_size=20)
garbage_json = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | \
                            st.dictionaries(st.text(max_size=8), inner, max_size=4),
                            max_leaves=12)
huge = st.integers(1000, 20000).map(lambda n: "x" * n)

codes = st.sampled_from([KNOWN, "H99.01-261005-0002", "H99.02-261006-0003", ""]) | \
    st.text(max_size=80) | huge
units = st.sampled_from(["H99.01", "H99.02", "H99.03", "H00.99", ""]) | st.text(max_size=10)
procedures = st.sampled_from(["1.005342", "2.006481", "9.999999"]) | st.text(max_size=10)
statuses = st.integers(0, 12) | st.sampled_from(["2", "4", "x", None, 2.5, True])
instants = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)).map(
    lambda d: d.replace(tzinfo=VN))
iso_times = instants.map(lambda d: d.isoformat()) | st.sampled_from(
    ["2026-10-05T08:00:00", "2026-13-45T99:00:00+07:00", "yesterday", "", "20261005080000"])
dvcqg_times = instants.map(lambda d: d.strftime("%Y%m%d%H%M%S")) | st.sampled_from(
    ["20261005", "20261345990000", "2026-10-05T08:00:00+07:00", "", "00000000000000"]) | \
    st.integers(0, 10**15)
flags = st.sampled_from([0, 1, 2, "0", "1", "True", "False", True, False, "maybe", None, -1])


def record(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict of some of `fields` (each sometimes replaced by garbage) plus unknown extras."""
    optional = {k: v | garbage_json for k, v in fields.items()}
    return st.fixed_dictionaries({}, optional=optional).flatmap(
        lambda d: st.dictionaries(st.text(max_size=6), garbage_json, max_size=2).map(
            lambda extra: {**extra, **d}))


native = record({
    "dossier_code": codes, "status": statuses, "status_at": iso_times, "unit_code": units,
    "procedure_code": procedures, "channel": st.integers(0, 4), "applicant_type":
    st.integers(0, 5), "submitted_at": iso_times, "accepted_at": iso_times, "source_due_at":
    iso_times, "completed_at": iso_times, "apology_new_due_at": iso_times, "digitised":
    st.booleans(), "paid_online": st.booleans(), "holder_name": st.text(max_size=30)})

documents = st.lists(record({"DuocSoHoa": flags, "DuocTaiSuDung": flags,
                             "DuocLayTuKhoDMQG": flags}), max_size=3)
supplements = st.lists(record({"NgayBoSung": dvcqg_times, "NgayTiepNhanBoSung": dvcqg_times,
                               "NgayHenTraMoi": dvcqg_times}), max_size=3)
sync_dossier = record({
    "MaHoSo": codes, "MaTTHC": procedures, "DonViXuLy": units, "KenhThucHien":
    st.integers(0, 4), "TrangThaiHoSo": statuses, "NgayNopHoSo": dvcqg_times, "NgayTiepNhan":
    dvcqg_times, "NgayHenTra": dvcqg_times, "NgayKetThucXuLy": dvcqg_times, "NgayTra":
    dvcqg_times, "TaiLieuNop": documents, "DanhSachHoSoBoSung": supplements,
    "DuocThanhToanTrucTuyen": flags, "ChuHoSo": st.text(max_size=30)})
progress_step = record({
    "MaHoSo": codes, "TrangThai": statuses, "ThoiDiemXuLy": dvcqg_times, "NguoiXuLy":
    st.text(max_size=20), "NoiDungXuLy": st.text(max_size=40), "NgayBatDau": dvcqg_times})


def envelope(service: str, item: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {"service": st.just(service) | st.text(max_size=12),
         "data": st.lists(item | garbage_json, max_size=4) | garbage_json},
        optional={"isUpdating": st.sampled_from(["True", "False", True, None, "?"])})


def encoded(body: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return body.map(lambda b: json.dumps(b, ensure_ascii=False, default=str).encode())


formats = st.sampled_from([FORMAT_NATIVE, FORMAT_DVCQG_SYNC, FORMAT_DVCQG_PROGRESS])
messages = st.one_of(
    st.tuples(st.just(FORMAT_NATIVE), encoded(native)),
    st.tuples(st.just(FORMAT_DVCQG_SYNC), encoded(envelope("DongBoHoSoMC", sync_dossier))),
    st.tuples(st.just(FORMAT_DVCQG_PROGRESS),
              encoded(envelope("CapNhatTienDoHoSoMC", progress_step))),
    # Right format, wrong body; or no format at all; or not JSON.
    st.tuples(formats | st.none() | st.text(max_size=30), encoded(garbage_json)),
    st.tuples(formats | st.none(), st.binary(max_size=200)),
)


def primed() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    body = {"dossier_code": KNOWN, "status": 2, "status_at": "2026-10-05T08:00:00+07:00",
            "unit_code": "H99.01", "procedure_code": "1.005342"}
    outcome = handle_inbound(uow, _message(FORMAT_NATIVE, json.dumps(body).encode(), "prime"),
                             context())
    assert outcome == "processed"
    return uow


def _message(fmt: str | None, body: bytes, message_id: str | None) -> InboundMessage:
    headers = {"parpulse-format": fmt} if fmt else {}
    return InboundMessage(body=body, message_id=message_id, message_type=fmt,
                          routing_key=f"{fmt}.fuzz", headers=headers)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(message=messages, message_id=st.none() | st.text(min_size=1, max_size=40))
def test_any_inbound_message_is_applied_or_quarantined_with_a_reason(
        message: tuple[str | None, bytes], message_id: str | None) -> None:
    fmt, body = message
    uow = primed()
    before = len(uow.quarantined)
    outcome = handle_inbound(uow, _message(fmt, body, message_id), context())
    quarantined = uow.quarantined[before:]
    assert outcome in {"processed", "quarantined"}
    assert (outcome == "quarantined") == bool(quarantined)
    for row in quarantined:
        assert row["reason"].strip() and row["reason_code"].strip()
        if row["item_index"] is None:
            assert row["raw_payload"] == body, "the raw payload is kept whole"
    # Every item went somewhere: applied (an event or a no-op restatement) or quarantined, and
    # the message was recorded as processed so a redelivery is a no-op.
    assert handle_inbound(uow, _message(fmt, body, message_id), context()) == "duplicate"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=encoded(envelope("DongBoHoSoMC", sync_dossier)))
def test_a_sync_batch_quarantines_each_bad_element_by_index(body: bytes) -> None:
    uow = primed()
    outcome = handle_inbound(uow, _message(FORMAT_DVCQG_SYNC, body, "sync"), context())
    doc = json.loads(body)
    indexes = [r["item_index"] for r in uow.quarantined]
    if outcome == "quarantined" and None not in indexes:
        # Per-element rejections: each index at most once and within the batch.
        assert len(indexes) == len(set(indexes))
        assert all(0 <= i < len(doc["data"]) for i in indexes)


def test_the_fuzzer_reaches_both_outcomes() -> None:
    # A guard against strategies that only ever produce garbage (or only valid input).
    uow = primed()
    good = {"dossier_code": KNOWN, "status": 4, "status_at": (NOW - timedelta(hours=20))
            .astimezone(UTC).isoformat(), "unit_code": "H99.01", "procedure_code": "1.005342"}
    assert handle_inbound(uow, _message(FORMAT_NATIVE, json.dumps(good).encode(), "g"),
                          context()) == "processed"
    assert handle_inbound(uow, _message(FORMAT_NATIVE, b"\xff", "b"), context()) == "quarantined"
