"""PostgreSQL restarted under load (fast, then immediate: a crash): handlers fail, their
messages go back to the queue unacked and are retried; nothing is acked before its commit, and
the services carry on by themselves once the database is back."""

from __future__ import annotations

import random
import threading

import pytest

from tests.faults.conftest import PrivatePostgres
from tests.faults.faults_support import (
    Load,
    await_exactly_once,
    lifecycles,
    messages_of,
    pipeline,
    publish_confirmed,
)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restarted_under_load_loses_nothing(vhost: str, private_pg: PrivatePostgres,
                                                     mode: str) -> None:
    rng = random.Random(7003)
    bodies = lifecycles(rng, 50, f"H99.01-PG{mode[0]}")
    rng.shuffle(bodies)
    messages = messages_of(bodies)
    d_url, s_url = private_pg.create_database(), private_pg.create_database()
    load = Load()
    with pipeline(vhost, d_url, s_url):
        publish_confirmed(vhost, messages[:60], load)
        sender = threading.Thread(target=publish_confirmed, args=(vhost, messages[60:], load),
                                  kwargs={"chunk": 20, "pause": 0.2})
        sender.start()
        private_pg.restart(mode)
        sender.join(120)
        assert not sender.is_alive(), "the publisher never finished"
        verdict = await_exactly_once(load, d_url, s_url, timeout=90)
    assert load.confirmed == set(load.sent)
    assert verdict.live, "the live path counted nothing"
