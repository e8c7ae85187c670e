"""Buckets kept in an S3-compatible object store (AWS S3, MinIO, Ceph ...), through obstore.

obstore is async-native (no thread per request), streams both ways (``put_async`` takes an async
iterator and uploads it in multipart chunks; ``get_async().stream()`` yields chunks), and pre-signs URLs
locally. Multipart memory is bounded by ``PART_SIZE * PART_CONCURRENCY``.

Where the requests go is checked before any is sent (``check_target``): at creation and edit of the
bucket, and again before each call, as DNS may change after creation (a passed check is trusted for
``CHECK_SECONDS``). The bucket name and region are plain names, because without an Endpoint they become
part of the host name (``Region=@127.0.0.1:5432/`` would send the request there). An Endpoint is written
in a plain form (no user info, backslash or other character a URL parser could read differently from
Python's), resolves to public addresses only (``podium.outbound``) and is https: obstore follows
redirects and cannot be told not to, but it refuses a redirect from https to plain http, which keeps
the cloud metadata services (http only) out of reach. Plain http and private addresses are allowed only
with ``PODIUM_OUTBOUND_ALLOW_PRIVATE=1``. Errors never echo what the provider answered: the client sees
the HTTP status, the server log has the details.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store as ObstoreS3

from podium.errors import PodiumError, bad_request
from podium.outbound import ALLOW_PRIVATE_ENV, check_url, private_allowed
from podium.storage.base import BlobInfo, BlobStream, Listing, SignedUri, file_missing, guess_type, too_large
from podium.storage.paths import validate_key

if TYPE_CHECKING:
    from obstore import ObjectMeta

PART_SIZE = 5 * 1024 * 1024  # S3's smallest part size
PART_CONCURRENCY = 2
READ_CHUNK = 1024 * 1024
CHECK_SECONDS = 30.0
RESOLVE_SECONDS = 5.0  # the check at creation runs in the write transaction: a slow DNS must not hold it

log = logging.getLogger("podium.storage")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_ENDPOINT = re.compile(r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")
_STATUS = re.compile(r"status code: ([1-5][0-9]{2})\b")
ENDPOINT = "StorageParameters: Endpoint"


@dataclass(frozen=True)
class S3Settings:
    """What a bucket row says about its S3 storage (endpoint, container, region, credentials)."""

    container: str
    endpoint: str | None
    region: str
    access_key_id: str | None
    secret_access_key: str | None
    virtual_hosted: bool = False


def check_names(settings: S3Settings) -> None:
    """400 unless the bucket name and the region are plain names (letters, digits, '.', '-', '_')."""
    if not _NAME.fullmatch(settings.container):
        raise bad_request("StorageContainer must be a bucket name: letters, digits, '.', '-' and '_'.")
    if not _NAME.fullmatch(settings.region):
        raise bad_request("StorageParameters: Region must be a name: letters, digits, '.', '-' and '_'.")


async def check_target(settings: S3Settings) -> None:
    """400 unless this server may send the store's requests (see the module's docstring)."""
    check_names(settings)
    if settings.endpoint is None:
        return  # AWS itself: https://s3.<region>.amazonaws.com
    if not _ENDPOINT.fullmatch(settings.endpoint):
        raise bad_request(
            f"{ENDPOINT} must be a plain http(s) URL: scheme, host, optional port and path, no user info."
        )
    try:
        await asyncio.wait_for(check_url(settings.endpoint, ENDPOINT), RESOLVE_SECONDS)
    except TimeoutError:
        raise bad_request(f"{ENDPOINT}'s host name could not be resolved in time.") from None
    if not settings.endpoint.startswith("https://") and not private_allowed():
        raise bad_request(f"{ENDPOINT} must be https; set {ALLOW_PRIVATE_ENV}=1 to allow plain http.")


def unavailable(error: Exception) -> PodiumError:
    """A generic 502: the provider's answer (its body may be anything the endpoint said) goes only to the
    server's log."""
    log.warning("S3 request failed: %s", str(error)[:2000])
    status = _STATUS.search(str(error))
    if status is not None:
        return PodiumError(f"The storage provider answered an error (HTTP {status.group(1)}).", status=502)
    return PodiumError("The storage provider could not be reached or gave no valid answer.", status=502)


class S3Store:
    def __init__(self, settings: S3Settings) -> None:
        config: dict[str, Any] = {
            "region": settings.region,
            "virtual_hosted_style_request": settings.virtual_hosted,
        }
        if settings.endpoint:
            config["endpoint"] = settings.endpoint
        if settings.access_key_id and settings.secret_access_key:
            config["access_key_id"] = settings.access_key_id
            config["secret_access_key"] = settings.secret_access_key
        else:
            config["skip_signature"] = True
        client = {"allow_http": bool(settings.endpoint and settings.endpoint.startswith("http://"))}
        self.store = ObstoreS3(settings.container, config=config, client_options=client)  # type: ignore[arg-type]
        self.settings = settings
        self._checked_until = 0.0

    async def _check(self) -> None:
        """``check_target`` before a call; a pass without the private-address setting is kept a while."""
        if time.monotonic() < self._checked_until:
            return
        await check_target(self.settings)
        if not private_allowed():
            self._checked_until = time.monotonic() + CHECK_SECONDS

    @staticmethod
    def _info(meta: ObjectMeta) -> BlobInfo:
        return BlobInfo(meta["path"], int(meta["size"]), meta["last_modified"], guess_type(meta["path"]))

    async def list(self, prefix: str, *, recursive: bool) -> Listing:
        base = validate_key(prefix) if prefix else None
        await self._check()
        try:
            if recursive:
                files: list[BlobInfo] = []
                async for batch in obstore.list(self.store, base):
                    files.extend(self._info(meta) for meta in batch)
                return Listing(sorted(files, key=lambda info: info.path), [])
            result = await obstore.list_with_delimiter_async(self.store, base)
        except BaseError as error:
            raise unavailable(error) from None
        files = sorted((self._info(meta) for meta in result["objects"]), key=lambda info: info.path)
        return Listing(files, sorted(result["common_prefixes"]))

    async def head(self, path: str) -> BlobInfo | None:
        key = validate_key(path)
        await self._check()
        try:
            meta = await obstore.head_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            return None
        except BaseError as error:
            raise unavailable(error) from None
        return self._info(meta)

    async def delete(self, path: str) -> bool:
        if await self.head(path) is None:  # checks the target
            return False
        try:
            await obstore.delete_async(self.store, validate_key(path))
        except BaseError as error:
            raise unavailable(error) from None
        return True

    async def write(
        self, path: str, chunks: AsyncIterator[bytes], *, content_type: str | None, max_bytes: int
    ) -> BlobInfo:
        key = validate_key(path)
        await self._check()

        async def limited() -> AsyncIterator[bytes]:
            size = 0
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                yield chunk

        attributes = {"Content-Type": content_type or guess_type(key)}
        try:
            await obstore.put_async(
                self.store,
                key,
                limited(),
                attributes=attributes,
                use_multipart=True,
                chunk_size=PART_SIZE,
                max_concurrency=PART_CONCURRENCY,
            )
        except BaseError as error:
            if isinstance(error.__cause__, PodiumError):
                raise error.__cause__ from None
            raise unavailable(error) from None
        info = await self.head(key)
        if info is None:
            raise unavailable(RuntimeError("the object is missing after the upload"))
        return info

    async def read(self, path: str) -> BlobStream:
        key = validate_key(path)
        await self._check()
        try:
            result = await obstore.get_async(self.store, key)
        except (NotFoundError, FileNotFoundError):
            raise file_missing(path) from None
        except BaseError as error:
            raise unavailable(error) from None
        meta = result.meta
        content_type = result.attributes.get("Content-Type")
        info = BlobInfo(key, int(meta["size"]), meta["last_modified"], str(content_type or guess_type(key)))

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in result.stream(min_chunk_size=READ_CHUNK):
                yield bytes(chunk)

        return BlobStream(info, chunks())

    async def sign(
        self, verb: str, path: str, expiry: dt.timedelta, content_type: str | None
    ) -> SignedUri | None:
        key = validate_key(path)
        await self._check()  # no request, but the URL is handed out: the same rules
        try:
            if verb == "PUT":
                uri = await obstore.sign_async(self.store, "PUT", key, expiry)
            else:
                uri = await obstore.sign_async(self.store, "GET", key, expiry)
        except BaseError as error:
            raise unavailable(error) from None
        return SignedUri(uri, {})

    async def remove_all(self) -> None:
        """The objects of an external store belong to its owner: deleting the bucket keeps them."""
        return None
