"""A faulty network between the services and the broker (a TCP proxy): slow links, dropped
connections and a blackhole. The services detect the dead links (heartbeats, confirm
timeouts), reconnect, and nothing the broker confirmed is lost or doubled."""

from __future__ import annotations

import random
import threading
import time
from urllib.parse import urlparse

from tests.faults.conftest import PrivatePostgres
from tests.faults.faults_proxy import FaultyProxy
from tests.faults.faults_support import (
    Load,
    await_exactly_once,
    lifecycles,
    messages_of,
    pipeline,
    publish_confirmed,
)
from tests.support.services import wait_for

HEARTBEAT = 2


def test_network_faults_are_detected_and_recovered(vhost: str,
                                                   private_pg: PrivatePostgres) -> None:
    rng = random.Random(7007)
    bodies = lifecycles(rng, 50, "H99.03-NET")
    rng.shuffle(bodies)
    messages = messages_of(bodies)
    proxy = FaultyProxy(urlparse(vhost).port or 5672)
    d_url, s_url = private_pg.create_database(), private_pg.create_database()
    load = Load()
    try:
        # The services talk to the broker through the proxy; the integrator directly.
        with pipeline(proxy.uri(vhost), d_url, s_url, HEARTBEAT=HEARTBEAT):
            sender = threading.Thread(target=publish_confirmed, args=(vhost, messages, load),
                                      kwargs={"chunk": 10, "pause": 0.1})
            sender.start()
            proxy.delay = 0.05  # a slow link
            time.sleep(1.0)
            proxy.delay = 0.0
            proxy.drop_all()  # every connection reset at once
            time.sleep(1.0)
            connections = proxy.accepted
            proxy.blackhole()
            # Detected: the consumers miss the broker's heartbeats and reconnect (into the
            # blackhole, which accepts them) well before the link comes back.
            wait_for(lambda: proxy.accepted_while_blackholed > 0, timeout=6 * HEARTBEAT + 5,
                     what="a reconnection after missed heartbeats")
            proxy.heal()
            sender.join(120)
            assert not sender.is_alive(), "the publisher never finished"
            await_exactly_once(load, d_url, s_url, timeout=90)
    finally:
        proxy.close()
    assert proxy.accepted > connections, "the services reconnected after the faults"
    assert load.confirmed == set(load.sent)
