"""API tokens (stored as SHA-256 digests), roles, and a per-caller token-bucket rate limit.

A token file or the API_TOKENS setting holds a JSON list of
`{"name": "wall-screen", "role": "viewer", "sha256": "<hex digest of the token>"}`; make a
digest with `python -c "import hashlib;print(hashlib.sha256(b'TOKEN').hexdigest())"`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Forbidden, RateLimited, Unauthenticated

ROLES = ("viewer", "operator", "integrator", "admin")
# What each role may do: read (dashboard data), operate (act on alerts and quarantine, see
# masked personal fields), ingest (push dossier data).
GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "operate"}),
    "integrator": frozenset({"ingest"}),
    "admin": frozenset({"read", "operate", "ingest"}),
}


@dataclass(frozen=True)
class Caller:
    name: str
    role: str | None  # None: anonymous (public rankings)

    def can(self, permission: str) -> bool:
        return self.role is not None and permission in GRANTS[self.role]


ANONYMOUS = Caller("anonymous", None)


@dataclass(frozen=True)
class TokenEntry:
    name: str
    role: str
    digest: bytes


def parse_tokens(raw: Any) -> list[TokenEntry]:
    """API_TOKENS as a JSON string or an already-parsed list (YAML config parses it)."""
    if raw in (None, ""):
        return []
    items = json.loads(raw) if isinstance(raw, str | bytes) else raw
    if not isinstance(items, list):
        raise ValueError("API_TOKENS must be a JSON list of {name, role, sha256}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not {"name", "role", "sha256"} <= item.keys():
            raise ValueError(f"API_TOKENS[{i}] must have name, role and sha256")
        if item["role"] not in ROLES:
            raise ValueError(f"API_TOKENS[{i}]: unknown role {item['role']!r}")
        digest = bytes.fromhex(str(item["sha256"]))
        if len(digest) != 32:
            raise ValueError(f"API_TOKENS[{i}]: sha256 must be 64 hex digits")
        out.append(TokenEntry(str(item["name"]), str(item["role"]), digest))
    return out


def load_tokens(raw: Any, path: str | None) -> list[TokenEntry]:
    tokens = parse_tokens(raw)
    if path:
        tokens += parse_tokens(Path(path).read_text(encoding="utf-8"))
    return tokens


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        self.entries = list(entries)

    def lookup(self, token: str) -> Caller | None:
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        # Compare against every entry, in constant time each, so timing tells nothing.
        for entry in self.entries:
            if hmac.compare_digest(digest, entry.digest):
                found = entry
        return Caller(found.name, found.role) if found else None


def bearer(authorization: str | None, query_token: str | None, method: str) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return value.strip()
    # EventSource cannot send headers: GET requests may carry the token in the query.
    if query_token and method == "GET":
        return query_token
    return None


def authorise(store: TokenStore, token: str | None, permission: str, public: bool) -> Caller:
    """The caller, if allowed `permission`; raises 401 without a valid token, 403 without the
    permission. `public` endpoints let anonymous callers read."""
    if token is None:
        if public:
            return ANONYMOUS
        raise Unauthenticated("this endpoint needs an API token (Authorization: Bearer ...)")
    caller = store.lookup(token)
    if caller is None:
        raise Unauthenticated("unknown API token")
    if not caller.can(permission) and not (public and permission == "read"):
        raise Forbidden(f"role {caller.role} may not {permission} here")
    return caller


class RateLimiter:
    """A token bucket per caller, in this process: with N replicas a caller gets up to N times
    the rate, which is fine for shielding each replica (a shared limit would need Redis)."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = max(1.0, float(per_minute))
        self.rate = self.capacity / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                retry = max(1, math.ceil((1.0 - tokens) / self.rate))
                raise RateLimited(f"more than {self.capacity:g} requests a minute", retry)
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 10_000:  # forget idle callers (anonymous clients by IP)
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 120}
