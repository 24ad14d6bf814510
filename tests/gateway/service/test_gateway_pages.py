"""Public rankings, the rate limit, the dashboard's files, the OpenAPI document and docs page,
and the health endpoints, on a running gateway."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any

from services.gateway.dependencies import STATIC_DIR
from services.gateway.service import GatewayService
from tests.gateway.service.conftest import Client, gateway_config
from tests.support.services import running


def test_public_rankings_open_only_the_dashboard_reads(vhost: str, tmp_path: Path) -> None:
    cfg = gateway_config(vhost, f"sqlite:///{tmp_path}/gw.db", PUBLIC_RANKINGS="true")
    with running(GatewayService, cfg, migrate="gateway"):
        client = Client(cfg["WEB_SERVER_ADDRESS"])
        assert client.get("/api/v1/kpis").status == 200
        assert client.get("/api/v1/units?level=commune").status == 200
        conn = http.client.HTTPConnection(client.host, client.port, timeout=10)
        conn.request("GET", "/api/v1/stream")
        assert conn.getresponse().status == 200  # the stream itself never ends
        conn.close()
        for path in ("/api/v1/alerts", "/api/v1/procedures", "/api/v1/dossiers/X",
                     "/api/v1/quarantine"):
            assert client.get(path).status == 401, path
        # An integrator token still may not read, public or not.
        assert client.get("/api/v1/kpis", "integrator").status == 200
        assert client.get("/api/v1/alerts", "integrator").status == 403


def test_rate_limit_answers_429_with_retry_after(vhost: str, tmp_path: Path) -> None:
    cfg = gateway_config(vhost, f"sqlite:///{tmp_path}/gw.db", RATE_LIMIT_PER_MINUTE=5)
    with running(GatewayService, cfg, migrate="gateway"):
        client = Client(cfg["WEB_SERVER_ADDRESS"])
        answers = [client.get("/api/v1/kpis", "viewer") for _ in range(6)]
        assert [a.status for a in answers[:5]] == [200] * 5
        assert answers[5].status == 429
        assert answers[5].json()["error"]["code"] == "rate_limited"
        assert int(answers[5].headers["retry-after"]) >= 1
        # Per token: another caller is not affected; health checks are never limited.
        assert client.get("/api/v1/kpis", "operator").status == 200
        assert client.get("/healthz").status == 200


def test_dashboard_and_static_files(vhost: str, tmp_path: Path) -> None:
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>ParPulse</title>")
    (static / "css" / "app.css").write_text("body{}")
    (static / "app.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside")
    cfg = gateway_config(vhost, f"sqlite:///{tmp_path}/gw.db", STATIC_DIR=str(static))
    with running(GatewayService, cfg, migrate="gateway"):
        client = Client(cfg["WEB_SERVER_ADDRESS"])
        # The page holds no data: it is served to anyone; its API calls need the token.
        page = client.get("/")
        assert page.status == 200 and b"ParPulse" in page.body
        assert page.headers["content-type"].startswith("text/html")
        assert client.get("/api/v1/kpis").status == 401
        css = client.get("/static/css/app.css")
        assert css.status == 200 and css.headers["content-type"].startswith("text/css")
        js = client.get("/static/app.js")
        assert js.headers["content-type"].startswith("text/javascript")
        for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt",
                     "/static/css/../../secret.txt", "/static/nope.js"):
            answer = client.get(path)
            assert answer.status == 404 and b"outside" not in answer.body, path


def test_the_shipped_dashboard_is_served(gateway: dict[str, Any]) -> None:
    if not (STATIC_DIR / "index.html").exists():
        return  # the dashboard is written separately; nothing to serve yet
    page = gateway["client"].get("/", "viewer")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")


def test_openapi_docs_and_health(gateway: dict[str, Any]) -> None:
    client = gateway["client"]
    spec = client.get("/openapi.json")
    assert spec.status == 200
    doc = spec.json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/rankings" in doc["paths"] and "/api/v1/stream" in doc["paths"]
    assert "RankingView" in doc["components"]["schemas"]
    docs = client.get("/docs")
    assert docs.status == 200 and b"/api/v1/ingest/dvcqg" in docs.body
    assert b"<script src=\"http" not in docs.body
    assert client.get("/healthz").status == 200
    ready = client.get("/readyz")
    assert ready.status == 200 and ready.json()["ready"] is True
    assert b"parpulse_sse_clients" in client.get("/metrics").body
