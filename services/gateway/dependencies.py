"""The gateway's dependency providers: its read-model store, RPC with a deadline, the ingest
publisher (confirms before answering) and the in-process wake-up of SSE streams."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import eventlet
from eventlet.event import Event as GreenEvent
from eventlet.semaphore import Semaphore
from nameko import config
from nameko.extensions import DependencyProvider
from nameko.rpc import ClusterRpc

from services.common.dependencies import ProvinceData, ServiceClock, TransactionalStore
from services.common.publisher import ConfirmingPublisher, OutgoingMessage

from .adapters.uow import GatewayUnitOfWork
from .errors import BrokerUnavailable, UpstreamTimeout

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"


def store() -> TransactionalStore:
    # The gateway owns no events: no outbox relay.
    return TransactionalStore("gateway", uow_cls=GatewayUnitOfWork, relay=False)


@dataclass(frozen=True)
class Settings:
    ingest_max_bytes: int
    rpc_timeout: float
    stream_keep: int
    stream_max_age_s: float
    heartbeat_s: float
    poll_s: float
    static_dir: Path


class GatewaySettings(DependencyProvider):
    def setup(self) -> None:
        self.settings = Settings(
            ingest_max_bytes=int(config.get("INGEST_MAX_BYTES") or 5 * 1024 * 1024),
            rpc_timeout=float(config.get("RPC_TIMEOUT") or 5.0),
            stream_keep=int(config.get("STREAM_KEEP") or 10_000),
            stream_max_age_s=float(config.get("STREAM_MAX_AGE") or 86_400),
            heartbeat_s=float(config.get("SSE_HEARTBEAT") or 15.0),
            poll_s=float(config.get("SSE_POLL") or 1.0),
            static_dir=Path(config.get("STATIC_DIR") or STATIC_DIR),
        )

    def get_dependency(self, worker_ctx: Any) -> Settings:
        return self.settings


class Upstream:
    """`call("dossiers", "get_dossier", code)`: an RPC that gives up after `timeout` seconds
    (nameko's own never does)."""

    def __init__(self, client: Any, timeout: float) -> None:
        self._client = client
        self.timeout = timeout

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        deadline = eventlet.Timeout(self.timeout)
        try:
            return self._client[service][method](*args, **kwargs)
        except eventlet.Timeout as exc:
            # A BaseException: left as is, it would kill the worker before it answers.
            if exc is not deadline:
                raise
            raise UpstreamTimeout(f"{service}.{method} did not answer within "
                                  f"{self.timeout:g}s") from None
        finally:
            deadline.cancel()


class UpstreamRpc(ClusterRpc):
    def setup(self) -> None:
        self.timeout = float(config.get("RPC_TIMEOUT") or 5.0)
        super().setup()

    def get_dependency(self, worker_ctx: Any) -> Upstream:
        return Upstream(super().get_dependency(worker_ctx), self.timeout)


class Publisher:
    def __init__(self, publish: Callable[[list[OutgoingMessage]], None]) -> None:
        self.publish = publish


class IngestPublisher(DependencyProvider):
    """One confirming publisher per container; a green lock keeps one batch on the channel at a
    time. `publish` returns only when the broker confirmed every message."""

    def setup(self) -> None:
        self.publisher = ConfirmingPublisher(
            config["AMQP_URI"], confirm_timeout=float(config.get("CONFIRM_TIMEOUT") or 10.0))
        self.lock = Semaphore(1)

    def stop(self) -> None:
        with self.lock:
            self.publisher.close()

    def publish(self, messages: list[OutgoingMessage]) -> None:
        with self.lock:
            result = self.publisher.publish_batch(messages)
        if result.failed or len(result.confirmed) != len(messages):
            reason = next(iter(result.failed.values()), "not confirmed")
            log.warning("ingest not confirmed: %s", reason)
            raise BrokerUnavailable(f"the broker did not confirm the message(s): {reason}")

    def get_dependency(self, worker_ctx: Any) -> Publisher:
        return Publisher(self.publish)


class Hub:
    """Wakes every SSE stream of this process when the consumer appended stream events; other
    replicas' streams find them by polling."""

    def __init__(self) -> None:
        self._event = GreenEvent()
        self.stopped = False

    def notify(self) -> None:
        event, self._event = self._event, GreenEvent()
        event.send(True)

    def wait(self, timeout: float) -> None:
        event = self._event
        with eventlet.Timeout(timeout, False):
            event.wait()


class StreamHub(DependencyProvider):
    def setup(self) -> None:
        self.hub = Hub()

    def stop(self) -> None:
        self.hub.stopped = True
        self.hub.notify()

    def get_dependency(self, worker_ctx: Any) -> Hub:
        return self.hub


__all__ = ["GatewaySettings", "IngestPublisher", "ProvinceData", "ServiceClock", "StreamHub",
           "UpstreamRpc", "store"]
