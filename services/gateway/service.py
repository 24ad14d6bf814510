"""The gateway service: entrypoints only (authorise, validate, call, serialise).

REST and SSE from its read model (fed by ranking, alert and dossier events), RPC with a
deadline for drill-downs, HTTP ingest published with confirms, the dashboard's files."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from services.common.entrypoints import InboundMessage, configured_timer, reliable_consume
from services.common.topology import events_exchange
from services.common.web import Observable, json_response

from . import handlers, ingest, openapi, static, stream, views
from .dependencies import (
    GatewaySettings,
    IngestPublisher,
    ProvinceData,
    ServiceClock,
    StreamHub,
    UpstreamRpc,
    store,
)
from .entrypoint import api, caller_of
from .errors import NotFound, ValidationFailed

# Two queues, so that rankings and alerts for the live stream never wait behind a backlog of
# dossier events (which only feed the KPI counters).
EVENTS_QUEUE = "gateway.events"
ROUTING_KEYS = ["dossier.#"]
LIVE_QUEUE = "gateway.live"
LIVE_ROUTING_KEYS = ["scoring.ranking_changed", "notification.#"]


class GatewayService(Observable):
    name = "gateway"

    db = store()
    clock = ServiceClock()
    province = ProvinceData()
    settings = GatewaySettings()
    rpc = UpstreamRpc()
    publisher = IngestPublisher()
    hub = StreamHub()

    # -- the read model -------------------------------------------------------------------

    @reliable_consume(EVENTS_QUEUE, events_exchange, ROUTING_KEYS, service="gateway")
    def on_events(self, messages: list[InboundMessage]) -> list[str]:
        return self._read_model(messages)

    @reliable_consume(LIVE_QUEUE, events_exchange, LIVE_ROUTING_KEYS, service="gateway")
    def on_live_events(self, messages: list[InboundMessage]) -> list[str]:
        return self._read_model(messages)

    def _read_model(self, messages: list[InboundMessage]) -> list[str]:
        outcomes = handlers.handle_events(self.db.uow(), messages, datetime.now(UTC))
        if "streamed" in outcomes:
            self.hub.notify()
        return ["processed" if o == "streamed" else o for o in outcomes]

    @configured_timer("KPI_INTERVAL", 1.0)
    def publish_kpis(self) -> bool:
        emitted = handlers.emit_kpis(self.db.uow(), self.clock(), datetime.now(UTC))
        if emitted:
            self.hub.notify()
        return emitted

    @configured_timer("STREAM_PRUNE_INTERVAL", 60.0)
    def prune_stream(self) -> int:
        s = self.settings
        return handlers.prune_stream(self.db.uow(), datetime.now(UTC), s.stream_keep,
                                     s.stream_max_age_s)

    # -- pages and documents --------------------------------------------------------------

    @api("dashboard")
    def dashboard(self, request: Request) -> Response:
        return static.file_response(self.settings.static_dir, "index.html")

    @api("static")
    def static_file(self, request: Request, path: str) -> Response:
        return static.file_response(self.settings.static_dir, path)

    @api("openapi")
    def openapi_json(self, request: Request) -> Response:
        return json_response(openapi.spec())

    @api("docs")
    def docs(self, request: Request) -> Response:
        return Response(openapi.docs_page(), mimetype="text/html")

    @api("api_not_found")
    def api_not_found(self, request: Request, path: str) -> Response:
        raise NotFound(f"no endpoint {request.method} /api/{path}; see /openapi.json")

    # -- reads ----------------------------------------------------------------------------

    @api("units")
    def units(self, request: Request) -> Response:
        level = views.level(request, default=None)
        limit, offset = views.page(request)
        found = [u for u in self.province.province.units
                 if level is None or u.level.value == level]
        items = [views.unit_view(u) for u in found[offset:offset + limit]]
        return json_response(views.listing(items, len(found), limit, offset))

    @api("procedures")
    def procedures(self, request: Request) -> Response:
        limit, offset = views.page(request)
        found = self.province.province.procedures
        items = [views.procedure_view(p) for p in found[offset:offset + limit]]
        return json_response(views.listing(items, len(found), limit, offset))

    @api("rankings")
    def rankings(self, request: Request) -> Response:
        scheme, level = views.scheme(request), views.level(request) or "department"
        period = views.period(request, self.clock())
        body = handlers.stored_ranking(self.db.uow(), scheme, level, period)
        if body is None:
            body = self.rpc.call("scoring", "get_ranking", scheme, level, period)
        return json_response(views.ranking_view(self.province.province, body))

    @api("scorecard")
    def scorecard(self, request: Request, code: str) -> Response:
        if self.province.province.unit(code) is None:
            raise NotFound(f"no unit {code!r} in this province")
        limit, offset = views.page(request)
        card = self.rpc.call("scoring", "get_scorecard", views.scheme(request), code,
                             views.period(request, self.clock()), limit, offset)
        return json_response({**card, **views.unit_names(self.province.province, code)})

    @api("kpis")
    def kpis(self, request: Request) -> Response:
        return json_response(handlers.read_kpis(self.db.uow(), self.clock()))

    @api("dossiers")
    def dossiers(self, request: Request) -> Response:
        limit, offset = views.page(request)
        items = self.rpc.call("dossiers", "list_dossiers", views.state(request),
                              request.args.get("unit") or None, limit, offset)
        return json_response(views.listing(items, None, limit, offset))

    @api("dossier")
    def dossier(self, request: Request, code: str) -> Response:
        detail = self.rpc.call("dossiers", "get_dossier", code)
        if detail is None:
            raise NotFound(f"no dossier {code!r}")
        if not caller_of(request).can("operate"):
            detail = views.without_personal(detail)
        return json_response(detail)

    @api("alerts")
    def alerts(self, request: Request) -> Response:
        limit, offset = views.page(request)
        args = request.args
        items = self.rpc.call("notifications", "list_alerts", args.get("unit") or None,
                              args.get("kind") or None, args.get("state") or None,
                              limit, offset)
        return json_response(views.listing(items, None, limit, offset))

    @api("quarantine")
    def quarantine(self, request: Request) -> Response:
        limit, offset = views.page(request)
        state = views.choice(request, "state", ("open", "reinjected", "all"), "open")
        found = self.rpc.call("dossiers", "list_quarantined", state, limit, offset)
        return json_response(views.listing(found["items"], found["total"], limit, offset))

    # -- actions --------------------------------------------------------------------------

    @api("ack")
    def ack(self, request: Request, key: str) -> Response:
        body = self._small_json(request)
        by = body.get("by") or caller_of(request).name
        return json_response(self.rpc.call("notifications", "acknowledge", key, str(by)))

    @api("reinject")
    def reinject(self, request: Request, id: str) -> Response:
        if not (id.isascii() and id.isdigit()):
            raise ValidationFailed(f"quarantine id must be an integer, got {id!r}", field="id")
        payload = self._small_json(request).get("payload")
        if payload is not None and not isinstance(payload, str):
            raise ValidationFailed("payload must be the fixed raw JSON as a string",
                                   field="payload")
        return json_response(self.rpc.call("dossiers", "reinject", int(id), payload))

    @api("ingest_dvcqg")
    def ingest_dvcqg(self, request: Request) -> Response:
        raw = views.read_body(request, self.settings.ingest_max_bytes)
        message = ingest.dvcqg_message(raw)
        self.publisher.publish([message])
        return json_response({"error_code": "0", "message": "accepted",
                              "message_id": message.message_id})

    @api("ingest_events")
    def ingest_events(self, request: Request) -> Response:
        raw = views.read_body(request, self.settings.ingest_max_bytes)
        messages = ingest.event_messages(raw)
        self.publisher.publish(messages)
        return json_response({"accepted": len(messages),
                              "message_ids": [m.message_id for m in messages]})

    # -- live -----------------------------------------------------------------------------

    @api("stream")
    def live_stream(self, request: Request) -> Response:
        after = stream.last_event_id(request)
        db = self.db
        if after is None:  # a new client starts from now; the REST reads give it the state
            after = handlers.last_stream_id(db.uow())

        def read(last: int) -> list[tuple[int, str, dict[str, Any]]]:
            return handlers.stream_after(db.uow(), last)

        s = self.settings
        return stream.response(request, stream.events(read, self.hub, after, s.heartbeat_s,
                                                      s.poll_s))

    def _small_json(self, request: Request) -> dict[str, Any]:
        body = views.json_body(views.read_body(request, 64 * 1024), required=False)
        if not isinstance(body, dict):
            raise ValidationFailed("the body must be a JSON object")
        return body
