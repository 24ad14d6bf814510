"""Small HTTP helpers every service uses for /metrics, /healthz and /readyz."""

from __future__ import annotations

import json
from typing import Any

from kombu import Connection
from nameko import config
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Request, Response


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    mimetype="application/json", headers=headers)


def metrics_response() -> Response:
    return Response(generate_latest(), status=200, content_type=CONTENT_TYPE_LATEST)


def broker_reachable(uri: str) -> bool:
    try:
        with Connection(uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def readiness(database_ok: bool, amqp_uri: str) -> Response:
    broker_ok = broker_reachable(amqp_uri)
    ready = database_ok and broker_ok
    return json_response(
        {"ready": ready, "database": database_ok, "broker": broker_ok},
        status=200 if ready else 503,
    )


class Observable:
    """Mixin for a nameko service class: /metrics, /healthz and /readyz.

    The service must have a `db` dependency (the kit's TransactionalStore)."""

    db: Any

    @http("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        return metrics_response()

    @http("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    @http("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        return readiness(self.db.ping(), config["AMQP_URI"])
