"""The SSE stream on the real broker and database: live events, heartbeats, and resuming after a
dropped connection with exactly the missed events."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

from tests.gateway.support_gateway import accepted, alert, ranking


class Sse:
    """A minimal EventSource: reads `id/event/data` blocks and comments from the stream."""

    def __init__(self, address: str, path: str = "/api/v1/stream",
                 headers: dict[str, str] | None = None) -> None:
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=15)
        self.conn.request("GET", path, headers={"Authorization": "Bearer viewer-secret",
                                                **(headers or {})})
        self.response = self.conn.getresponse()
        self.buffer = b""
        self.comments: list[str] = []
        self.retry: str | None = None

    def next_event(self, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n\n" in self.buffer:
                block, self.buffer = self.buffer.split(b"\n\n", 1)
                event = self._parse(block.decode())
                if event is not None:
                    return event
            self.buffer += self.response.read1(65536)
        raise AssertionError("no event within the timeout")

    def _parse(self, block: str) -> dict[str, Any] | None:
        event: dict[str, Any] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "":
                self.comments.append(value)
            elif name == "retry":
                self.retry = value
            elif name == "id":
                event["id"] = int(value)
            elif name == "event":
                event["event"] = value
            elif name == "data":
                event["data"] = json.loads(value)
        return event or None

    def events(self, count: int) -> list[dict[str, Any]]:
        return [self.next_event() for _ in range(count)]

    def close(self) -> None:
        self.conn.sock.close()
        self.conn.close()


def _describe(event: dict[str, Any]) -> tuple[str, Any]:
    data = event["data"]
    return event["event"], data.get("version") or data.get("alert", {}).get("key")


def test_stream_resumes_after_a_dropped_connection_without_gap_or_repeat(
        gateway: dict[str, Any]) -> None:
    address, send = gateway["cfg"]["WEB_SERVER_ADDRESS"], gateway["events"].send
    first = Sse(address)
    assert first.response.status == 200
    headers = {k.lower(): v for k, v in first.response.getheaders()}
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "no-cache" and headers["x-accel-buffering"] == "no"
    send(ranking(1))
    got = [first.next_event()]
    send(alert("a-1"))
    got.append(first.next_event())
    send(ranking(2))
    got.append(first.next_event())
    assert first.retry == "3000"
    assert [_describe(e) for e in got] == [("ranking", 1), ("alert", "a-1"), ("ranking", 2)]
    assert got[1]["data"]["type"] == "notification.alert_raised"
    assert got[0]["id"] < got[1]["id"] < got[2]["id"]
    first.close()

    # Missed while disconnected; distinct rankings, since handled concurrently a newer version
    # of the same ranking may land first and rightly make the older one a no-op.
    send(ranking(3, period="2026-Q4"))
    send(alert("a-2"))
    send(ranking(4, period="2026"))
    resumed = Sse(address, headers={"Last-Event-ID": str(got[2]["id"])})
    missed = resumed.events(3)
    assert sorted(_describe(e) for e in missed) == [("alert", "a-2"), ("ranking", 3),
                                                    ("ranking", 4)]
    assert {e["data"].get("period") for e in missed} == {"2026-Q4", "2026", None}
    ids = [e["id"] for e in missed]
    assert ids == sorted(ids) and ids[0] > got[2]["id"] and len(set(ids)) == 3
    # Live again on the resumed connection, and nothing is repeated before it.
    send(ranking(5))
    assert _describe(resumed.next_event()) == ("ranking", 5)
    resumed.close()

    # The query parameter does the same for clients that cannot set headers.
    again = Sse(address, path=f"/api/v1/stream?last_event_id={got[0]['id']}")
    assert [e["id"] for e in again.events(2)] == [got[1]["id"], got[2]["id"]]
    again.close()


def test_stream_carries_kpis_and_heartbeats(gateway: dict[str, Any]) -> None:
    address, client = gateway["cfg"]["WEB_SERVER_ADDRESS"], gateway["client"]
    stream = Sse(address)
    gateway["events"].send(accepted("S-1"))
    gateway["events"].send(accepted("S-2"))
    kpis = [stream.next_event()]
    while kpis[-1]["data"]["open_total"] < 2:
        kpis.append(stream.next_event())
    assert all(e["event"] == "kpi" for e in kpis)
    assert kpis[-1]["data"] == {**client.get("/api/v1/kpis", "viewer").json(),
                                "as_of": kpis[-1]["data"]["as_of"]}
    # Idle: heartbeats (SSE_HEARTBEAT is 1 s in the tests).
    deadline = time.monotonic() + 10
    while "hb" not in stream.comments and time.monotonic() < deadline:
        stream.buffer += stream.response.read1(65536)
        while b"\n\n" in stream.buffer:
            block, stream.buffer = stream.buffer.split(b"\n\n", 1)
            stream._parse(block.decode())
    assert "hb" in stream.comments
    metrics = client.get("/metrics").body.decode()
    gauge = [line for line in metrics.splitlines() if line.startswith("parpulse_sse_clients ")]
    assert gauge and float(gauge[0].split()[1]) >= 1
    stream.close()


def test_stream_refuses_a_bad_last_event_id(gateway: dict[str, Any]) -> None:
    answer = gateway["client"].get("/api/v1/stream", "viewer",
                                   headers={"Last-Event-ID": "yesterday"})
    assert answer.status == 400 and answer.json()["error"]["field"] == "last_event_id"
