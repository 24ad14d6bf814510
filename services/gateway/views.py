"""Query parameters in, JSON-ready views out: validation, pagination, unit names, privacy."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request

from services.common.reference import Province

from .errors import BadRequest, PayloadTooLarge, ValidationFailed
from .handlers import VN_TZ
from .routes import DEADLINE_STATES, LEVELS, PERIOD_PATTERN

PERSONAL_FIELDS = ("holder_name", "holder_id_number", "email", "phone")


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name} must be an integer, got {raw!r}", field=name) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{name} must be between {low} and {high}", field=name)
    return value


def page(request: Request) -> tuple[int, int]:
    return _int(request, "limit", 50, 1, 500), _int(request, "offset", 0, 0, 10**9)


def listing(items: list[Any], total: int | None, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def choice(request: Request, name: str, allowed: tuple[str, ...],
           default: str | None) -> str | None:
    value = request.args.get(name) or default
    if value is not None and value not in allowed:
        raise ValidationFailed(f"{name} must be one of {', '.join(allowed)}, got {value!r}",
                               field=name)
    return value


def level(request: Request, default: str | None = "department") -> str | None:
    return choice(request, "level", LEVELS, default)


def state(request: Request) -> str:
    return choice(request, "state", DEADLINE_STATES, "overdue") or "overdue"


def period(request: Request, now: datetime) -> str:
    value = request.args.get("period") or now.astimezone(VN_TZ).strftime("%Y-%m")
    if not re.match(PERIOD_PATTERN, value):
        raise ValidationFailed(
            f"period must be YYYY-MM, YYYY-Qn, YYYY or rolling-30, got {value!r}", field="period")
    return value


def scheme(request: Request) -> str:
    value = request.args.get("scheme") or "qd766"
    if not re.match(r"^[\w.-]{1,64}$", value):
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
