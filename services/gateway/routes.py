"""The route table: the HTTP entrypoints are declared from it and /openapi.json is built from
it, so the two cannot drift apart."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from werkzeug.routing import Map, Rule

from . import schemas as s

LEVELS = ("department", "branch", "commune", "district")
DEADLINE_STATES = ("overdue", "due_soon", "within", "paused")
# Years 1900-2999 and real months only: the scoring service turns a period into dates, and
# year 0, month 13 or the end of year 9999 are not dates (its ValueError came back as a 400 for
# a request the document allowed). [0-9], not \d: Python's \d also matches other scripts' digits,
# JSON Schema's (ECMA 262) does not.
PERIOD_PATTERN = r"^((19|2[0-9])[0-9]{2}(-(0[1-9]|1[0-2])|-Q[1-4])?|rolling-30)$"
MAX_LIMIT = 500
MAX_OFFSET = 10**9
PAGE = [("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}, ""),
        ("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}, "")]
# Database ids (BIGINT).
ROW_ID = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
# Free text passed on to the services: anything but NUL, which PostgreSQL text cannot hold (its
# error came back as a 400 for a request the document allowed).
TEXT = {"type": "string", "pattern": s.NUL_FREE}
PERIOD = ("period", {"type": "string", "pattern": PERIOD_PATTERN},
          "YYYY-MM, YYYY-Qn, YYYY or rolling-30; default: the current month")
SCHEME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
SCHEME = ("scheme", {"type": "string", "pattern": SCHEME_PATTERN, "default": "qd766"},
          "scoring scheme; 404 when scoring has none of that name")


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str  # OpenAPI form: /api/v1/units/{code}/scorecard
    summary: str
    permission: str | None = "read"  # None: open to everyone
    public: bool = False  # readable without a token when PUBLIC_RANKINGS is on
    query: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    # Path parameters that are not plain strings, by name.
    path_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
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
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)

    @property
    def text_query(self) -> list[str]:
        """The query parameters that are free text (TEXT)."""
        return [n for n, schema, _ in self.query if schema is TEXT]

    @property
    def text_path(self) -> list[str]:
        """The path parameters that are plain strings."""
        return [n for n in self.path_params if n not in self.path_schemas]

    @property
    def checked_body(self) -> type[BaseModel] | None:
        """The model the entrypoint checks the body against. Not for ingest: it checks its own
        bodies (any size up to INGEST_MAX_BYTES, answered in DVCQG style)."""
        return None if self.tag == "ingest" else self.body

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
                 PERIOD], response=s.RankingView, errors=(404, 502, 504)),
    Route("scorecard", "GET", "/api/v1/units/{code}/scorecard",
          "A unit's indicators and the dossiers that cost it points",
          query=[SCHEME, PERIOD, *PAGE], response=s.ScorecardView, errors=(404, 502, 504)),
    Route("kpis", "GET", "/api/v1/kpis", "Live counters of the province", public=True,
          response=s.Kpis),
    Route("dossiers", "GET", "/api/v1/dossiers", "Dossiers by deadline state",
          query=[("state", {"enum": list(DEADLINE_STATES), "default": "overdue"}, ""),
                 ("unit", TEXT, "unit code"), *PAGE],
          response=s.DossierList, errors=(502, 504)),
    Route("dossier", "GET", "/api/v1/dossiers/{code}",
          "One dossier: personal fields masked for operators, absent for viewers",
          response=s.DossierDetail, errors=(404, 502, 504)),
    Route("alerts", "GET", "/api/v1/alerts", "Alerts",
          query=[("unit", TEXT, ""), ("kind", TEXT, ""), ("state", TEXT, ""), *PAGE],
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
          path_schemas={"id": ROW_ID}, body=s.ReinjectRequest, response=s.QuarantinedItem,
          errors=(404, 409, 502, 504)),
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
    # Also every method a known /api path does not serve: it answers 405 with Allow (see
    # methods_at), and OPTIONS the same way, as werkzeug does for the other paths.
    Route("api_not_found", "GET,POST,PUT,PATCH,DELETE,OPTIONS", "/api/{path}",
          "Unknown API path", permission=None, hidden=True),
]

ROUTES: dict[str, Route] = {r.name: r for r in _ROUTES}
FALLBACK = "api_not_found"
_KNOWN = Map([Rule(r.rule, methods=r.method.split(","), endpoint=r.name)
              for r in _ROUTES if r.name != FALLBACK])


def methods_at(path: str) -> list[str]:
    """The methods the route table serves at `path` (HEAD with GET), sorted; empty when no route
    matches the path at all."""
    return sorted(_KNOWN.bind("gateway").allowed_methods(path))
