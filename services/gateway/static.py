"""The dashboard's files: served from one folder, never outside it."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from werkzeug.wrappers import Response

from .errors import NotFound

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("font/woff2", ".woff2")


def resolve(root: Path, relative: str) -> Path:
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise NotFound(f"no file {relative!r}")
    return target


def file_response(root: Path, relative: str) -> Response:
    path = resolve(root, relative)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype == "application/json":
        mimetype += "; charset=utf-8"
    return Response(path.read_bytes(), status=200, content_type=mimetype,
                    headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})
