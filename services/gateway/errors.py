"""The gateway's errors and the one table that turns any exception into an HTTP answer."""

from __future__ import annotations

import logging
from typing import Any

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from werkzeug.wrappers import Response

from services.common.web import json_response

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Base: `code` is the stable snake_case name clients switch on."""

    code = "internal_error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class BadRequest(ApiError):
    code = "bad_request"


class ValidationFailed(ApiError):
    code = "validation_error"


class Unauthenticated(ApiError):
    code = "unauthenticated"


class Forbidden(ApiError):
    code = "forbidden"


class NotFound(ApiError):
    code = "not_found"


class MethodNotAllowed(ApiError):
    code = "method_not_allowed"

    def __init__(self, message: str, allow: list[str]) -> None:
        super().__init__(message)
        self.allow = allow


class Conflict(ApiError):
    code = "conflict"


class PayloadTooLarge(ApiError):
    code = "payload_too_large"


class RateLimited(ApiError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(ApiError):
    code = "upstream_error"


class UpstreamTimeout(ApiError):
    code = "upstream_timeout"


class BrokerUnavailable(ApiError):
    code = "broker_unavailable"


STATUS: dict[type[ApiError], int] = {
    BadRequest: 400,
    ValidationFailed: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    Conflict: 409,
    PayloadTooLarge: 413,
    RateLimited: 429,
    UpstreamError: 502,
    BrokerUnavailable: 503,
    UpstreamTimeout: 504,
}

# Exceptions raised by the services behind the gateway, by their type name.
REMOTE: dict[str, type[ApiError]] = {
    "KeyError": NotFound,
    "LookupError": NotFound,
    "ValueError": BadRequest,
    "InvalidTransition": Conflict,
}


def from_remote(exc: RemoteError) -> ApiError:
    message = str(exc.value or exc.exc_type)
    if exc.exc_type == "ValueError" and message.startswith("unknown scheme"):
        # A well-formed name of a scheme scoring does not have: nothing there, not a bad request.
        return NotFound(message)
    if exc.exc_type == "QuarantineError":
        # One type for three cases; the message tells which.
        if message.startswith("no quarantined"):
            return NotFound(message)
        return BadRequest(message) if message.startswith("unknown state") else Conflict(message)
    return REMOTE.get(exc.exc_type, UpstreamError)(unquoted(message))


def unquoted(message: str) -> str:
    """A KeyError's text is the repr of its argument: drop that one pair of quotes (stripping
    every quote also ate the closing one of a quoted key: "no alert with key '0")."""
    if len(message) >= 2 and message[0] == message[-1] and message[0] in "'\"":
        return message[1:-1]
    return message


def to_api_error(exc: BaseException) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, eventlet.Timeout):
        return UpstreamTimeout("the service behind this request did not answer in time")
    if isinstance(exc, UnknownService):
        return UpstreamError(f"{exc}: the service is not running")
    if isinstance(exc, RemoteError):
        return from_remote(exc)
    log.exception("unexpected error", exc_info=exc)
    return ApiError("unexpected error; see the gateway's log")


def status_of(error: ApiError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_response(exc: BaseException, dvcqg: bool = False) -> Response:
    """`dvcqg`: also answer in the national portal's style (`error_code`, `message`); "-1"
    when the broker did not take the data, else the HTTP status."""
    error = to_api_error(exc)
    status = status_of(error)
    headers = None
    if isinstance(error, RateLimited):
        headers = {"Retry-After": str(error.retry_after)}
    elif isinstance(error, MethodNotAllowed):
        headers = {"Allow": ", ".join(error.allow)}
    body: dict[str, Any] = {"error": {"code": error.code, "message": error.message,
                                      **error.extra}}
    if dvcqg:
        body = {"error_code": "-1" if status == 503 else str(status),
                "message": error.message, **body}
    return json_response(body, status=status, headers=headers)
