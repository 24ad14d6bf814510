"""A poison message: retried to the delivery limit, parked in the DLQ, alerted once, while the
queue keeps flowing; after the fix it is replayed from the DLQ and counted exactly once."""

from __future__ import annotations

import json
import random
from pathlib import Path

from nameko.standalone.rpc import ClusterRpcClient

from services.common import dlq
from services.common.entrypoints import InboundMessage, reliable_consume
from services.common.topology import inbound_exchange
from services.dossiers.service import INBOUND_QUEUE, DossiersService
from services.notifications.service import NotificationsService
from tests.faults.conftest import PrivatePostgres
from tests.faults.faults_support import (
    CLOCK,
    Load,
    await_exactly_once,
    lifecycles,
    messages_of,
    pipeline,
    publish_confirmed,
)
from tests.support import broker
from tests.support.services import running, service_config, wait_for

POISON = "H99.02-POISON-0001"
FIXED = {"done": False}


class PoisonedDossiers(DossiersService):
    """The real service with a bug: one dossier makes the handler fail until it is fixed."""

    @reliable_consume(INBOUND_QUEUE, inbound_exchange, ["#"], service="dossiers")
    def on_inbound(self, messages: list[InboundMessage]) -> list[str]:
        if not FIXED["done"] and any(POISON.encode() in m.body for m in messages):
            raise RuntimeError("bug injected by the test")
        return DossiersService.on_inbound(self, messages)


def test_poison_message_is_parked_alerted_and_replayed_after_the_fix(
        vhost: str, private_pg: PrivatePostgres, tmp_path: Path) -> None:
    rng = random.Random(7004)
    healthy = messages_of(lifecycles(rng, 30, "H99.03-HL"))
    poison = messages_of([{"dossier_code": POISON, "status": 2,
                           "status_at": "2026-10-05T08:00:00+07:00", "unit_code": "H99.02",
                           "procedure_code": "1.005342"}])
    d_url, s_url = private_pg.create_database(), private_pg.create_database()
    notif = service_config(vhost, f"sqlite:///{tmp_path}/n.db", DELIVERY_INTERVAL=3600,
                           CLOCK_START=CLOCK)
    load = Load()
    FIXED["done"] = False
    with running(NotificationsService, notif, migrate="notifications"), \
            pipeline(vhost, d_url, s_url, dossiers_cls=PoisonedDossiers, DELIVERY_LIMIT=2):
        publish_confirmed(vhost, poison + healthy, load)
        wait_for(lambda: broker.queue_info(vhost, f"{INBOUND_QUEUE}.dlq").get("messages") == 1,
                 timeout=60, what="the poison message parked in the DLQ")
        # The queue kept flowing: everything else is counted, exactly once.
        healthy_only = Load(sent=load.sent, confirmed=load.confirmed - {poison[0].message_id})
        await_exactly_once(healthy_only, d_url, s_url, timeout=60)
        with ClusterRpcClient(uri=vhost) as rpc:
            alerts = wait_for(lambda: rpc.notifications.list_alerts(kind="dead_lettered"),
                              what="the operators' alert")
            assert len(alerts) == 1
            assert alerts[0]["details"]["message_id"] == poison[0].message_id

            FIXED["done"] = True
            assert dlq.replay(vhost, INBOUND_QUEUE) == (1, 0)
            await_exactly_once(load, d_url, s_url, timeout=60)
            # The management API's counts lag by a few seconds.
            wait_for(lambda: broker.queue_info(vhost, f"{INBOUND_QUEUE}.dlq")["messages"] == 0,
                     what="an empty DLQ")
            # Replaying again finds nothing; the alert was raised once.
            assert dlq.replay(vhost, INBOUND_QUEUE) == (0, 0)
            assert len(rpc.notifications.list_alerts(kind="dead_lettered")) == 1
            detail = rpc.dossiers.get_dossier(POISON)
    assert detail["dossier"]["status"] == 2
    assert json.loads(poison[0].body)["dossier_code"] == POISON
