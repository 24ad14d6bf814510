"""The route table: the HTTP entrypoints are declared from it and /openapi.json is built from
it, so the two cannot drift apart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from . import schemas as s

LEVELS = ("department", "branch", "commune", "district")
DEADLINE_STATES = ("overdue", "due_soon", "within", "paused")
PERIOD_PATTERN = r"^(\d{4}(-\d{2}|-Q[1-4])?|rolling-30)$"
PAGE = [("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, ""),
        ("offset", {"type": "integer", "minimum": 0, "default": 0}, "")]
PERIOD = ("period", {"type": "string", "pattern": PERIOD_PATTERN},
          "YYYY-MM, YYYY-Qn, YYYY or rolling-30; default: the current month")
SCHEME = ("scheme", {"type": "string", "default": "qd766"}, "scoring scheme")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # OpenAPI form: /api/v1/units/{code}/scorecard
    summary: str
    permission: str | None = "read"  # None: open to everyone
    public: bool = False  # readable without a token when PUBLIC_RANKINGS is on
    query: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    content_type: str = "application/json"
    errors: tuple[int, ...] = ()
    tag: str = "api"
    hidden: bool = False  # served but not documented (static files)

    @property
    def rule(self) -> str:
        """The werkzeug rule of `path`."""
        return re.sub(r"\{(\w+)\}", lambda m: "<path:path>" if m[1] == "path" else f"<{m[1]}>",
                      self.path)

    @property
    def rate_limited(self) -> bool:
        return self.path.startswith("/api/")


_ROUTES = [
    # The page holds no data (it reads the API with the token given as ?token=), so it is open:
    # a wall screen opens one URL, and every API call it makes is still authorised.
    Route("dashboard", "GET", "/", "The operations dashboard (HTML)", permission=None,
          content_type="text/html", tag="dashboard"),
    Route("static", "GET", "/static/{path}", "Dashboard assets", permission=None,
          content_type="application/octet-stream", tag="dashboard", hidden=True),
    Route("openapi", "GET", "/openapi.json", "This document", permission=None, tag="meta"),
    Route("docs", "GET", "/docs", "A page listing the endpoints", permission=None,
          content_type="text/html", tag="meta"),
    Route("healthz", "GET", "/healthz", "Liveness", permission=None, response=s.Health,
          tag="meta"),
    Route("readyz", "GET", "/readyz", "Readiness: database and broker reachable",
          permission=None, response=s.Readiness, errors=(503,), tag="meta"),
    Route("metrics", "GET", "/metrics", "Prometheus metrics", permission=None,
          content_type="text/plain", tag="meta"),
    Route("units", "GET", "/api/v1/units", "Units of the province", public=True,
          query=[("level", {"enum": list(LEVELS)}, ""), *PAGE], response=s.UnitList),
    Route("procedures", "GET", "/api/v1/procedures", "Administrative procedures",
          query=PAGE, response=s.ProcedureList),
    Route("rankings", "GET", "/api/v1/rankings", "Live ranking of a level", public=True,
          query=[SCHEME, ("level", {"enum": list(LEVELS), "default": "department"}, ""),
                 PERIOD], response=s.RankingView, errors=(502, 504)),
    Route("scorecard", "GET", "/api/v1/units/{code}/scorecard",
          "A unit's indicators and the dossiers that cost it points",
          query=[SCHEME, PERIOD, *PAGE], response=s.ScorecardView, errors=(404, 502, 504)),
    Route("kpis", "GET", "/api/v1/kpis", "Live counters of the province", public=True,
          response=s.Kpis),
    Route("dossiers", "GET", "/api/v1/dossiers", "Dossiers by deadline state",
          query=[("state", {"enum": list(DEADLINE_STATES), "default": "overdue"}, ""),
                 ("unit", {"type": "string"}, "unit code"), *PAGE],
          response=s.DossierList, errors=(502, 504)),
    Route("dossier", "GET", "/api/v1/dossiers/{code}",
          "One dossier: personal fields masked for operators, absent for viewers",
          response=s.DossierDetail, errors=(404, 502, 504)),
    Route("alerts", "GET", "/api/v1/alerts", "Alerts",
          query=[("unit", {"type": "string"}, ""), ("kind", {"type": "string"}, ""),
                 ("state", {"type": "string"}, ""), *PAGE],
          response=s.AlertList, errors=(502, 504)),
    Route("ack", "POST", "/api/v1/alerts/{key}/ack", "Acknowledge an alert",
          permission="operate", body=s.AckRequest, response=s.AlertView,
          errors=(404, 409, 502, 504)),
    Route("quarantine", "GET", "/api/v1/quarantine", "Quarantined inbound messages",
          permission="operate",
          query=[("state", {"enum": ["open", "reinjected", "all"], "default": "open"}, ""),
                 *PAGE], response=s.QuarantineList, errors=(502, 504)),
    Route("reinject", "POST", "/api/v1/quarantine/{id}/reinject",
          "Publish a quarantined message again, as it was or fixed", permission="operate",
          body=s.ReinjectRequest, response=s.QuarantinedItem, errors=(404, 409, 502, 504)),
    Route("ingest_dvcqg", "POST", "/api/v1/ingest/dvcqg",
          "The DVCQG call body (DongBoHoSoMC / CapNhatTienDoHoSoMC), answered in its style",
          permission="ingest", body=s.DvcqgCall, response=s.DvcqgAnswer,
          errors=(413, 503), tag="ingest"),
    Route("ingest_events", "POST", "/api/v1/ingest/events",
          "Native dossier events in batches of 1..1000", permission="ingest",
          body=s.IngestEvents, response=s.IngestAccepted, errors=(413, 503), tag="ingest"),
    Route("stream", "GET", "/api/v1/stream",
          "Server-sent events: ranking, alert, kpi; resumes after Last-Event-ID", public=True,
          query=[("last_event_id", {"type": "integer", "minimum": 0}, "as Last-Event-ID")],
          content_type="text/event-stream"),
    Route("api_not_found", "GET,POST,PUT,PATCH,DELETE", "/api/{path}", "Unknown API path",
          permission=None, hidden=True),
]

ROUTES: dict[str, Route] = {r.name: r for r in _ROUTES}
