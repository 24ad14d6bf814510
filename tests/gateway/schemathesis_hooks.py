"""Schemathesis hooks for the gateway run (loaded by the `schemathesis` process through
SCHEMATHESIS_HOOKS): every generated request carries the token of one of the four roles, so the
authorised answers are exercised and not only the 401s.

The tokens come in SCHEMATHESIS_GATEWAY_TOKENS as a JSON object role -> token."""

from __future__ import annotations

import json
import os
import warnings
import zlib
from typing import Any

import schemathesis
from schemathesis.core import NotSet

# The role table comes with eventlet, which warns on import (the test run filters it likewise).
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
from services.gateway.auth import GRANTS, ROLES  # noqa: E402

TOKENS: dict[str, str] = json.loads(os.environ.get("SCHEMATHESIS_GATEWAY_TOKENS") or "{}")


def role_for(case: schemathesis.Case) -> str:
    """A role chosen from the request's own content, so that a replayed case (Hypothesis
    confirming a failure) sends the same token: mostly one that holds the operation's
    permission; one case in four, where cases differ at all, one that does not (403). An
    operation without parameters or body gets one case, which must be answered, not refused."""
    raw = case.operation.definition.raw
    needed = raw.get("x-permission")
    allowed = [r for r in ROLES if needed is None or needed in GRANTS[r]]
    refused = [r for r in ROLES if r not in allowed]
    body = None if isinstance(case.body, NotSet) else case.body
    content = json.dumps([case.path_parameters, case.query, body], sort_keys=True, default=repr)
    pick = zlib.crc32(content.encode())
    if refused and (raw.get("parameters") or raw.get("requestBody")) and pick % 4 == 0:
        return refused[pick // 4 % len(refused)]
    return allowed[pick % len(allowed)]


# No caching (a token per case, not per run) and no re-fetch-and-replay on 401: a 401 here is
# the gateway's answer under test, not an expired token.
@schemathesis.auth(refresh_interval=None, retry_on=[])
class RoleTokens:
    def get(self, case: schemathesis.Case, context: Any) -> str:
        return TOKENS[role_for(case)]

    def set(self, case: schemathesis.Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
