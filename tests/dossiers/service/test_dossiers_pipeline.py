"""The dossiers service on the real broker and database: events in, events out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nameko.standalone.rpc import ClusterRpcClient

from tests.dossiers.service.conftest import native
from tests.support.services import wait_for

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=VN)


def test_accepted_dossier_is_announced_with_its_due_date(dossiers):
    tap, inbound = dossiers["tap"], dossiers["inbound"]
    inbound.send(native("H99.01-261005-0001", 2, t(5, 8), channel=2,
                        holder_name="Nguyễn Văn Mẫu", phone="0912345678"))
    accepted = wait_for(lambda: tap.of_type("dossier.accepted"), what="dossier.accepted")
    snap = accepted[0]["dossier"]
    assert snap["dossier_code"] == "H99.01-261005-0001"
    assert snap["version"] == 1
    # 10 working days from Monday 5 Oct 2026 08:00 end on Monday 19 Oct 08:00.
    assert datetime.fromisoformat(snap["due_at"]) == t(19, 8)
    raw = str(tap.events)
    assert "Nguyễn Văn Mẫu" not in raw and "0912345678" not in raw


def test_duplicate_delivery_has_one_effect(dossiers):
    tap, inbound = dossiers["tap"], dossiers["inbound"]
    body = native("H99.01-261005-0002", 2, t(5, 9))
    inbound.send(body, message_id="dup-1")
    inbound.send(body, message_id="dup-1")
    # The same statement under a new message id changes nothing either.
    inbound.send(body, message_id="dup-2")
    inbound.send(native("H99.01-261005-0002", 4, t(5, 10)), message_id="after")
    wait_for(lambda: tap.of_type("dossier.status_changed")[1:], what="second status change")
    kinds = [e["_type"] for e in tap.drain()
             if e.get("dossier", {}).get("dossier_code") == "H99.01-261005-0002"]
    assert kinds == ["dossier.accepted", "dossier.status_changed", "dossier.status_changed"]


def test_reordered_events_end_in_the_right_state(dossiers):
    tap, inbound, cfg = dossiers["tap"], dossiers["inbound"], dossiers["cfg"]
    code = "H99.01-261005-0003"
    for status, at in [(10, t(9, 15)), (2, t(5, 8)), (9, t(8, 16)), (4, t(5, 9))]:
        inbound.send(native(code, status, at))
    wait_for(lambda: [e for e in tap.drain() if e.get("dossier", {}).get("version") == 4],
             what="version 4")
    with ClusterRpcClient(uri=cfg["AMQP_URI"]) as rpc:
        detail = rpc.dossiers.get_dossier(code)
    assert detail["dossier"]["status"] == 10
    assert [h["status"] for h in detail["history"]] == [2, 4, 9, 10]
    assert detail["dossier"]["outcome"] == "early"
    assert detail["dossier"]["version"] == 4


def test_malformed_message_is_quarantined_and_the_next_is_processed(dossiers):
    tap, inbound, cfg = dossiers["tap"], dossiers["inbound"], dossiers["cfg"]
    inbound.send(None, raw=b"{not json")
    inbound.send(native("H99.01-261005-0004", 42, t(5, 8)))
    inbound.send(native("H99.01-261005-0005", 2, t(5, 8), unit_code="H99.NOPE"))
    inbound.send(native("H99.01-261005-0006", 2, t(5, 8)))
    wait_for(lambda: tap.of_type("dossier.accepted"), what="the good message")
    quarantined = wait_for(lambda: len(tap.of_type("inbound.quarantined")) >= 3 and
                           tap.of_type("inbound.quarantined"), what="3 quarantined")
    assert len(quarantined) == 3
    with ClusterRpcClient(uri=cfg["AMQP_URI"]) as rpc:
        listed = rpc.dossiers.list_quarantined()
    reasons = {i["reason_code"]: i for i in listed["items"]}
    assert set(reasons) == {"malformed_json", "unknown_status", "unknown_unit"}
    assert reasons["malformed_json"]["raw_payload"] == "{not json"
    assert "42" in reasons["unknown_status"]["reason"]
    assert "H99.NOPE" in reasons["unknown_unit"]["reason"]
