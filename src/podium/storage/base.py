"""The contract every bucket store fulfils, and the value types it speaks in.

Reads and writes are streams of chunks so that a file of any size moves through Podium with flat
memory: a write consumes an async iterator of bytes and fails (keeping nothing) past ``max_bytes``; a
read hands back an async iterator. Paths are validated keys (``paths.validate_key``).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from podium.errors import ErrorCode, PodiumError


@dataclass(frozen=True)
class BlobInfo:
    path: str  # the key, relative to the bucket root
    size: int
    last_modified: dt.datetime | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Listing:
    files: list[BlobInfo]
    directories: list[str]  # keys of the child directories (only for a non-recursive listing)


@dataclass(frozen=True)
class SignedUri:
    """A URL the client uses directly, with the headers it must send along."""

    uri: str
    headers: dict[str, str]


@dataclass
class BlobStream:
    info: BlobInfo
    chunks: AsyncIterator[bytes]


def guess_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def too_large(max_bytes: int) -> PodiumError:
    return PodiumError(
        f"The file is larger than the limit of {max_bytes} bytes.",
        status=413,
        code=ErrorCode.PAYLOAD_TOO_LARGE,
    )


def file_missing(path: str) -> PodiumError:
    return PodiumError(
        f"The file '{path}' does not exist in the bucket.", status=404, code=ErrorCode.NOT_FOUND
    )


class BlobStore(Protocol):
    async def list(self, prefix: str, *, recursive: bool) -> Listing:
        """Files under the directory ``prefix`` ('' = root) sorted by path; with ``recursive`` also those of
        every subdirectory (then ``directories`` is empty)."""
        ...

    async def head(self, path: str) -> BlobInfo | None: ...

    async def delete(self, path: str) -> bool:
        """Removes the file; False when there was none."""
        ...

    async def write(
        self, path: str, chunks: AsyncIterator[bytes], *, content_type: str | None, max_bytes: int
    ) -> BlobInfo:
        """Stores the stream as the file, replacing any previous one only once the whole stream arrived."""
        ...

    async def read(self, path: str) -> BlobStream:
        """The file as a stream; 404 PodiumError when missing."""
        ...

    async def sign(
        self, verb: str, path: str, expiry: dt.timedelta, content_type: str | None
    ) -> SignedUri | None:
        """A provider's pre-signed URL, or None when the store has none (Podium then signs its own URI)."""
        ...

    async def remove_all(self) -> None:
        """Drops every file (the bucket is deleted and its storage is Podium's own)."""
        ...
