"""The scoring service on the real broker and database: dossier events in, rankings out."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from kombu import Producer
from nameko.containers import ServiceContainer
from nameko.standalone.rpc import ClusterRpcClient
from sqlalchemy import func, select

from services.common.dependencies import TransactionalStore
from services.common.tables import ProcessedMessage
from services.common.topology import events_exchange
from services.contracts.base import Event
from services.contracts.dossiers import DossierEvent
from services.scoring.adapters.repository import Cells
from services.scoring.adapters.uow import ScoringUnitOfWork
from services.scoring.replay import fold, replay
from services.scoring.service import EVENTS_QUEUE, ScoringService
from tests.scoring.scoring_support import (
    CLOCK_START,
    TODAY,
    at,
    event_for,
    random_history,
    snapshot,
)
from tests.support.broker import publishing_connection, queue_info
from tests.support.services import EventTap, free_port, running, service_config, wait_for


class Events:
    """Publishes events the way the dossiers service's outbox relay does."""

    def __init__(self, uri: str) -> None:
        self.conn = publishing_connection(uri)
        self.producer = Producer(self.conn.channel(), exchange=events_exchange)

    def send(self, event: Event, message_id: str | None = None) -> None:
        self.producer.publish(event.model_dump_json().encode(), routing_key=event.TYPE,
                              content_type="application/json", content_encoding="binary",
                              delivery_mode=2, type=event.TYPE,
                              message_id=message_id or str(event.event_id))

    def close(self) -> None:
        self.conn.release()


def _cfg(vhost: str, url: str) -> dict[str, Any]:
    return service_config(vhost, url, CLOCK_START=CLOCK_START, CLOCK_SPEED=1.0,
                          RANKING_INTERVAL=0.2)


@pytest.fixture
def scoring(vhost: str, database_url: str) -> Iterator[dict[str, Any]]:
    cfg = _cfg(vhost, database_url)
    tap = EventTap(vhost, "scoring.#")
    events = Events(vhost)
    with running(ScoringService, cfg, migrate="scoring") as container:
        yield {"cfg": cfg, "tap": tap, "events": events, "container": container}
    events.close()
    tap.close()


def _new_uow(container: ServiceContainer) -> Callable[[], ScoringUnitOfWork]:
    """Units of work on the running service's own engine: a second engine on the same SQLite
    file would wait for its write lock outside the service's green lock and stall eventlet."""
    store = next(e for e in container.extensions if isinstance(e, TransactionalStore))
    return lambda: ScoringUnitOfWork(store.sessions)


def _processed(container: ServiceContainer) -> int:
    with _new_uow(container)() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(ProcessedMessage)) or 0)


def _cells(container: ServiceContainer) -> Cells:
    with _new_uow(container)() as uow:
        return uow.scores.all_cells()


def _latest(tap: EventTap, scheme: str, level: str, period: str) -> dict[str, Any] | None:
    found = [e for e in tap.of_type("scoring.ranking_changed")
             if (e["scheme"], e["level"], e["period"]) == (scheme, level, period)]
    return max(found, key=lambda e: e["version"]) if found else None


def test_dossier_events_in_ranking_out(scoring: dict[str, Any]) -> None:
    events, tap, cfg = scoring["events"], scoring["tap"], scoring["cfg"]
    done = at(TODAY)
    for snap in [
        snapshot("A-1", 1, "H99.01", 9, channel=2, outcome="on_time", completed_at=done),
        snapshot("A-2", 1, "H99.01", 9, channel=2, outcome="early", completed_at=done),
        snapshot("B-1", 1, "H99.02", 9, channel=1, outcome="late", completed_at=done),
        snapshot("B-2", 1, "H99.02", 4, channel=2, deadline_state="within"),
    ]:
        events.send(event_for(snap))

    def settled() -> dict[str, Any] | None:
        # Events are coalesced, so intermediate rankings may come first. H99.02 scores 0 with
        # B-1 alone, 100 with B-2 alone, in between only with both; H99.01 is 100 either way.
        latest = _latest(tap, "qd766", "department", "2026-11")
        scores = {e["unit_code"]: e["score_100"] for e in (latest or {}).get("entries", [])}
        return latest if 1 < (scores.get("H99.02") or 0) < 99 else None

    ranking = wait_for(settled, what="a ranking of all four dossiers")
    top, second = ranking["entries"][:2]
    # H99.01: progress 2/2 -> 20, online 2/2 over a 50% target -> 12: 32/32.
    assert (top["unit_code"], top["rank"], round(top["score_100"], 2)) == ("H99.01", 1, 100.0)
    # H99.02: progress 1/2 -> 10, online 1/2 = target -> 12: 22/32 = 68.75, "average".
    assert (second["unit_code"], second["rank"]) == ("H99.02", 2)
    assert round(second["score_100"], 2) == 68.75 and second["band"] == "average"
    assert second["measured_max"] == 32.0

    with ClusterRpcClient(uri=cfg["AMQP_URI"]) as rpc:
        card = rpc.scoring.get_scorecard("qd766", "H99.02", "2026-11")
        line = {x["key"]: x for x in card["lines"]}["handled_on_time"]
        assert (line["numerator"], line["denominator"], line["points"]) == (1, 2, 10.0)
        assert [(c["dossier_code"], c["indicators"]) for c in card["costly"]] == [
            ("B-1", ["handled_on_time", "online_filing"])]
        rpc.scoring.submit_external_input("H99.02", "2026-11", {"procedures_published": 1.0})
        wait_for(lambda: (_latest(tap, "qd766", "department", "2026-11") or {})
                 .get("version", 0) > ranking["version"], what="a ranking after the input")
        closed = rpc.scoring.close_period("2026-11")
        frozen = rpc.scoring.get_ranking("qd766", "department", "2026-11")
    assert frozen["closed"] is True
    # 12 more points measured and earned: (22 + 12) / 44.
    assert round(frozen["entries"][1]["score_100"], 2) == round(34 / 44 * 100, 2)
    assert any(r["scheme"] == "province-weighted" for r in closed)


def test_duplicate_and_reordered_events_count_once(scoring: dict[str, Any]) -> None:
    events, service = scoring["events"], scoring["container"]
    versions = [snapshot("R-1", 1, "H99.03", 2),
                snapshot("R-1", 2, "H99.03", 4, deadline_state="overdue"),
                snapshot("R-1", 3, "H99.03", 9, outcome="late", completed_at=at(TODAY))]
    by_version = {s.version: event_for(s) for s in versions}
    for v in (3, 1, 2, 3):
        events.send(by_version[v])
    events.send(event_for(versions[2]))  # the same snapshot under a new event id
    wait_for(lambda: _processed(service) == 4, what="4 distinct messages processed")
    _, in_order = fold(versions)
    assert _cells(service) == in_order.cells
    month = _cells(service)[("H99.03", "2026-11")]
    assert month["closed_late"] == 1 and "open_overdue" not in month


def _deliver_random(uri: str, service: ServiceContainer, seed: int
                    ) -> tuple[list[Any], list[DossierEvent]]:
    snapshots, deliveries = random_history(random.Random(seed), 30)
    events = Events(uri)
    for event in deliveries:
        events.send(event)
    events.close()
    distinct = len({e.event_id for e in deliveries})
    wait_for(lambda: _processed(service) == distinct, timeout=60,
             what="every message processed")
    return snapshots, deliveries


def test_replay_equals_live(scoring: dict[str, Any]) -> None:
    service = scoring["container"]
    snapshots, _ = _deliver_random(scoring["cfg"]["AMQP_URI"], service, seed=7)
    live = _cells(service)
    _, expected = fold(snapshots)
    assert live == expected.cells
    replay(_new_uow(service)(), reversed(snapshots))
    assert _cells(service) == live


def test_two_replicas_count_like_one(vhost: str, pg_url: str) -> None:
    with ExitStack() as stack:
        replicas = []
        for _ in range(2):
            cfg = {**_cfg(vhost, pg_url), "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}"}
            replicas.append(stack.enter_context(
                running(ScoringService, cfg, migrate="scoring")))
        # Both replicas really consume (management statistics lag a few seconds).
        wait_for(lambda: queue_info(vhost, EVENTS_QUEUE).get("consumers") == 2,
                 what="two consumers on the queue")
        snapshots, _ = _deliver_random(vhost, replicas[0], seed=11)
        live = _cells(replicas[1])
    _, one = fold(snapshots)
    assert live == one.cells
