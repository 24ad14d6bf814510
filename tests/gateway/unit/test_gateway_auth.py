"""Tokens stored hashed, roles, the public switch, and the per-caller token bucket."""

from __future__ import annotations

import hashlib
import json

import pytest

from services.gateway.auth import (
    ANONYMOUS,
    RateLimiter,
    TokenStore,
    authorise,
    bearer,
    hash_token,
    load_tokens,
    parse_tokens,
)
from services.gateway.errors import Forbidden, RateLimited, Unauthenticated


def entry(name: str, role: str, token: str) -> dict[str, str]:
    return {"name": name, "role": role, "sha256": hashlib.sha256(token.encode()).hexdigest()}


STORE = TokenStore(parse_tokens(json.dumps([
    entry("wall", "viewer", "v"), entry("lan", "operator", "o"),
    entry("egov", "integrator", "i"), entry("root", "admin", "a")])))


def test_tokens_are_matched_by_digest_only() -> None:
    assert STORE.lookup("o") is not None and STORE.lookup("o").name == "lan"  # type: ignore[union-attr]
    assert STORE.lookup("O") is None and STORE.lookup("") is None
    assert all(len(e.digest) == 32 for e in STORE.entries)
    assert hash_token("v") == hashlib.sha256(b"v").hexdigest()


@pytest.mark.parametrize("raw", [
    '{"name": "x"}', '[{"name": "x", "role": "viewer"}]',
    '[{"name": "x", "role": "king", "sha256": "00"}]',
    '[{"name": "x", "role": "viewer", "sha256": "abcd"}]',
])
def test_bad_token_configuration_fails_the_start(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_tokens(raw)


def test_tokens_from_config_list_and_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "tokens.json"
    path.write_text(json.dumps([entry("file", "viewer", "f")]))
    tokens = load_tokens([entry("yaml", "admin", "y")], str(path))
    assert [t.name for t in tokens] == ["yaml", "file"]
    assert load_tokens("", None) == []


@pytest.mark.parametrize(("token", "permission", "allowed"), [
    ("v", "read", True), ("v", "operate", False), ("v", "ingest", False),
    ("o", "read", True), ("o", "operate", True), ("o", "ingest", False),
    ("i", "read", False), ("i", "operate", False), ("i", "ingest", True),
    ("a", "read", True), ("a", "operate", True), ("a", "ingest", True),
])
def test_roles(token: str, permission: str, allowed: bool) -> None:
    if allowed:
        assert authorise(STORE, token, permission, public=False).role is not None
    else:
        with pytest.raises(Forbidden):
            authorise(STORE, token, permission, public=False)


def test_missing_or_unknown_token_is_401_unless_public() -> None:
    with pytest.raises(Unauthenticated):
        authorise(STORE, None, "read", public=False)
    with pytest.raises(Unauthenticated):
        authorise(STORE, "nope", "read", public=True)
    assert authorise(STORE, None, "read", public=True) is ANONYMOUS
    assert not ANONYMOUS.can("read")


def test_bearer_header_and_query_token() -> None:
    assert bearer("Bearer abc", None, "GET") == "abc"
    assert bearer(None, "q", "GET") == "q"
    assert bearer(None, "q", "POST") is None
    with pytest.raises(Unauthenticated):
        bearer("Basic Zm9vOmJhcg==", None, "GET")


def test_token_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    for _ in range(60):
        limiter.take("wall")
    with pytest.raises(RateLimited) as exc:
        limiter.take("wall")
    assert exc.value.retry_after == 1
    limiter.take("lan")  # buckets are per caller
    now[0] = 1.0
    limiter.take("wall")
    with pytest.raises(RateLimited):
        limiter.take("wall")
    now[0] = 1000.0
    for _ in range(60):  # refilled, but never past the burst size
        limiter.take("wall")
    with pytest.raises(RateLimited):
        limiter.take("wall")
