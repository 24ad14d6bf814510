"""What Schemathesis found in the gateway (tests/gateway/service/test_gateway_schemathesis.py),
one small regular test per fix: the server accepts what /openapi.json documents and refuses the
rest with a 4xx, and never answers 5xx to a bad request."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from nameko.exceptions import RemoteError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway import errors, ingest, views
from services.gateway.openapi import spec
from services.gateway.routes import MAX_OFFSET, PERIOD_PATTERN, SCHEME_PATTERN, methods_at

NOW = datetime(2026, 10, 6, 1, tzinfo=UTC)
EVENT = {"dossier_code": "N-1", "status": 2, "status_at": "2026-10-06T07:30:00+07:00",
         "unit_code": "H99.01", "procedure_code": "1.005342"}
SYNC = {"service": "DongBoHoSoMC", "data": [{"MaHoSo": "X", "DonViXuLy": "H99.01"}]}


def _get(query: str) -> Request:
    return Request(EnvironBuilder(query_string=query).get_environ())


def _post(body: bytes) -> Request:
    return Request(EnvironBuilder(method="POST", input_stream=io.BytesIO(body),
                                  content_length=len(body)).get_environ())


def _query_schema(path: str, name: str) -> dict[str, Any]:
    op = spec()["paths"][path]["get"]
    schema: dict[str, Any] = next(p["schema"] for p in op["parameters"] if p["name"] == name)
    return schema


def test_offset_limit_is_documented() -> None:
    # Found: offset=21895249063 was valid by the document and refused by the server.
    assert _query_schema("/api/v1/procedures", "offset")["maximum"] == MAX_OFFSET
    assert views.page(_get(f"offset={MAX_OFFSET}"))[1] == MAX_OFFSET
    with pytest.raises(errors.ValidationFailed):
        views.page(_get(f"offset={MAX_OFFSET + 1}"))


@pytest.mark.parametrize("period", ["0000", "2026-00", "2026-13", "9999-12", "2026-10\n",
                                    "\u0662\u0660\u0662\u0666-\u0661\u0660"])
def test_periods_that_are_not_dates_are_refused_here(period: str) -> None:
    # Found: period=0000 matched the documented pattern, and scoring's ValueError ("year 0 is
    # out of range") came back as a 400 for a documented-valid request.
    assert _query_schema("/api/v1/rankings", "period")["pattern"] == PERIOD_PATTERN
    with pytest.raises(errors.ValidationFailed):
        views.period(_get(urlencode({"period": period})), NOW)


@pytest.mark.parametrize("period", ["1900", "2999-Q4", "2026-01", "2026-12", "rolling-30"])
def test_plausible_periods_are_accepted(period: str) -> None:
    assert views.period(_get(f"period={period}"), NOW) == period


@pytest.mark.parametrize(("query", "read"), [
    ("period=", lambda r: views.period(r, NOW)), ("scheme=", views.scheme),
    ("level=", views.level), ("state=", views.state), ("limit=", views.page),
    ("offset=", views.page), ("limit=%D9%A3", views.page), ("limit=1_0", views.page),
    ("limit=%2B5", views.page), ("limit=+5", views.page)])
def test_empty_or_odd_values_are_refused_not_read_as_the_default(
        query: str, read: Callable[[Request], Any]) -> None:
    # Found: `period=` (not the documented pattern) answered 200 with the current month; int()
    # also took "٣" (an Arabic-Indic 3), "1_0" and " 5".
    with pytest.raises(errors.ValidationFailed):
        read(_get(query))
    read(_get(""))  # absent: the default


def test_scheme_pattern_is_documented_and_ascii() -> None:
    # Found: scheme=" ý" was valid by the document (any string) and refused by the server.
    assert _query_schema("/api/v1/rankings", "scheme")["pattern"] == SCHEME_PATTERN
    assert views.scheme(_get("scheme=qd766.v2-x_y")) == "qd766.v2-x_y"
    for bad in ("scheme=%20%C3%BD", "scheme=s%C6%A1", "scheme=" + "x" * 65):
        with pytest.raises(errors.ValidationFailed):
            views.scheme(_get(bad))


def test_an_unknown_scheme_is_not_found() -> None:
    # A well-formed scheme scoring does not have: 404, now documented for rankings too.
    remote = RemoteError("ValueError", "unknown scheme 'x': one of ['qd766']")
    assert errors.error_response(remote).status_code == 404
    assert "404" in spec()["paths"]["/api/v1/rankings"]["get"]["responses"]
    other = RemoteError("ValueError", "unknown deadline state 'late'")
    assert errors.error_response(other).status_code == 400


def test_remote_key_errors_keep_their_quotes() -> None:
    remote = RemoteError("KeyError", "\"no alert with key '0'\"")
    assert errors.to_api_error(remote).message == "no alert with key '0'"


def test_reinject_id_is_documented_as_the_integer_the_server_wants() -> None:
    # Found: the document said any string; the server refused non-integers with 400.
    op = spec()["paths"]["/api/v1/quarantine/{id}/reinject"]["post"]
    assert op["parameters"][0]["schema"] == {"type": "integer", "minimum": 0,
                                             "maximum": 2**63 - 1}


def test_body_and_transport_statuses_are_documented() -> None:
    ack = spec()["paths"]["/api/v1/alerts/{key}/ack"]["post"]["responses"]
    assert "413" in ack  # every body has a size limit
    # eventlet answers 414 to a request line over 8 KiB before any route runs, on every path.
    assert all("414" in op["responses"] for ops in spec()["paths"].values()
               for op in ops.values())


def test_dvcqg_data_must_not_be_empty_as_documented() -> None:
    body = spec()["components"]["schemas"]["DvcqgCall"]
    assert body["properties"]["data"]["minItems"] == 1


@pytest.mark.parametrize(("value", "ok"), [
    ("False", True), (True, True), (0, True), (1, True), (None, True), (2, False),
    ([], False), ({}, False)])
def test_dvcqg_is_updating_for_both_calls(value: Any, ok: bool) -> None:
    # Found: isUpdating 0 was accepted but undocumented; on progress calls anything went.
    for service in ("DongBoHoSoMC", "CapNhatTienDoHoSoMC"):
        raw = json.dumps({**SYNC, "service": service, "isUpdating": value}).encode()
        if ok:
            ingest.dvcqg_message(raw)
        else:
            with pytest.raises(errors.ValidationFailed) as exc:
                ingest.dvcqg_message(raw)
            assert exc.value.extra["field"].startswith("isUpdating")


@pytest.mark.parametrize("service", [{}, [], 5, None])
def test_dvcqg_service_of_any_type_is_a_400(service: Any) -> None:
    # Found: {"service": {}} was a 500 (TypeError: unhashable type: 'dict').
    with pytest.raises(errors.ValidationFailed) as exc:
        ingest.dvcqg_message(json.dumps({**SYNC, "service": service}).encode())
    assert exc.value.extra["field"] == "service"


@pytest.mark.parametrize(("units", "key"), [
    (["H99.01", "H99.01"], "dvcqg.DongBoHoSoMC.H99.01"),
    (["H99.01", "H99.02"], "dvcqg.DongBoHoSoMC.mixed"),
    ([{"x": 1}, {"x": 1}], "dvcqg.DongBoHoSoMC.mixed"),
    ([["H99.01"]], "dvcqg.DongBoHoSoMC.mixed"),
    ([""], "dvcqg.DongBoHoSoMC.mixed"),
])
def test_dvcqg_routing_never_fails_on_a_strange_unit(units: list[Any], key: str) -> None:
    # Found: a DonViXuLy that is an object was a 500 (the integrator kit hashes the values);
    # such a dossier is the dossiers service's to quarantine.
    data = [{"MaHoSo": f"X{i}", "DonViXuLy": unit} for i, unit in enumerate(units)]
    raw = json.dumps({"service": "DongBoHoSoMC", "data": data}).encode()
    assert ingest.dvcqg_message(raw).routing_key == key


@pytest.mark.parametrize("change", [{"vneid_verified": 0}, {"status": "2"},
                                    {"status_at": 1790000000}, {"applicant_type": "2"}])
def test_native_events_are_validated_as_documented(change: dict[str, Any]) -> None:
    # Found: lax validation took 0 for false (and "2" for 2, a Unix time for a date-time).
    raw = json.dumps({"events": [{**EVENT, **change}]}).encode()
    with pytest.raises(errors.ValidationFailed) as exc:
        ingest.event_messages(raw)
    assert exc.value.extra == {"field": f"events[0].{next(iter(change))}", "index": 0}


def test_a_number_without_fraction_is_an_integer_as_in_json_schema() -> None:
    (message,) = ingest.event_messages(json.dumps(
        {"events": [{**EVENT, "applicant_type": 4.0, "status": 2.0}]}).encode())
    assert json.loads(message.body)["applicant_type"] == 4


@pytest.mark.parametrize(("body", "ok"), [
    (b"", True), (b"{}", True), (b'{"by": "Chi Lan"}', True), (b'{"by": null}', True),
    (b'{"by": "x", "other": 1}', True), (b'{"by": 5}', False), (b'{"by": "' + b"x" * 129 + b'"}',
                                                                 False),
    (b"null", False), (b"[]", False), (b"{", False)])
def test_action_bodies_are_checked_against_their_model(body: bytes, ok: bool) -> None:
    # Found: {"by": <129 characters>} reached the database and came back as a 502; {"by": 5}
    # was taken as the name "5".
    from services.gateway.schemas import AckRequest

    request = _post(body)
    if ok:
        views.check_body(request, AckRequest)
        assert request.stream.read() == body  # put back for the worker
    else:
        with pytest.raises(errors.ApiError) as exc:
            views.check_body(request, AckRequest)
        assert errors.status_of(exc.value) == 400


def test_methods_at_known_paths() -> None:
    # Found: PUT /api/v1/units answered 404 (and OPTIONS a werkzeug 405 advertising the
    # catch-all's methods): a known path answers 405 with the methods it serves.
    assert methods_at("/api/v1/units") == ["GET", "HEAD"]
    assert methods_at("/api/v1/alerts/a:b+c/ack") == ["POST"]
    assert methods_at("/api/v1/nothing") == []
    response = errors.error_response(errors.MethodNotAllowed("no", allow=["POST"]))
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert json.loads(response.get_data())["error"]["code"] == "method_not_allowed"


def test_nul_never_reaches_the_services() -> None:
    # Found: unit=<...>%00 reached PostgreSQL, whose "cannot contain NUL" came back as a 400
    # for a documented-valid request. Query text: now outside the documented pattern (400);
    # a path: nothing has such a name (404).
    from services.gateway.routes import ROUTES

    alerts = ROUTES["alerts"]
    assert _query_schema("/api/v1/alerts", "unit")["pattern"] == r"^[^\x00]*$"
    with pytest.raises(errors.ValidationFailed) as bad:
        views.nul_free(_get("unit=H99%00"), alerts.text_query, alerts.text_path)
    assert bad.value.extra == {"field": "unit"}
    views.nul_free(_get("unit=H99.01&kind=overdue"), alerts.text_query, alerts.text_path)
    dossier = _get("")
    dossier.path_values = {"code": "D\x00-1"}  # set by nameko's router
    with pytest.raises(errors.NotFound):
        views.nul_free(dossier, ROUTES["dossier"].text_query, ROUTES["dossier"].text_path)
    assert ROUTES["reinject"].text_path == []  # an integer: its own check answers 400
    from services.gateway.schemas import AckRequest
    with pytest.raises(errors.ValidationFailed):
        views.check_body(_post(b'{"by": "a\\u0000b"}'), AckRequest)


def test_last_event_id_is_ascii_digits() -> None:
    # Not from a run (the stream is excluded: it never ends), the same slip as limit's: "٣".
    from services.gateway.stream import last_event_id

    assert last_event_id(_get("last_event_id=42")) == 42
    with pytest.raises(errors.ValidationFailed):
        last_event_id(_get("last_event_id=%D9%A3"))
