"""Drill-downs through RPC, with the dossiers, notifications and scoring services running beside
the gateway on the same broker: dossiers (masked per role), alerts and acknowledgement,
quarantine and re-injection, live rankings and scorecards; and RPC deadlines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.dossiers.service import DossiersService
from services.notifications.service import NotificationsService
from services.scoring.service import ScoringService
from tests.support.services import running, service_config, wait_for

CLOCK = {"CLOCK_START": "2026-10-06T08:00:00+07:00"}
OVERDUE: dict[str, Any] = {"dossier_code": "H99.01-260901-0001", "status": 2,
           "status_at": "2026-09-01T08:00:00+07:00", "accepted_at": "2026-09-01T08:00:00+07:00",
           "unit_code": "H99.01", "procedure_code": "1.005342", "channel": 2,
           "holder_name": "Nguyễn Thị Minh Khai", "holder_id_number": "001203012345",
           "email": "minh.khai@example.com", "phone": "0912345678"}
STRAY = {**OVERDUE, "dossier_code": "H99.01-260901-0002", "unit_code": "H99.NOPE"}
PERSONAL = ("holder_name", "holder_id_number", "email", "phone")


def _others(vhost: str, tmp: Path) -> Any:
    from contextlib import ExitStack

    stack = ExitStack()
    stack.enter_context(running(DossiersService, service_config(
        vhost, f"sqlite:///{tmp}/dossiers.db", **CLOCK), migrate="dossiers"))
    stack.enter_context(running(NotificationsService, service_config(
        vhost, f"sqlite:///{tmp}/notifications.db", **CLOCK), migrate="notifications"))
    stack.enter_context(running(ScoringService, service_config(
        vhost, f"sqlite:///{tmp}/scoring.db", RANKING_INTERVAL=0.2, **CLOCK),
        migrate="scoring"))
    return stack


def test_drill_downs_across_the_services(gateway: dict[str, Any], tmp_path: Path) -> None:
    client = gateway["client"]
    with _others(gateway["vhost"], tmp_path):
        sent = client.post("/api/v1/ingest/events", "integrator",
                           body={"events": [OVERDUE, STRAY]})
        assert sent.status == 200, sent.body
        code = OVERDUE["dossier_code"]

        # Dossier detail: viewers never see a personal field, operators see them masked.
        viewer = wait_for(lambda: (a := client.get(f"/api/v1/dossiers/{code}", "viewer"))
                          .status == 200 and a.json(), what="the dossier")
        assert not set(PERSONAL) & set(viewer)
        assert viewer["dossier"]["deadline_state"] == "overdue"
        operator = client.get(f"/api/v1/dossiers/{code}", "operator").json()
        assert operator["holder_name"] and operator["holder_name"] != OVERDUE["holder_name"]
        assert OVERDUE["holder_id_number"] not in json.dumps(operator)
        assert client.get("/api/v1/dossiers/NO-SUCH", "viewer").status == 404
        listed = client.get("/api/v1/dossiers?state=overdue&unit=H99.01", "viewer").json()
        assert [d["dossier_code"] for d in listed["items"]] == [code]
        assert listed["total"] is None and listed["limit"] == 50
        assert client.get("/api/v1/dossiers?state=late", "viewer").status == 400

        # Alerts: listed, acknowledged once, then a conflict.
        alerts = wait_for(lambda: client.get("/api/v1/alerts?unit=H99.01", "viewer")
                          .json()["items"], what="the overdue alert")
        key = next(a["key"] for a in alerts if a["dossier_code"] == code)
        assert OVERDUE["holder_name"] not in json.dumps(alerts)
        acked = client.post(f"/api/v1/alerts/{key}/ack", "operator", body={"by": "Chị Lan"})
        assert acked.status == 200, acked.body
        assert acked.json()["state"] == "acknowledged"
        assert acked.json()["acknowledged_by"] == "Chị Lan"
        assert client.post(f"/api/v1/alerts/{key}/ack", "operator").status == 409
        missing = client.post("/api/v1/alerts/no-such-key/ack", "admin")
        assert missing.status == 404 and missing.json()["error"]["code"] == "not_found"

        # Quarantine: the stray unit is parked; an operator fixes and re-injects it.
        items = wait_for(lambda: client.get("/api/v1/quarantine", "operator")
                         .json()["items"], what="the quarantined event")
        assert items[0]["reason_code"] == "unknown_unit"
        fixed = json.dumps({**STRAY, "unit_code": "H99.02"})
        done = client.post(f"/api/v1/quarantine/{items[0]['id']}/reinject", "operator",
                           body={"payload": fixed})
        assert done.status == 200 and done.json()["state"] == "reinjected"
        again = client.post(f"/api/v1/quarantine/{items[0]['id']}/reinject", "operator")
        assert again.status == 409
        assert client.post("/api/v1/quarantine/999999/reinject", "operator").status == 404
        assert client.get("/api/v1/quarantine?state=open", "operator").json()["items"] == []
        wait_for(lambda: client.get(f"/api/v1/dossiers/{STRAY['dossier_code']}", "viewer")
                 .status == 200, what="the re-injected dossier")

        # Rankings from scoring's RankingChanged events, scorecards by RPC.
        ranking = wait_for(lambda: (a := client.get(
            "/api/v1/rankings?level=department&period=2026", "viewer")).status == 200
            and a.json()["version"] and a.json(), what="a published ranking")
        units = {e["unit_code"]: e for e in ranking["entries"]}
        assert units["H99.01"]["unit_name"] == "Sở Tư pháp"
        card = client.get("/api/v1/units/H99.01/scorecard?period=2026", "viewer")
        assert card.status == 200, card.body
        assert card.json()["unit_name_en"] == "Department of Justice"
        assert card.json()["lines"] and card.json()["unit_code"] == "H99.01"
        assert client.get("/api/v1/units/H99.NOPE/scorecard", "viewer").status == 404
        # Current month (October) from scoring by RPC when no event has been stored yet.
        assert client.get("/api/v1/rankings?level=commune", "viewer").status == 200

        kpis = wait_for(lambda: (k := client.get("/api/v1/kpis", "viewer").json())
                        ["open_overdue"] >= 1 and k, what="overdue counted")
        assert kpis["open_total"] >= 1


def test_rpc_to_a_stopped_service_times_out_with_504(gateway: dict[str, Any],
                                                      tmp_path: Path) -> None:
    client = gateway["client"]
    # Never started: nothing listens for its RPC at all.
    gone = client.get("/api/v1/dossiers/X", "viewer")
    assert gone.status == 502 and gone.json()["error"]["code"] == "upstream_error"
    # Started once, then stopped: its queue keeps the request and nobody answers.
    with running(DossiersService, service_config(
            gateway["vhost"], f"sqlite:///{tmp_path}/d.db", **CLOCK), migrate="dossiers"):
        assert client.get("/api/v1/dossiers/X", "viewer").status == 404
    answer = client.get("/api/v1/dossiers/X", "viewer")
    assert answer.status == 504
    assert answer.json()["error"]["code"] == "upstream_timeout"
    # The read model keeps serving while drill-downs time out.
    assert client.get("/api/v1/kpis", "viewer").status == 200
