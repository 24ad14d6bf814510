"""The gateway's HTTP entrypoint: a nameko `@http` declared from the route table, with the
caller authenticated, authorised and rate-limited before any worker runs, and every exception
answered through the one error table."""

from __future__ import annotations

import logging
from typing import Any

from nameko import config
from nameko.extensions import SharedExtension
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Request, Response

from .auth import Caller, RateLimiter, TokenStore, authorise, bearer, load_tokens
from .errors import error_response
from .routes import ROUTES, Route

CALLER = "parpulse.caller"
log = logging.getLogger(__name__)


def flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class Guard(SharedExtension):
    """Tokens, the public-rankings switch and the rate limiter, read once at start."""

    def setup(self) -> None:
        self.tokens = TokenStore(load_tokens(config.get("API_TOKENS"),
                                             config.get("API_TOKENS_FILE") or None))
        self.public = flag(config.get("PUBLIC_RANKINGS", False))
        self.limiter = RateLimiter(float(config.get("RATE_LIMIT_PER_MINUTE") or 600))
        if not self.tokens.entries:
            log.warning("no API tokens configured: only public endpoints will answer")

    def check(self, request: Request, route: Route) -> Caller:
        if route.permission is None:
            return Caller("anonymous", None)
        token = bearer(request.headers.get("Authorization"),
                       request.args.get("access_token"), request.method)
        caller = authorise(self.tokens, token, route.permission, route.public and self.public)
        if route.rate_limited:
            key = caller.name if caller.role else f"ip:{request.remote_addr}"
            self.limiter.take(key)
        return caller


class ApiEntrypoint(HttpRequestHandler):
    guard = Guard()

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.route = ROUTES[name]
        super().__init__(self.route.method, self.route.rule, **kwargs)

    def handle_request(self, request: Request) -> Response:
        try:
            request.environ[CALLER] = self.guard.check(request, self.route)
        except Exception as exc:
            return self.response_from_exception(exc)
        response: Response = super().handle_request(request)
        return response

    def response_from_exception(self, exc: BaseException) -> Response:
        return error_response(exc, dvcqg=self.route.name == "ingest_dvcqg")


api = ApiEntrypoint.decorator


def caller_of(request: Request) -> Caller:
    caller: Caller = request.environ[CALLER]
    return caller
