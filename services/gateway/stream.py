"""The SSE stream: the stored log after the client's last event id, in order, then live.

Resuming is exact because every event has its id in the log (see the repository for why ids
become visible in order); a stream sleeps on the in-process hub and polls the database as a
fallback, so events consumed by another replica arrive too."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import Gauge
from werkzeug.wrappers import Request, Response

from .dependencies import Hub
from .errors import ValidationFailed

SSE_CLIENTS = Gauge("parpulse_sse_clients", "Open SSE streams on this gateway process.")
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
Reader = Callable[[int], list[tuple[int, str, dict[str, Any]]]]


def last_event_id(request: Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    if raw is None or raw == "":
        return None
    # isascii too: isdigit() also takes other scripts' digits, which int() then reads.
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationFailed(f"Last-Event-ID must be a non-negative integer, got {raw!r}",
                               field="last_event_id")
    return int(raw)


def frame(event_id: int, kind: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event_id}\nevent: {kind}\ndata: {payload}\n\n".encode()


def events(read: Reader, hub: Hub, after: int, heartbeat_s: float = 15.0,
           poll_s: float = 1.0, batch: int = 500) -> Iterator[bytes]:
    SSE_CLIENTS.inc()
    try:
        yield b"retry: 3000\n\n"
        last_sent = time.monotonic()
        while not hub.stopped:
            rows = read(after)
            for event_id, kind, data in rows:
                yield frame(event_id, kind, data)
                after = event_id
            if rows:
                last_sent = time.monotonic()
                if len(rows) >= batch:
                    continue
            elif time.monotonic() - last_sent >= heartbeat_s:
                # Also how a dropped client is noticed: the write fails.
                yield b": hb\n\n"
                last_sent = time.monotonic()
            hub.wait(min(poll_s, heartbeat_s))
    finally:
        SSE_CLIENTS.dec()


def response(request: Request, body: Iterator[bytes]) -> Response:
    # Without this eventlet buffers 4 KiB before writing, and events arrive late.
    request.environ["eventlet.minimum_write_chunk_size"] = 0
    return Response(body, status=200, mimetype="text/event-stream", headers=HEADERS,
                    direct_passthrough=True)
