"""Query parameters in, JSON-ready views out: validation, pagination, unit names, privacy."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from werkzeug.wrappers import Request

from services.common.reference import Province

from .errors import BadRequest, NotFound, PayloadTooLarge, ValidationFailed
from .handlers import VN_TZ
from .routes import (
    DEADLINE_STATES,
    LEVELS,
    MAX_LIMIT,
    MAX_OFFSET,
    PERIOD_PATTERN,
    SCHEME_PATTERN,
)

PERSONAL_FIELDS = ("holder_name", "holder_id_number", "email", "phone")
SMALL_BODY = 64 * 1024  # an action's body (acknowledge, re-inject)


# Query values are checked exactly as /openapi.json documents them: ASCII digits only (int()
# would also take " 7", "1_0" and other scripts' digits), and an empty value is refused like any
# other malformed one rather than read as the default; only an absent parameter takes it.
INTEGER = re.compile(r"-?[0-9]+")


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not INTEGER.fullmatch(raw):
        raise ValidationFailed(f"{name} must be an integer, got {raw!r}", field=name)
    value = int(raw)
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high}", field=name)
    return value


def page(request: Request) -> tuple[int, int]:
    return (_int(request, "limit", 50, 1, MAX_LIMIT),
            _int(request, "offset", 0, 0, MAX_OFFSET))


def listing(items: list[Any], total: int | None, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def choice(request: Request, name: str, allowed: tuple[str, ...],
           default: str | None) -> str | None:
    value = request.args.get(name, default)
    if value is not None and value not in allowed:
        raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}, got {value!r}",
                               field=name)
    return value


def level(request: Request, default: str | None = "department") -> str | None:
    return choice(request, "level", LEVELS, default)


def state(request: Request) -> str:
    return choice(request, "state", DEADLINE_STATES, "overdue") or "overdue"


def period(request: Request, now: datetime) -> str:
    value = request.args.get("period", now.astimezone(VN_TZ).strftime("%Y-%m"))
    # fullmatch: with re.match, "$" would also match before a trailing newline.
    if not re.fullmatch(PERIOD_PATTERN, value):
        raise ValidationFailed(
            f"period must be YYYY-MM, YYYY-Qn, YYYY or rolling-30, got {value!r}", field="period")
    return value


def scheme(request: Request) -> str:
    value = request.args.get("scheme", "qd766")
    if not re.fullmatch(SCHEME_PATTERN, value):
        raise ValidationFailed(f"bad scheme {value!r}", field="scheme")
    return value


def unit_names(province: Province, code: str) -> dict[str, str | None]:
    unit = province.unit(code)
    return {"unit_name": unit.name if unit else None,
            "unit_name_en": unit.name_en if unit else None}


def ranking_view(province: Province, body: dict[str, Any]) -> dict[str, Any]:
    entries = [{**e, **unit_names(province, e["unit_code"])} for e in body.get("entries", [])]
    return {"scheme": body["scheme"], "level": body["level"], "period": body["period"],
            "as_of": body["as_of"], "version": body.get("version"), "entries": entries}


def unit_view(u: Any) -> dict[str, Any]:
    return {"code": u.code, "name": u.name, "name_en": u.name_en, "level": u.level.value,
            "valid_from": u.valid_from.isoformat() if u.valid_from else None,
            "valid_to": u.valid_to.isoformat() if u.valid_to else None}


def procedure_view(p: Any) -> dict[str, Any]:
    return {"code": p.code, "name": p.name, "field_name": p.field_name,
            "statutory_amount": p.statutory_amount, "statutory_unit": p.statutory_unit,
            "fee_bearing": p.fee_bearing}


def without_personal(detail: dict[str, Any]) -> dict[str, Any]:
    """A viewer sees no personal field at all, not even masked."""
    return {k: v for k, v in detail.items() if k not in PERSONAL_FIELDS}


def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused past `max_bytes` before most of it is read."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise PayloadTooLarge(f"body of {length} bytes exceeds the limit of {max_bytes}",
                              limit=max_bytes)
    data = request.stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"body exceeds the limit of {max_bytes} bytes", limit=max_bytes)
    return data


def json_body(raw: bytes, required: bool = True) -> Any:
    if not raw.strip():
        if required:
            raise BadRequest("the request body must be JSON")
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None


def nul_free(request: Request, text_params: list[str], path_params: list[str]) -> None:
    """NUL, which PostgreSQL text cannot hold, never reaches the services: in a free-text query
    parameter it is outside the documented pattern (400); in a path nothing can have such a
    name (404)."""
    for name in text_params:
        if "\x00" in request.args.get(name, ""):
            raise ValidationFailed(f"{name} must not contain NUL characters", field=name)
    path_values: dict[str, Any] = getattr(request, "path_values", None) or {}
    for name in path_params:
        value = path_values.get(name)
        if isinstance(value, str) and "\x00" in value:
            raise NotFound(f"no {name} {value!r}: no name holds a NUL character")


def where(prefix: str, error: Any) -> str:
    path = prefix
    for part in error["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def first_error(exc: ValidationError, prefix: str = "") -> tuple[str, str]:
    error = exc.errors()[0]
    field = where(prefix, error)
    return field, f"{field}: {error['msg']}"


def check_body(request: Request, model: type[BaseModel], max_bytes: int = SMALL_BODY) -> None:
    """An action's JSON body (optional) checked against the model /openapi.json documents, before
    the worker runs; then put back for the worker to read. Strict: `{"by": 5}` is not a name."""
    raw = read_body(request, max_bytes)
    # werkzeug's `stream` is a cached property: the worker reads this copy.
    vars(request)["stream"] = io.BytesIO(raw)
    body = json_body(raw, required=False)
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object")
    if not raw.strip():
        return
    try:
        model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        field, text = first_error(exc)
        raise ValidationFailed(text, field=field) from None
