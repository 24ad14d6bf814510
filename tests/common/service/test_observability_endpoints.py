"""Every service answers /healthz, /readyz and a /metrics page Prometheus can parse."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from services.dossiers.service import DossiersService
from services.notifications.service import NotificationsService
from tests.support.services import running, service_config

SERVICES = [(DossiersService, "dossiers"), (NotificationsService, "notifications")]


def get(address: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://{address}{path}", timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(("service_cls", "name"), SERVICES)
def test_health_readiness_and_metrics(service_cls: Any, name: str, vhost: str,
                                      tmp_path: Any) -> None:
    cfg = service_config(vhost, f"sqlite:///{tmp_path}/{name}.db")
    with running(service_cls, cfg, migrate=name):
        address = cfg["WEB_SERVER_ADDRESS"]
        assert get(address, "/healthz")[0] == 200
        status, body = get(address, "/readyz")
        assert status == 200 and b'"ready": true' in body
        status, body = get(address, "/metrics")
    assert status == 200
    names = {f.name for f in text_string_to_metric_families(body.decode())}
    assert {"parpulse_messages_consumed", "parpulse_outbox_backlog",
            "parpulse_handler_duration_seconds"} <= names


def test_readiness_fails_when_the_database_is_unreachable(vhost: str, tmp_path: Any) -> None:
    cfg = service_config(vhost, f"sqlite:///{tmp_path}/d.db")
    with running(DossiersService, cfg, migrate="dossiers") as container:
        # The database goes away: point the store at a file that cannot be opened.
        store = next(d for d in container.dependencies if d.attr_name == "db")
        store.engine = create_engine("sqlite:////nonexistent-dir/x.db")
        status, body = get(cfg["WEB_SERVER_ADDRESS"], "/readyz")
    assert status == 503
    assert b'"database": false' in body
