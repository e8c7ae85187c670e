"""The store of a bucket row: Podium's local folder or its S3-compatible store (cached per bucket)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from podium.config import Settings
from podium.domain.buckets import is_local, parse_parameters, s3_settings
from podium.storage.base import BlobStore
from podium.storage.local import LocalStore
from podium.storage.s3 import S3Store
from podium.storage.secrets import unseal

_S3_CACHE: OrderedDict[tuple[Any, ...], S3Store] = OrderedDict()
_S3_CACHE_SIZE = 64


def local_root(settings: Settings) -> Any:
    return settings.data_dir / "buckets"


def bucket_store(settings: Settings, row: Mapping[str, Any]) -> BlobStore:
    if is_local(row.get("storage_provider")):
        root = local_root(settings)
        return LocalStore(root / str(row["tenant_id"]) / str(row["id"]), root / ".tmp")
    cache_key = (
        str(settings.data_dir),
        row["id"],
        row.get("storage_provider"),
        row.get("storage_parameters"),
        row.get("storage_container"),
        row.get("secret"),
    )
    store = _S3_CACHE.get(cache_key)
    if store is None:
        sealed = row.get("secret")
        secret = unseal(settings, row["tenant_id"], row["identifier"], sealed) if sealed else None
        store = S3Store(s3_settings(row, secret))
        _S3_CACHE[cache_key] = store
        if len(_S3_CACHE) > _S3_CACHE_SIZE:
            _S3_CACHE.popitem(last=False)
    _S3_CACHE.move_to_end(cache_key)
    return store


def attachment_store(settings: Settings) -> BlobStore:
    """Where attachments are kept (``PODIUM_ATTACHMENT_STORAGE``): Podium's own folder, or an S3-compatible
    store. A file's path is ``<tenant id>/<attachment key>``."""
    if not settings.attachment_storage:
        root = settings.data_dir / "attachments"
        return LocalStore(root / "files", root / ".tmp")
    cache_key = (
        "attachments",
        str(settings.data_dir),
        settings.attachment_storage,
        settings.attachment_storage_secret,
    )
    store = _S3_CACHE.get(cache_key)
    if store is None:
        container = parse_parameters(settings.attachment_storage).get("container", "")
        row = {"storage_container": container, "storage_parameters": settings.attachment_storage}
        store = S3Store(s3_settings(row, settings.attachment_storage_secret))
        _S3_CACHE[cache_key] = store
        if len(_S3_CACHE) > _S3_CACHE_SIZE:
            _S3_CACHE.popitem(last=False)
    _S3_CACHE.move_to_end(cache_key)
    return store
