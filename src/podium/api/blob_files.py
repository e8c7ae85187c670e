"""``/api/BlobFiles/{token}``: the URIs GetReadUri/GetWriteUri hand out for Podium's own storage (and for
S3 buckets with ``AccessDataThroughOrchestrator``).

No bearer token: the signed token is the capability (see ``storage/signing.py``). Bodies stream both
ways: an upload is written to a temporary file chunk by chunk and moved into place only when complete
and within ``max_blob_bytes`` (413 and nothing kept otherwise); a download is a file response read in
1 MiB blocks (with Range support) or the S3 object's stream.

A download comes from the API's own origin, and the file's type is whatever the uploader said: so the
browser must not run it. Every download has ``X-Content-Type-Options: nosniff`` and
``Content-Security-Policy: sandbox``, and only a short list of types that cannot script (raster images,
plain text: ``INLINE_TYPES``) may show inline; anything else (HTML, SVG, XML, PDF, ...) is an attachment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response, StreamingResponse

from podium.domain.blob_files import granted_bucket
from podium.domain.buckets import require_writable
from podium.http.state import AppState
from podium.odata.registry import Area
from podium.storage.base import file_missing, guess_type, too_large
from podium.storage.factory import bucket_store
from podium.storage.local import BLOCK, LocalStore
from podium.storage.signing import BlobGrant, derive_key, verify

router = APIRouter(tags=["Buckets"], include_in_schema=False)
area = Area("Buckets", router)


# what a browser may show inline: no scripts, no active content (SVG scripts; PDF viewers run code)
INLINE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif", "text/plain"}
)


class BlockFileResponse(FileResponse):
    chunk_size = BLOCK


def download_headers(path: str, media_type: str | None) -> dict[str, str]:
    """Headers that keep a downloaded file from running in the API's origin (see the docstring)."""
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    essence = (media_type or "").split(";")[0].strip().lower()
    if essence not in INLINE_TYPES:
        name = path.rpartition("/")[2]
        quoted = quote(name, safe="")
        headers["Content-Disposition"] = (
            f'attachment; filename="{name}"' if quoted == name else f"attachment; filename*=UTF-8''{quoted}"
        )
    return headers


async def _grant(request: Request, token: str) -> tuple[AppState, BlobGrant, Mapping[str, Any]]:
    state: AppState = request.app.state.podium
    grant = verify(derive_key(state.signing_key), token, request.method)
    async with state.db.read() as conn:
        row = await granted_bucket(conn, grant)
    return state, grant, row


@router.api_route("/api/BlobFiles/{token}", methods=["GET", "HEAD"])
async def download(token: str, request: Request) -> Response:
    state, grant, row = await _grant(request, token)
    store = bucket_store(state.settings, row)
    if isinstance(store, LocalStore):
        target = store.local_file(grant.path)
        if await store.head(grant.path) is None:
            raise file_missing(grant.path)
        media_type = grant.content_type or guess_type(grant.path)
        headers = download_headers(grant.path, media_type)
        return BlockFileResponse(target, media_type=media_type, headers=headers)
    blob = await store.read(grant.path)
    headers = {"Content-Length": str(blob.info.size), **download_headers(grant.path, blob.info.content_type)}
    return StreamingResponse(blob.chunks, media_type=blob.info.content_type, headers=headers)


@router.put("/api/BlobFiles/{token}")
async def upload(token: str, request: Request) -> Response:
    state, grant, row = await _grant(request, token)
    require_writable(row)
    limit = state.settings.max_blob_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    content_type = request.headers.get("content-type") or grant.content_type
    store = bucket_store(state.settings, row)
    await store.write(grant.path, request.stream(), content_type=content_type, max_bytes=limit)
    return Response(status_code=201)
