"""Webhooks signed with HMAC-SHA256, retried with exponential backoff, then dead-lettered.

Header: `X-ParPulse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
The timestamp is inside the signed text, so a captured request cannot be replayed later than
the receiver's tolerance; every attempt is signed afresh. docs/notifications.md shows a receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.masking import find_personal_data
from . import DeliveryResult, backoff_delay, guard_refusal

SIGNATURE_HEADER = "X-ParPulse-Signature"
DELIVERY_HEADER = "X-ParPulse-Delivery"
ATTEMPT_HEADER = "X-ParPulse-Attempt"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def compute_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>`."""
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value: `t=<timestamp>,v1=<hex>`."""
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def verify(secret: bytes, header: str, body: bytes, now: float, tolerance_s: int = 300) -> bool:
    """True if `header` signs `body` with `secret` and its timestamp is within tolerance of now.

    Several `v1=` entries are allowed (a sender rotating secrets signs with both); any match
    passes. Never raises: a malformed header is simply not valid.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance_s:
        return False
    expected = compute_signature(secret, timestamp, body)
    # Compare every candidate, so timing says nothing about which one (if any) matched.
    results = [hmac.compare_digest(expected.encode(), c.encode("ascii", "replace"))
               for c in candidates]
    return any(results)


@dataclass(frozen=True)
class WebhookConfig:
    timeout_s: float = 10.0
    attempts: int = 5
    base_delay_s: float = 1.0
    backoff_factor: float = 2.0
    max_delay_s: float = 60.0
    user_agent: str = "ParPulse-Webhook/1"
    proxy: str | None = None  # environment proxies are ignored unless configured here


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would lose its body and signature: treat 3xx as a failure instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: what is signed is exactly what is sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class WebhookSender:
    def __init__(self, config: WebhookConfig, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time):
        self.config = config
        self._sleep = sleep
        self._clock = clock
        proxies = {"http": config.proxy, "https": config.proxy} if config.proxy else {}
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies),
                                                   _NoRedirect())

    def send(self, url: str, secret: bytes, payload: Mapping[str, Any] | bytes, *,
             delivery_id: str | None = None,
             personal_values: Iterable[str] = ()) -> DeliveryResult:
        """POSTs the payload until a 2xx or the last attempt; never raises."""
        try:
            body = payload if isinstance(payload, bytes) else encode_payload(payload)
            found = find_personal_data(body.decode("utf-8"), personal_values)
        except (TypeError, ValueError) as exc:
            return DeliveryResult(False, f"cannot encode payload: {exc}", dead_lettered=True)
        if found:
            return guard_refusal(found)
        cfg, errors = self.config, list[str]()
        for attempt in range(1, max(cfg.attempts, 1) + 1):
            out = self._attempt(url, secret, body, delivery_id, attempt)
            if out.error is None:
                return DeliveryResult(True, None, attempt, status=out.status,
                                      attempt_errors=tuple(errors))
            errors.append(out.error)
            if not out.retryable or attempt >= cfg.attempts:
                break
            delay = backoff_delay(attempt, cfg.base_delay_s, cfg.backoff_factor, cfg.max_delay_s)
            self._sleep(max(delay, min(out.retry_after_s or 0.0, cfg.max_delay_s)))
        return DeliveryResult(False, errors[-1], len(errors), True, out.status,
                              attempt_errors=tuple(errors))

    def _attempt(self, url: str, secret: bytes, body: bytes, delivery_id: str | None,
                 attempt: int) -> _Attempt:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": self.config.user_agent,
            SIGNATURE_HEADER: sign(secret, int(self._clock()), body),
            ATTEMPT_HEADER: str(attempt),
        }
        if delivery_id:
            headers[DELIVERY_HEADER] = delivery_id
        try:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with self._opener.open(request, timeout=self.config.timeout_s) as response:
                response.read()
                return _Attempt(response.status, None)
        except urllib.error.HTTPError as exc:
            with exc:
                retry_after = exc.headers.get("Retry-After", "") if exc.headers else ""
                wait = float(retry_after) if retry_after.isdigit() else None
                return _Attempt(exc.code, f"HTTP {exc.code}", exc.code in RETRYABLE_STATUS, wait)
        except ValueError as exc:  # a malformed URL will not get better
            return _Attempt(None, f"{type(exc).__name__}: {exc}", retryable=False)
        except Exception as exc:  # refused, reset, timed out: the receiver may come back
            return _Attempt(None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}")


@dataclass(frozen=True)
class _Attempt:
    status: int | None
    error: str | None
    retryable: bool = True
    retry_after_s: float | None = None
