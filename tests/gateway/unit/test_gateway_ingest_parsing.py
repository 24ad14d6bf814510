"""Ingest bodies to messages: envelopes checked, events validated with their index and field,
content-derived message ids, and the period and body-size checks of the views."""

from __future__ import annotations

import io
import json

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway import ingest, views
from services.gateway.errors import BadRequest, PayloadTooLarge, ValidationFailed
from services.gateway.static import resolve

EVENT = {"dossier_code": "N-1", "status": 2, "status_at": "2026-10-06T07:30:00+07:00",
         "unit_code": "H99.01", "procedure_code": "1.005342"}


def test_dvcqg_body_is_published_byte_for_byte() -> None:
    raw = json.dumps({"service": "CapNhatTienDoHoSoMC", "data": [{"MaHoSo": "X"}]}).encode()
    message = ingest.dvcqg_message(raw)
    assert message.body == raw and message.message_type == "dvcqg.CapNhatTienDoHoSoMC"
    assert message.routing_key == "dvcqg.CapNhatTienDoHoSoMC.mixed"
    assert message.message_id == ingest.dvcqg_message(raw).message_id


def test_event_errors_name_index_and_field() -> None:
    with pytest.raises(ValidationFailed) as exc:
        ingest.event_messages(json.dumps({"events": [EVENT, {**EVENT, "status": 99}]}).encode())
    assert exc.value.extra == {"field": "events[1].status", "index": 1}
    with pytest.raises(ValidationFailed):
        ingest.event_messages(json.dumps({"events": [EVENT] * 1001}).encode())
    with pytest.raises(BadRequest):
        ingest.event_messages(b'{"event": []}')
    (message,) = ingest.event_messages(json.dumps({"events": [EVENT]}).encode())
    assert message.routing_key == "parpulse.dossier.v1.H99.01"
    assert json.loads(message.body)["dossier_code"] == "N-1"


def _request(body: bytes, query: str = "") -> Request:
    return Request(EnvironBuilder(method="POST", query_string=query,
                                  input_stream=io.BytesIO(body),
                                  content_length=len(body)).get_environ())


def test_body_limit() -> None:
    assert views.read_body(_request(b"x" * 10), 10) == b"x" * 10
    with pytest.raises(PayloadTooLarge):
        views.read_body(_request(b"x" * 11), 10)


@pytest.mark.parametrize(("period", "ok"), [
    ("2026-10", True), ("2026-Q4", True), ("2026", True), ("rolling-30", True),
    ("2026-13x", False), ("Q4", False), ("rolling-7", False),
])
def test_periods(period: str, ok: bool) -> None:
    from datetime import UTC, datetime

    request = _request(b"", f"period={period}")
    if ok:
        assert views.period(request, datetime.now(UTC)) == period
    else:
        with pytest.raises(ValidationFailed):
            views.period(request, datetime.now(UTC))


def test_default_period_is_the_local_month() -> None:
    from datetime import UTC, datetime

    # 31 Oct 20:00 UTC is already 1 Nov in Vietnam.
    assert views.period(_request(b""), datetime(2026, 10, 31, 20, tzinfo=UTC)) == "2026-11"


def test_static_paths_stay_inside_the_folder(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path)) / "static"
    root.mkdir()
    (root / "a.js").write_text("1")
    (Path(str(tmp_path)) / "secret").write_text("s")
    assert resolve(root, "a.js") == (root / "a.js").resolve()
    for bad in ("../secret", "/etc/passwd", "", "."):
        with pytest.raises(Exception, match="no file"):
            resolve(root, bad)
