"""Files of a bucket: the bucket a caller reaches, file name globs, and the pages of the SDK's cursor
listing (``ListFiles``: paths after the continuation token, in path order).

The bytes never pass through here: they move through the URIs of ``storage/signing.py`` (Podium's own)
or the provider's pre-signed URL (S3).
"""

from __future__ import annotations

import base64
import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema_buckets import buckets
from podium.errors import bad_request
from podium.storage.base import BlobInfo

MAX_TAKE = 1000


async def bucket_where(
    conn: AsyncConnection, bucket_id: int, conditions: Sequence[ColumnElement[bool]]
) -> Mapping[str, Any] | None:
    """The bucket if it meets the conditions (the caller's scope), else None."""
    query = select(buckets).where(buckets.c.id == bucket_id, *conditions)
    row = (await conn.execute(query)).mappings().first()
    return dict(row) if row is not None else None


def matches_glob(pattern: str | None, path: str) -> bool:
    """Whether the file name (any case) matches the glob; every name does without one."""
    if not pattern:
        return True
    return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1].lower(), pattern.lower())


def continuation_token(path: str) -> str:
    return base64.urlsafe_b64encode(path.encode()).decode().rstrip("=")


def path_of_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        raise bad_request("The continuationToken is not valid.") from None


def list_page(
    files: Sequence[BlobInfo], prefix: str, after: str | None, take: int
) -> tuple[list[BlobInfo], str | None]:
    """The files whose path starts with ``prefix`` after the path ``after``, at most ``take`` (capped at
    :data:`MAX_TAKE`), and the token of the next page (None on the last)."""
    matching = [
        info for info in files if info.path.startswith(prefix) and (after is None or info.path > after)
    ]
    page = matching[: min(take, MAX_TAKE)]
    more = len(matching) > len(page)
    return page, continuation_token(page[-1].path) if more else None
