"""A message some queue dead-letters raises one operators' alert; the DLQ keeps its copy."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nameko.standalone.rpc import ClusterRpcClient

from services.common.entrypoints import InboundMessage, reliable_consume
from services.common.topology import inbound_exchange
from services.dossiers.service import INBOUND_QUEUE, DossiersService
from services.notifications.service import NotificationsService
from tests.dossiers.service.conftest import Inbound, native
from tests.support import broker
from tests.support.services import running, service_config, wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")


class BrokenDossiers(DossiersService):
    """The dossiers service with a handler that always fails."""

    @reliable_consume(INBOUND_QUEUE, inbound_exchange, ["#"], service="dossiers")
    def on_inbound(self, messages: list[InboundMessage]) -> list[str]:
        raise RuntimeError("handler failure injected by the test")


def test_dead_lettered_message_alerts_the_operators_once(vhost: str, tmp_path: Any) -> None:
    clock = {"CLOCK_START": "2026-10-06T08:00:00+07:00"}
    notif = service_config(vhost, f"sqlite:///{tmp_path}/n.db", DELIVERY_INTERVAL=3600, **clock)
    doss = service_config(vhost, f"sqlite:///{tmp_path}/d.db", DELIVERY_LIMIT=1, **clock)
    with running(NotificationsService, notif, migrate="notifications"), \
            running(BrokenDossiers, doss, migrate="dossiers"):
        message_id = Inbound(vhost).send(
            native("H99.01-261005-0900", 2, datetime(2026, 10, 5, 8, tzinfo=VN)))
        wait_for(lambda: broker.queue_info(vhost, f"{INBOUND_QUEUE}.dlq").get("messages") == 1,
                 what="the message parked in the DLQ")
        with ClusterRpcClient(uri=vhost) as rpc:
            alerts = wait_for(lambda: rpc.notifications.list_alerts(kind="dead_lettered"),
                              what="the operators' alert")
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["unit_code"] == "province"
    assert alert["details"]["queue"] == INBOUND_QUEUE
    assert alert["details"]["message_id"] == message_id
    # The DLQ still holds the message for inspection and replay.
    parked = broker.get_messages(vhost, f"{INBOUND_QUEUE}.dlq")
    assert json.loads(parked[0]["payload"])["dossier_code"] == "H99.01-261005-0900"
