"""The gateway's HTTP entrypoint: a nameko `@http` declared from the route table, with the
caller authenticated, authorised and rate-limited, and an action's body checked against its
documented model, before any worker runs; every exception answered through the one error
table."""

from __future__ import annotations

import logging
from typing import Any

from nameko import config
from nameko.extensions import SharedExtension
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Request, Response

from .auth import Caller, RateLimiter, TokenStore, authorise, bearer, load_tokens
from .errors import MethodNotAllowed, error_response
from .routes import FALLBACK, ROUTES, Route, methods_at
from .views import check_body, nul_free

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
            if self.route.name == FALLBACK:
                # A known path asked with a method it does not serve: 405 naming the methods
                # it does (RFC 9110), not the 404 of an unknown path.
                allowed = methods_at(request.path)
                if allowed:
                    raise MethodNotAllowed(
                        f"{request.method} is not allowed on {request.path}; "
                        f"use {', '.join(allowed)}", allow=allowed)
            request.environ[CALLER] = self.guard.check(request, self.route)
            nul_free(request, self.route.text_query, self.route.text_path)
            if self.route.checked_body is not None:
                # nameko's server makes requests shallow until its own handler runs (below).
                request.shallow = False
                check_body(request, self.route.checked_body)
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
