"""The OpenAPI document: 3.1, every served route documented, every $ref resolvable, and the
same permissions as the entrypoints enforce."""

from __future__ import annotations

import json
import re
from typing import Any

from services.gateway.openapi import docs_page, spec
from services.gateway.routes import ROUTES
from services.gateway.service import GatewayService


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_document_shape() -> None:
    doc = spec()
    assert doc["openapi"] == "3.1.0" and doc["info"]["title"]
    json.dumps(doc)  # serialisable as is
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas
    rankings = doc["paths"]["/api/v1/rankings"]["get"]
    assert rankings["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RankingView"}
    assert {"401", "403", "429", "400"} <= set(rankings["responses"])
    assert {} in rankings["security"]  # public when PUBLIC_RANKINGS is on
    ack = doc["paths"]["/api/v1/alerts/{key}/ack"]["post"]
    assert ack["x-permission"] == "operate" and {} not in ack["security"]
    assert ack["parameters"][0] == {"name": "key", "in": "path", "required": True,
                                    "schema": {"type": "string"}}
    ingest = doc["paths"]["/api/v1/ingest/events"]["post"]
    assert ingest["requestBody"]["required"] is True and "413" in ingest["responses"]


def test_every_entrypoint_is_in_the_table_and_the_document() -> None:
    served = {(getattr(GatewayService, name).__name__) for name in dir(GatewayService)
              if callable(getattr(GatewayService, name, None))}
    documented = {(p, m.upper()) for p, ops in spec()["paths"].items() for m in ops}
    for route in ROUTES.values():
        if route.hidden:
            continue
        for method in route.method.split(","):
            assert (route.path, method) in documented
    assert "live_stream" in served
    # The werkzeug rules the entrypoints register follow the documented paths.
    assert ROUTES["scorecard"].rule == "/api/v1/units/<code>/scorecard"
    assert ROUTES["static"].rule == "/static/<path:path>"


def test_docs_page_lists_the_endpoints_without_external_assets() -> None:
    page = docs_page()
    for path in spec()["paths"]:
        assert path.replace("{", "{") in page
    assert not re.search(r"(src|href)=['\"]https?://", page)
