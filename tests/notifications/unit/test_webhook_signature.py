"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", verified in constant time with a
freshness window; and the retry backoff schedule."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from services.notifications.adapters import backoff_delay
from services.notifications.adapters.webhook import compute_signature, sign, verify

SECRET = b"s3cret-for-tests"
BODY = '{"alert":{"kind":"overdue","unit_name":"Sở Tư pháp"}}'.encode()
T = 1_760_000_000


def test_header_format_and_an_independent_hmac() -> None:
    header = sign(SECRET, T, BODY)
    expected = hmac.new(SECRET, f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={T},v1={expected}"
    assert compute_signature(SECRET, T, BODY) == expected and len(expected) == 64


def test_a_fresh_signature_verifies() -> None:
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, now=T + 299)
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, now=T - 10)  # small clock skew


@pytest.mark.parametrize("now", [T + 301, T - 301, T + 86_400])
def test_stale_or_future_timestamps_are_rejected(now: int) -> None:
    assert not verify(SECRET, sign(SECRET, T, BODY), BODY, now=now)


def test_tolerance_is_configurable() -> None:
    assert verify(SECRET, sign(SECRET, T, BODY), BODY, now=T + 500, tolerance_s=600)
    assert not verify(SECRET, sign(SECRET, T, BODY), BODY, now=T + 31, tolerance_s=30)


def test_wrong_secret_or_changed_body_is_rejected() -> None:
    header = sign(SECRET, T, BODY)
    assert not verify(b"other", header, BODY, now=T)
    assert not verify(SECRET, header, BODY + b" ", now=T)
    assert not verify(SECRET, header.replace(f"t={T}", f"t={T + 1}"), BODY, now=T)


@pytest.mark.parametrize("header", [
    "", "garbage", f"t={T}", "v1=abc", f"t=soon,v1={'0' * 64}", f"t={T},v1=", f"t={T},v1=é",
])
def test_malformed_headers_are_rejected_without_raising(header: str) -> None:
    assert not verify(SECRET, header, BODY, now=T)


def test_any_of_several_v1_signatures_may_match_during_secret_rotation() -> None:
    good = compute_signature(SECRET, T, BODY)
    old = compute_signature(b"old-secret", T, BODY)
    assert verify(SECRET, f"t={T},v1={old},v1={good}", BODY, now=T)
    assert verify(b"old-secret", f"t={T},v1={old},v1={good}", BODY, now=T)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_delay(n, 1.0, 2.0, 10.0) for n in range(1, 6)] == [1, 2, 4, 8, 10]


def test_the_receiver_example_in_the_docs_verifies_our_signatures() -> None:
    import re
    import time
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs/notifications.md").read_text("utf-8")
    block = re.search(r"```python\n(.*?)```", doc, re.S)
    assert block is not None
    namespace: dict[str, object] = {}
    exec(block.group(1), namespace)
    receiver_verify = namespace["verify"]
    assert callable(receiver_verify)
    now = int(time.time())
    assert receiver_verify(SECRET, sign(SECRET, now, BODY), BODY)
    assert not receiver_verify(b"other", sign(SECRET, now, BODY), BODY)
    assert not receiver_verify(SECRET, sign(SECRET, now - 3600, BODY), BODY)
