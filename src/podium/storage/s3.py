"""Buckets kept in an S3-compatible object store (AWS S3, MinIO, Ceph ...), through obstore.

obstore is async-native (no thread per request), streams both ways (``put_async`` takes an async
iterator and uploads it in multipart chunks; ``get_async().stream()`` yields chunks), and pre-signs URLs
locally. Multipart memory is bounded by ``PART_SIZE * PART_CONCURRENCY``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store as ObstoreS3

from podium.errors import PodiumError
from podium.storage.base import BlobInfo, BlobStream, Listing, SignedUri, file_missing, guess_type, too_large
from podium.storage.paths import validate_key

if TYPE_CHECKING:
    from obstore import ObjectMeta

PART_SIZE = 5 * 1024 * 1024  # S3's smallest part size
PART_CONCURRENCY = 2
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class S3Settings:
    """What a bucket row says about its S3 storage (endpoint, container, region, credentials)."""

    container: str
    endpoint: str | None
    region: str
    access_key_id: str | None
    secret_access_key: str | None
    virtual_hosted: bool = False


def unavailable(error: Exception) -> PodiumError:
    return PodiumError(f"The storage provider failed: {type(error).__name__}: {error}"[:500], status=502)


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

    @staticmethod
    def _info(meta: ObjectMeta) -> BlobInfo:
        return BlobInfo(meta["path"], int(meta["size"]), meta["last_modified"], guess_type(meta["path"]))

    async def list(self, prefix: str, *, recursive: bool) -> Listing:
        base = validate_key(prefix) if prefix else None
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
        try:
            meta = await obstore.head_async(self.store, validate_key(path))
        except (NotFoundError, FileNotFoundError):
            return None
        except BaseError as error:
            raise unavailable(error) from None
        return self._info(meta)

    async def delete(self, path: str) -> bool:
        if await self.head(path) is None:
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
