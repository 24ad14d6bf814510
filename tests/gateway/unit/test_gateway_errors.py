"""The one exception-to-status table, remote errors, and the two answer styles."""

from __future__ import annotations

import json

import eventlet
import pytest
from nameko.exceptions import RemoteError, UnknownService

from services.gateway import errors as e


@pytest.mark.parametrize(("error", "status", "code"), [
    (e.BadRequest("x"), 400, "bad_request"),
    (e.ValidationFailed("x"), 400, "validation_error"),
    (e.Unauthenticated("x"), 401, "unauthenticated"),
    (e.Forbidden("x"), 403, "forbidden"),
    (e.NotFound("x"), 404, "not_found"),
    (e.Conflict("x"), 409, "conflict"),
    (e.PayloadTooLarge("x"), 413, "payload_too_large"),
    (e.RateLimited("x", 3), 429, "rate_limited"),
    (e.UpstreamError("x"), 502, "upstream_error"),
    (e.BrokerUnavailable("x"), 503, "broker_unavailable"),
    (e.UpstreamTimeout("x"), 504, "upstream_timeout"),
    (RuntimeError("boom"), 500, "internal_error"),
    (eventlet.Timeout(None), 504, "upstream_timeout"),
    (UnknownService("dossiers"), 502, "upstream_error"),
])
def test_status_table(error: BaseException, status: int, code: str) -> None:
    response = e.error_response(error)
    assert response.status_code == status
    body = json.loads(response.get_data())
    assert body["error"]["code"] == code and body["error"]["message"]


@pytest.mark.parametrize(("exc_type", "value", "status"), [
    ("KeyError", "'no alert with key 'k''", 404),
    ("InvalidTransition", "alert k is acknowledged", 409),
    ("ValueError", "unknown deadline state 'late'", 400),
    ("QuarantineError", "no quarantined message with id 9", 404),
    ("QuarantineError", "quarantined message 9 is reinjected already", 409),
    ("QuarantineError", "unknown state 'x': use one of open", 400),
    ("OperationalError", "database is locked", 502),
])
def test_remote_errors_map_by_type(exc_type: str, value: str, status: int) -> None:
    assert e.error_response(RemoteError(exc_type, value)).status_code == status


def test_rate_limited_carries_retry_after() -> None:
    response = e.error_response(e.RateLimited("slow down", 7))
    assert response.headers["Retry-After"] == "7"


def test_dvcqg_style_answers() -> None:
    bad = json.loads(e.error_response(e.ValidationFailed("data: bad", field="data"),
                                      dvcqg=True).get_data())
    assert bad["error_code"] == "400" and bad["message"] == "data: bad"
    assert bad["error"]["field"] == "data"
    down = json.loads(e.error_response(e.BrokerUnavailable("no"), dvcqg=True).get_data())
    assert down["error_code"] == "-1"
