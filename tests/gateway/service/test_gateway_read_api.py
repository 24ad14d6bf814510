"""The read model on the real broker and database: rankings from RankingChanged events, KPIs
from dossier events, units and procedures, and who may read what."""

from __future__ import annotations

from typing import Any

import pytest

from services.gateway.routes import ROUTES
from tests.gateway.support_gateway import accepted, ranking
from tests.support.services import wait_for

RANKINGS = "/api/v1/rankings?scheme=qd766&level=department&period=2026-10"


def test_rankings_are_served_from_ranking_changed_events(gateway: dict[str, Any]) -> None:
    client, events = gateway["client"], gateway["events"]
    events.send(ranking(1, leader="H99.02"))
    events.send(ranking(3, leader="H99.01"))
    answer = wait_for(lambda: (a := client.get(RANKINGS, "viewer")).status == 200
                      and a.json()["version"] == 3 and a, what="ranking version 3")
    body = answer.json()
    assert body["entries"][0]["unit_code"] == "H99.01"
    assert body["entries"][0]["unit_name_en"] == "Department of Justice"
    assert body["entries"][0]["groups"][0]["key"] == "progress"
    # An older version arriving late never replaces a newer one.
    events.send(ranking(2, leader="H99.02"))
    events.send(ranking(4, leader="H99.01", period="2026-Q4"))
    wait_for(lambda: client.get(RANKINGS.replace("2026-10", "2026-Q4"), "viewer").status == 200,
             what="the Q4 ranking")
    assert client.get(RANKINGS, "viewer").json()["version"] == 3


def test_kpis_follow_dossier_events_with_version_guard(gateway: dict[str, Any]) -> None:
    client, events = gateway["client"], gateway["events"]
    for i in range(3):
        events.send(accepted(f"K-{i}"))
    wait_for(lambda: client.get("/api/v1/kpis", "viewer").json()["open_total"] == 3,
             what="three open dossiers")
    kpis = client.get("/api/v1/kpis", "viewer").json()
    # The service clock reads 6 Oct 2026 08:00 local: accepted at 07:30 that day.
    assert kpis["received_today"] == 3
    assert kpis["on_time_rate"] is None and kpis["open_overdue"] == 0
    assert set(kpis) == {"as_of", "received_today", "on_time_rate", "open_overdue",
                         "due_soon", "open_total"}


def test_units_and_procedures_are_paginated(gateway: dict[str, Any]) -> None:
    client = gateway["client"]
    units = client.get("/api/v1/units?level=department&limit=2&offset=1", "viewer").json()
    assert units["limit"] == 2 and units["offset"] == 1 and len(units["items"]) == 2
    assert all(u["level"] == "department" for u in units["items"])
    assert units["total"] > 2
    assert set(units["items"][0]) == {"code", "name", "name_en", "level", "valid_from",
                                      "valid_to"}
    procs = client.get("/api/v1/procedures?limit=3", "operator").json()
    assert len(procs["items"]) == 3
    assert {"code", "name", "field_name", "statutory_amount", "statutory_unit",
            "fee_bearing"} == set(procs["items"][0])
    bad = client.get("/api/v1/units?limit=0", "viewer")
    assert bad.status == 400 and bad.json()["error"]["code"] == "validation_error"
    bad = client.get("/api/v1/units?level=galaxy", "viewer")
    assert bad.status == 400


def test_unknown_api_path_is_a_json_404(gateway: dict[str, Any]) -> None:
    answer = gateway["client"].get("/api/v1/nothing-here", "viewer")
    assert answer.status == 404 and answer.json()["error"]["code"] == "not_found"


# Every endpoint with each role: (route, method, path, roles that get past auth).
READERS = {"viewer", "operator", "admin"}
OPERATORS = {"operator", "admin"}
INGESTERS = {"integrator", "admin"}
MATRIX = [
    ("GET", "/api/v1/units", READERS),
    ("GET", "/api/v1/procedures", READERS),
    ("GET", RANKINGS, READERS),
    ("GET", "/api/v1/kpis", READERS),
    ("GET", "/api/v1/units/H99.01/scorecard?period=2026-10", READERS),
    ("GET", "/api/v1/dossiers?state=overdue", READERS),
    ("GET", "/api/v1/dossiers/NOPE", READERS),
    ("GET", "/api/v1/alerts", READERS),
    ("POST", "/api/v1/alerts/some-key/ack", OPERATORS),
    ("GET", "/api/v1/quarantine", OPERATORS),
    ("POST", "/api/v1/quarantine/1/reinject", OPERATORS),
    ("POST", "/api/v1/ingest/dvcqg", INGESTERS),
    ("POST", "/api/v1/ingest/events", INGESTERS),
]


def test_the_matrix_covers_every_protected_route() -> None:
    protected = {r.name for r in ROUTES.values()
                 if r.permission is not None and not r.hidden and r.name != "stream"}
    assert len(protected) == len(MATRIX)


@pytest.mark.parametrize(("method", "path", "allowed"), MATRIX,
                         ids=[f"{m} {p.split('?')[0]}" for m, p, _ in MATRIX])
def test_roles_are_enforced(gateway: dict[str, Any], method: str, path: str,
                            allowed: set[str]) -> None:
    client = gateway["client"]
    # Bodies that fail validation: passing auth shows as anything but 401/403.
    body = b"{}"
    anonymous = client.call(method, path, raw=body if method == "POST" else None)
    assert anonymous.status == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    wrong = client.call(method, path, headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status == 401
    for role in ("viewer", "operator", "integrator", "admin"):
        answer = client.call(method, path, role,
                             raw=body if method == "POST" else None, timeout=30)
        if role in allowed:
            assert answer.status not in (401, 403), (role, answer.status, answer.body)
        else:
            assert answer.status == 403, (role, answer.status)
            assert answer.json()["error"]["code"] == "forbidden"


def test_query_token_is_accepted_on_get_only(gateway: dict[str, Any]) -> None:
    client = gateway["client"]
    assert client.get("/api/v1/kpis?access_token=viewer-secret").status == 200
    answer = client.post("/api/v1/ingest/events?access_token=integrator-secret",
                         body={"events": []})
    assert answer.status == 401
