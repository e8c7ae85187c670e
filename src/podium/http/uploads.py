"""Receiving one uploaded file from a multipart request, with a size limit enforced while streaming.

Orchestrator's upload actions take ``multipart/form-data`` with the file in any part (the ``uipath``
CLI names it ``file``). The body is counted as it arrives: past the limit the request is answered 413
without reading the rest, whatever ``Content-Length`` says (or when there is none).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from podium.errors import ErrorCode, PodiumError, bad_request

MULTIPART_OVERHEAD = 64 * 1024  # part headers and boundaries around the file


def too_large(limit: int) -> PodiumError:
    return PodiumError(
        f"The package is larger than the allowed {limit} bytes.", status=413, code=ErrorCode.PAYLOAD_TOO_LARGE
    )


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit + MULTIPART_OVERHEAD:
            raise too_large(limit)
        yield chunk


async def receive_file(request: Request, destination: Path, limit: int) -> str:
    """Writes the request's one file part to ``destination``; returns the client's file name
    (without directories). 400 unless the body is multipart with exactly one file; 413 past ``limit``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        raise too_large(limit)
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise bad_request(
            "The package must be sent as multipart/form-data with the .nupkg file in a file part."
        )
    parser = MultiPartParser(request.headers, _limited(request, limit), max_files=1, max_fields=16)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise bad_request(f"The multipart body is not valid: {error.message}") from None
    try:
        files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if len(files) != 1:
            raise bad_request("The request must hold exactly one .nupkg file.")
        upload = files[0]
        size = 0
        with open(destination, "wb") as sink:
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                sink.write(chunk)
        return os.path.basename((upload.filename or "package.nupkg").replace("\\", "/")) or "package.nupkg"
    finally:
        await form.close()
