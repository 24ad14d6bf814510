"""What the manifest and the rule tests share about the operators' CRD schemas."""

from __future__ import annotations

from typing import Any


def strict(schema: Any) -> Any:
    """Unknown fields are errors, as with `kubectl apply --validate=strict` (the API server
    would silently prune them from a custom resource): a misspelt field fails the test."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema
