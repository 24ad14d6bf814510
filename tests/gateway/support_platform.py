"""The whole platform in this test process: the gateway with every role's token, and the
dossiers, scoring and notifications services beside it (each on its own PostgreSQL database), so
the gateway's drill-downs are answered rather than timing out; and seed data sent through the
gateway's own ingest, so that drill-downs can find something."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from services.dossiers.service import DossiersService
from services.gateway.service import GatewayService
from services.notifications.service import NotificationsService
from services.scoring.service import ScoringService
from tests.gateway.service.conftest import Client, gateway_config
from tests.support.databases import postgres_database
from tests.support.services import running, service_config, wait_for

PG_ADMIN = os.environ.get("TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLOCK = {"CLOCK_START": "2026-10-06T08:00:00+07:00"}
# Alerts are raised and listed, never delivered: the demo contacts' webhooks and mail server do
# not exist here, and a delivery pass retrying them holds the container's stop for many seconds.
QUIET = {"DELIVERY_INTERVAL": 3600, "ESCALATION_INTERVAL": 3600, "DIGEST_INTERVAL": 3600}
OTHERS = (("dossiers", DossiersService, {}), ("scoring", ScoringService, {}),
          ("notifications", NotificationsService, QUIET))

# Overdue for a month on the services' clock (6 Oct 2026): the dossiers service reports it, and
# notifications raises an alert. Personal fields, so operators get them masked.
OVERDUE: dict[str, Any] = {
    "dossier_code": "H99.01-260901-0001", "status": 2, "status_at": "2026-09-01T08:00:00+07:00",
    "accepted_at": "2026-09-01T08:00:00+07:00", "unit_code": "H99.01",
    "procedure_code": "1.005342", "channel": 2, "holder_name": "Nguyễn Thị Minh Khai",
    "holder_id_number": "001203012345", "email": "minh.khai@example.com", "phone": "0912345678"}
WITHIN = {**OVERDUE, "dossier_code": "H99.02-261006-0001", "unit_code": "H99.02",
          "status_at": "2026-10-06T07:30:00+07:00", "accepted_at": "2026-10-06T07:30:00+07:00"}
# A unit not in the registry: quarantined.
STRAY = {**OVERDUE, "dossier_code": "H99.01-260901-0002", "unit_code": "H99.NOPE"}
SEED_WAIT_S = 60.0  # a bound on waiting, on a slow shared machine; usually a few seconds


@contextmanager
def platform(vhost: str, gateway_db: str, **gateway_extra: object) -> Iterator[str]:
    """Starts the four services, yields the gateway's address; stops them all on the way out,
    whatever happened (the ExitStack unwinds every container and database it entered)."""
    with ExitStack() as stack:
        for name, cls, extra in OTHERS:
            db = stack.enter_context(postgres_database(PG_ADMIN))
            stack.enter_context(running(cls, service_config(vhost, db, **CLOCK, **extra),
                                        migrate=name))
        cfg = gateway_config(vhost, gateway_db, **gateway_extra)
        stack.enter_context(running(GatewayService, cfg, migrate="gateway"))
        address = str(cfg["WEB_SERVER_ADDRESS"])
        client = Client(address)
        wait_for(lambda: client.get("/readyz").status == 200, what="the gateway's /readyz")
        yield address


def seed(address: str) -> dict[str, list[Any]]:
    """Sends the seed dossiers through the gateway and waits until the other services have them;
    returns what exists by kind: unit codes, dossier codes, alert keys, quarantine ids."""
    client = Client(address)
    sent = client.post("/api/v1/ingest/events", "integrator",
                       body={"events": [OVERDUE, WITHIN, STRAY]})
    assert sent.status == 200, sent.body
    for code in (OVERDUE["dossier_code"], WITHIN["dossier_code"]):
        wait_for(lambda c=code: client.get(f"/api/v1/dossiers/{c}", "viewer").status == 200,
                 timeout=SEED_WAIT_S, what=f"the seed dossier {code}")
    alerts = wait_for(lambda: _items(client, "/api/v1/alerts?unit=H99.01", "viewer"),
                      timeout=SEED_WAIT_S, what="the seed dossier's overdue alert")
    quarantined = wait_for(lambda: _items(client, "/api/v1/quarantine", "operator"),
                           timeout=SEED_WAIT_S, what="the quarantined seed event")
    units = _items(client, "/api/v1/units?limit=500", "viewer")
    return {"units": [u["code"] for u in units],
            "dossiers": [OVERDUE["dossier_code"], WITHIN["dossier_code"]],
            "alerts": [a["key"] for a in alerts],
            "quarantine": [q["id"] for q in quarantined]}


def _items(client: Client, path: str, role: str) -> list[dict[str, Any]]:
    """A listing's items; none while the service behind it is not answering yet."""
    answer = client.get(path, role)
    items: list[dict[str, Any]] = answer.json()["items"] if answer.status == 200 else []
    return items
