"""A stand-in for the gateway's HTTP API, enough to drive the dashboard in a real browser: it
serves services/gateway/static/ and fake JSON in the agreed shapes, and an SSE stream the test
pushes events into (and can drop, to watch the page reconnect)."""

from __future__ import annotations

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATIC = Path(__file__).resolve().parents[3] / "services" / "gateway" / "static"
GROUP_MAX = {"transparency": 18, "progress": 20, "online_service": 12, "online_payment": 10,
             "digitisation": 22, "satisfaction": 18}
Unit = tuple[str, str, str | None]  # code, name, English name
DEPARTMENTS: list[Unit] = [
    ("H99.01", "Sở Tư pháp", "Department of Justice"),
    ("H99.02", "Sở Tài chính", "Department of Finance"),
    ("H99.03", "Sở Xây dựng", "Department of Construction"),
    ("H99.04", "Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment"),
    ("H99.05", "Sở Công Thương", "Department of Industry and Trade"),
    ("H99.06", "Sở Y tế", "Department of Health"),
    ("H99.07", "Sở Giáo dục và Đào tạo", "Department of Education and Training"),
    ("H99.10", "Sở Văn hóa, Thể thao và Du lịch", "Department of Culture, Sports and Tourism"),
]
COMMUNES: list[Unit] = [(f"H99.50.{i:02d}", f"Phường {n}", None) for i, n in enumerate(
    ["Bình Minh", "Phú Thịnh", "An Bình", "An Hòa", "Bắc Sơn", "Cẩm Thành"], start=1)]
SCORES = [93.4, 85.0, 74.2, 61.5, 48.9, 81.7, 90.2, None]
CHANGES = [1, -1, 0, None, 0, 2, -2, None]


def band(score: float | None) -> str | None:
    if score is None:
        return None
    cut = [(90, "excellent"), (80, "good"), (70, "fair"), (50, "average"), (0, "weak")]
    return next(key for low, key in cut if score >= low)


def entry(code: str, rank: int | None, score: float | None,
          change: int | None = 0) -> dict[str, Any]:
    """One RankingChanged entry (no names, as on the stream)."""
    ratio = (score or 0) / 100
    groups = [{"key": k, "points": round(m * ratio * (0.8 + 0.05 * i), 2), "max_points": m,
               "measured_max": 0 if score is None or k == "satisfaction" else m}
              for i, (k, m) in enumerate(GROUP_MAX.items())]
    return {"unit_code": code, "rank": rank, "previous_rank": None, "change": change,
            "score_100": score, "total": round(ratio * 82, 2), "measured_max": 82,
            "band": band(score), "groups": groups}


def ranking(units: list[Unit]) -> list[dict[str, Any]]:
    scored = sorted(zip(units, SCORES, CHANGES, strict=False), key=lambda x: -(x[1] or -1))
    out = []
    for i, ((code, name, name_en), score, change) in enumerate(scored, start=1):
        out.append({**entry(code, i if score is not None else None, score, change),
                    "unit_name": name, "unit_name_en": name_en})
    return out


def alert(key: str, kind: str, unit: str, dossier: str | None, at: str,
          **details: Any) -> dict[str, Any]:
    return {"key": key, "kind": kind, "state": "open", "unit_code": unit, "dossier_code": dossier,
            "raised_at": at, "details": details}


ALERTS = [
    alert("overdue:H99.02-261110-0007", "overdue", "H99.02", "H99.02-261110-0007",
          "2026-11-12T09:10:00+07:00", procedure_code="1.003753",
          due_at="2026-11-12T09:00:00+07:00"),
    alert("due_soon:H99.50.03-261111-0002", "due_soon", "H99.50.03", "H99.50.03-261111-0002",
          "2026-11-12T08:30:00+07:00", procedure_code="1.004651",
          due_at="2026-11-12T15:00:00+07:00", remaining_working_minutes=300),
    alert("quarantined_input:17", "quarantined_input", "province", None,
          "2026-11-12T08:05:00+07:00", quarantine_id=17, source_format="dvcqg.DongBoHoSoMC",
          reason="NgayTiepNhan: not a yyyyMMddHHmmss date"),
]


def scorecard(code: str, period: str) -> dict[str, Any]:
    codes = [c for c, _, _ in DEPARTMENTS + COMMUNES]
    score = (SCORES * 2)[codes.index(code)] if code in codes else None
    lines = [
        {"key": "synced_national", "group": "transparency", "source": "dossiers",
         "max_points": 6, "numerator": 118, "denominator": 120, "rate": 118 / 120,
         "points": 5.9, "measured": True},
        {"key": "procedures_published", "group": "transparency", "source": "external",
         "max_points": 12, "measured": False, "reason": "no value submitted for this period"},
        {"key": "handled_on_time", "group": "progress", "source": "dossiers", "max_points": 20,
         "numerator": 110, "denominator": 120, "rate": 110 / 120, "points": 18.33,
         "measured": True},
        {"key": "online_filing", "group": "online_service", "source": "dossiers",
         "max_points": 12, "target": 0.5, "numerator": 54, "denominator": 120, "rate": 0.45,
         "points": 10.8, "measured": True},
    ]
    return {"scheme": "qd766", "unit_code": code, "period": period, "as_of": "2026-11-12",
            "lines": lines, "groups": [], "total": 35.03, "max_points": 100,
            "measured_max": 38, "score_100": score, "band": band(score), "not_measured": [],
            "costly_total": 2, "limit": 50, "offset": 0,
            "costly": [{"dossier_code": f"{code}-261105-0011", "version": 4,
                        "indicators": ["handled_on_time"]},
                       {"dossier_code": f"{code}-261106-0002", "version": 2,
                        "indicators": ["synced_national", "online_filing"]}]}


class StubGateway:
    """Run with `start()`; `push()` sends an SSE event to every open stream (and logs it for
    Last-Event-ID resume), `drop_streams()` closes them all server-side."""

    def __init__(self) -> None:
        self.log: list[tuple[int, str, str]] = []
        self.stream_requests: list[str | None] = []  # Last-Event-ID of each stream request
        self.requests: list[str] = []
        self._clients: list[queue.Queue[tuple[int, str, str] | None]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StubGateway:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.drop_streams()
        self.server.shutdown()
        self.server.server_close()

    def push(self, event: str, data: dict[str, Any]) -> int:
        with self._lock:
            item = (len(self.log) + 1, event, json.dumps(data, ensure_ascii=False))
            self.log.append(item)
            for q in self._clients:
                q.put(item)
        return item[0]

    def drop_streams(self) -> None:
        with self._lock:
            for q in self._clients:
                q.put(None)

    def subscribe(self, last_id: str | None) -> queue.Queue[tuple[int, str, str] | None]:
        q: queue.Queue[tuple[int, str, str] | None] = queue.Queue()
        with self._lock:
            self.stream_requests.append(last_id)
            after = int(last_id) if last_id and last_id.isdigit() else len(self.log)
            for item in self.log[after:]:
                q.put(item)
            self._clients.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[tuple[int, str, str] | None]) -> None:
        with self._lock:
            self._clients.remove(q)

    def answer(self, path: str, query: dict[str, str]) -> Any:
        level = query.get("level", "department")
        units = DEPARTMENTS + COMMUNES
        period = query.get("period", "rolling-30")
        if path == "/api/v1/units":
            items = [{"code": c, "name": n, "name_en": e, "level": "commune" if e is None
                      else "department", "valid_from": None, "valid_to": None}
                     for c, n, e in units]
            return {"items": items, "total": len(items), "limit": 500, "offset": 0}
        if path == "/api/v1/rankings":
            return {"scheme": "qd766", "level": level, "period": period, "as_of": "2026-11-12",
                    "version": 1,
                    "entries": ranking(DEPARTMENTS if level == "department" else COMMUNES)}
        if path == "/api/v1/kpis":
            return {"as_of": "2026-11-12T10:00:00+07:00", "received_today": 1284,
                    "on_time_rate": 0.9375, "open_overdue": 17, "due_soon": 42,
                    "open_total": 3120}
        if path == "/api/v1/alerts":
            return {"items": ALERTS, "total": len(ALERTS), "limit": 20, "offset": 0}
        if path.startswith("/api/v1/units/") and path.endswith("/scorecard"):
            return scorecard(path.split("/")[4], period)
        if path == "/api/v1/dossiers":
            unit = query.get("unit", "H99.01")
            return {"items": [{"dossier_code": f"{unit}-261101-0042", "version": 5,
                               "unit_code": unit, "procedure_code": "1.002481", "status": 4,
                               "due_at": "2026-11-10T17:00:00+07:00",
                               "deadline_state": "overdue"}],
                    "total": 1, "limit": 50, "offset": 0}
        return None


def _handler(stub: StubGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            stub.requests.append(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/api/v1/stream":
                return self.stream()
            if parts.path == "/":
                return self.file(STATIC / "index.html")
            if parts.path.startswith("/static/"):
                return self.file(STATIC / parts.path.removeprefix("/static/"))
            body = stub.answer(parts.path, query)
            if body is None:
                return self.send(404, "application/json", b'{"error": {"code": "not_found"}}')
            self.send(200, "application/json", json.dumps(body, ensure_ascii=False).encode())

        def file(self, path: Path) -> None:
            path = path.resolve()
            if path.parent != STATIC or not path.is_file():
                return self.send(404, "text/plain", b"not found")
            kinds = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
            self.send(200, kinds.get(path.suffix, "application/octet-stream") + "; charset=utf-8",
                      path.read_bytes())

        def send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def stream(self) -> None:
            q = stub.subscribe(self.headers.get("Last-Event-ID"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            try:
                self.wfile.write(b"retry: 200\n\n")
                self.wfile.flush()
                while (item := q.get()) is not None:
                    ident, event, data = item
                    self.wfile.write(f"id: {ident}\nevent: {event}\ndata: {data}\n\n".encode())
                    self.wfile.flush()
            except OSError:
                pass  # the browser went away
            finally:
                stub.unsubscribe(q)

    return Handler
