"""Serves the console: ``/`` (the page) and ``/console/...`` (its scripts, styles and icons).

Every file comes from the package (nothing from a CDN, works without internet). The page's
Content-Security-Policy allows only Podium's own scripts and styles (and connections to Podium and to
https hosts: a bucket on S3 hands out signed upload URLs of its own host): the console builds its DOM
with ``textContent``, never ``innerHTML`` of data, and the policy stops any injected script anyway.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from podium.errors import not_found

router = APIRouter(include_in_schema=False)
STATIC = Path(str(files("podium.web") / "static"))
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self' https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _file(path: Path, cache: str) -> Response:
    media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media, headers={**SECURITY_HEADERS, "Cache-Control": cache})


@router.get("/")
async def console_page() -> Response:
    # revalidated on each visit: a new Podium version brings new scripts at once
    return _file(STATIC / "index.html", "no-cache")


@router.get("/console/{name:path}")
async def console_file(name: str) -> Response:
    path = (STATIC / name).resolve()
    if not path.is_file() or STATIC.resolve() not in path.parents:
        raise not_found("The file was not found.")
    return _file(path, "no-cache")
