"""A deleted tenant's files: the folders of Podium's data folder that hold one tenant's files only
(packages, local buckets, attachments and execution media kept locally, queue and job archives) are
removed once the transaction that deleted the tenant's rows has committed (a rolled-back delete keeps
them). Buckets on a provider's storage are the customer's and stay; attachments in an S3-compatible
store (``PODIUM_ATTACHMENT_STORAGE``) are not listed and stay too."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from podium.config import Settings
from podium.domain import after_commit

log = logging.getLogger("podium.tenants")

NOTES = "podium.tenant_files"
PER_TENANT = ("packages", "buckets", "queue-archive", "job-archive")
"""Folders of the data folder whose first level is a tenant id."""


def folders(settings: Settings, tenant_id: int) -> list[Path]:
    roots = [settings.data_dir / name for name in PER_TENANT]
    if not settings.attachment_storage:
        roots.append(settings.data_dir / "attachments" / "files")
    return [root / str(tenant_id) for root in roots]


def tenant_deleted(conn: AsyncConnection, tenant_id: int) -> None:
    """The tenant's files go once the transaction of ``conn`` has committed."""
    after_commit.note(conn, NOTES, tenant_id)


def remove(settings: Settings, tenant_id: int) -> None:
    for folder in folders(settings, tenant_id):
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            log.warning("could not remove all of %s", folder)


def install(engine: AsyncEngine, settings: Settings) -> Callable[[], None]:
    """Removes the files of tenants whose deletion ``engine`` commits; returns the uninstaller."""
    return after_commit.install(engine, NOTES, lambda tenant_id: remove(settings, int(tenant_id)))
