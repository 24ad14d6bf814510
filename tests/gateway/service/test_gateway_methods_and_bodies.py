"""Two of Schemathesis' findings through the real entrypoint: a known path asked with a method it
does not serve answers 405 with Allow (not 404), and an action's body is checked against its
documented model before any RPC (a 129-character name was a 502 from the database)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("PUT", "/api/v1/units", "GET, HEAD"),
    ("DELETE", "/api/v1/dossiers/X-1", "GET, HEAD"),
    ("GET", "/api/v1/alerts/some-key/ack", "POST"),
    ("OPTIONS", "/api/v1/quarantine/7/reinject", "POST"),
    ("OPTIONS", "/api/v1/kpis", "GET, HEAD"),
])
def test_known_paths_answer_405_with_allow(gateway: dict[str, Any], method: str, path: str,
                                           allow: str) -> None:
    answer = gateway["client"].call(method, path, "admin")
    assert answer.status == 405, answer.body
    assert answer.headers["allow"] == allow
    assert answer.json()["error"]["code"] == "method_not_allowed"


def test_unknown_api_paths_still_answer_404(gateway: dict[str, Any]) -> None:
    for method in ("GET", "PUT", "OPTIONS"):
        answer = gateway["client"].call(method, "/api/v1/nothing-here", "admin")
        assert answer.status == 404 and answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("body", "field"), [
    ({"by": "x" * 129}, "by"), ({"by": 5}, "by"), ({"payload": 1}, "payload")])
def test_action_bodies_are_refused_before_any_rpc(gateway: dict[str, Any], body: Any,
                                                  field: str) -> None:
    # No other service runs: a body that got past the check would be a 502 (nobody answers).
    path = "/api/v1/alerts/k/ack" if "by" in body else "/api/v1/quarantine/1/reinject"
    answer = gateway["client"].post(path, "operator", body=body)
    assert answer.status == 400, answer.body
    assert answer.json()["error"] == {**answer.json()["error"], "code": "validation_error",
                                      "field": field}


def test_a_valid_action_body_passes_the_check(gateway: dict[str, Any]) -> None:
    # Past the check the worker calls notifications, which does not run here: 502. (That the
    # worker then reads the same body, test_gateway_drilldown shows: the name it acknowledges
    # with is the one sent.)
    answer = gateway["client"].post("/api/v1/alerts/k/ack", "operator", body={"by": "Chị Lan"})
    assert answer.status == 502 and answer.json()["error"]["code"] == "upstream_error"
