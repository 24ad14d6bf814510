"""OpenAPI 3.1 from the route table and the pydantic models, and a small docs page."""

from __future__ import annotations

import html
from functools import cache
from typing import Any

from pydantic import BaseModel

from .errors import STATUS
from .routes import ROUTES, Route
from .schemas import ErrorBody

REF = "#/components/schemas/{model}"
SECURITY_NOTE = ("Authorization: Bearer <token>, or ?access_token= on GET. Roles: viewer "
                 "(read), operator (read + operate), integrator (ingest), admin (all).")
ERROR_NAMES = {status: cls.code for cls, status in STATUS.items()}
# Answered by the web server (eventlet) itself, before any route, with an empty body.
URI_TOO_LONG = {"description": "request line longer than the web server accepts (8 KiB)"}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _error(status: int, components: dict[str, Any]) -> dict[str, Any]:
    return {"description": ERROR_NAMES.get(status, "error"),
            "content": {"application/json": {"schema": _schema(ErrorBody, components)}}}


def _operation(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary,
                          "tags": [route.tag]}
    params = [{"name": n, "in": "path", "required": True,
               "schema": route.path_schemas.get(n, {"type": "string"})}
              for n in route.path_params]
    params += [{"name": n, "in": "query", "required": False, "schema": s,
                **({"description": d} if d else {})} for n, s, d in route.query]
    if route.name == "stream":
        params.append({"name": "Last-Event-ID", "in": "header", "required": False,
                       "schema": {"type": "integer"}})
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {"required": route.name.startswith("ingest"), "content": {
            "application/json": {"schema": _schema(route.body, components)}}}
    content: dict[str, Any] = {route.content_type: {}}
    if route.response is not None:
        content = {"application/json": {"schema": _schema(route.response, components)}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": content}}
    statuses = set(route.errors)
    if route.permission is not None:
        statuses |= {401, 403}
    if route.rate_limited:
        statuses |= {429}
    if route.body is not None or route.query:
        statuses |= {400}
    if route.body is not None:
        statuses |= {413}  # every body has a size limit
    for status in sorted(statuses):
        responses[str(status)] = _error(status, components)
    responses["414"] = URI_TOO_LONG
    op["responses"] = responses
    if route.permission is not None:
        op["security"] = [{"bearer": []}, {"access_token": []}]
        if route.public:
            op["security"].append({})  # anonymous when PUBLIC_RANKINGS is on
        op["x-permission"] = route.permission
    return op


@cache
def spec() -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for route in ROUTES.values():
        if route.hidden:
            continue
        for method in route.method.split(","):
            paths.setdefault(route.path, {})[method.lower()] = _operation(route, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "ParPulse gateway", "version": "1.0.0", "description": SECURITY_NOTE},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "access_token": {"type": "apiKey", "in": "query", "name": "access_token"},
            },
        },
    }


def docs_page() -> str:
    rows = []
    for path, ops in spec()["paths"].items():
        for method, op in ops.items():
            who = op.get("x-permission", "anyone")
            rows.append(f"<tr><td><code>{method.upper()}</code></td>"
                        f"<td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op['summary'])}</td><td>{html.escape(who)}</td></tr>")
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>ParPulse API</title><style>body{font-family:sans-serif;margin:2em}"
            "td{padding:.2em .8em;border-bottom:1px solid #ddd}</style></head><body>"
            "<h1>ParPulse gateway API</h1>"
            f"<p>{html.escape(SECURITY_NOTE)}</p>"
            "<p>Full schema: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1).</p>"
            "<table><tr><th>Method</th><th>Path</th><th>What</th><th>Permission</th></tr>"
            + "".join(rows) + "</table></body></html>")
