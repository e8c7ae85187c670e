"""Package feeds: which feed a request or a folder means, reading the package versions a feed holds
(lists, one version), which version is the latest, and which releases use a package (a package in use
cannot be deleted).

Feeds of a tenant: the processes feed (id = the tenant's key), the libraries feed (id derived from
the tenant's key), and the own processes feed of each top-level folder whose FeedType is
FolderHierarchy (id = the folder's key; it serves the folder and its subfolders). Every other folder
uses the tenant's processes feed.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders, releases, tenants
from podium.db.schema_packages import package_versions
from podium.domain import enums
from podium.errors import not_found
from podium.packages import versions

PROCESSES = "Processes"
LIBRARIES = "Libraries"
_FOLDER_FEED = int(enums.FeedType.FolderHierarchy)  # type: ignore[attr-defined]
_WORKSPACE_FEED = int(enums.FeedType.PersonalWorkspace)  # type: ignore[attr-defined]  # its own too


@dataclass(frozen=True)
class Feed:
    name: str  # processes | libraries | folder:<id>  (the package_versions.feed column)
    id: str  # the GUID clients pass as feedId
    purpose: str  # Processes | Libraries
    display_name: str
    folder_id: int | None = None
    folder_path: str | None = None  # permissions of a folder feed are checked in this folder


TENANT_FEEDS = {PROCESSES: "processes", LIBRARIES: "libraries"}  # purpose -> package_versions.feed


async def _tenant_key(conn: AsyncConnection, tenant_id: int) -> str:
    key: str = (await conn.execute(select(tenants.c.key).where(tenants.c.id == tenant_id))).scalar_one()
    return key


def _libraries_id(tenant_key: str) -> str:
    return str(uuid.uuid5(uuid.UUID(tenant_key), "libraries"))


def _folder_feed(folder_id: int, key: str, path: str) -> Feed:
    return Feed(f"folder:{folder_id}", key, PROCESSES, f"Orchestrator {path} Feed", folder_id, path)


async def tenant_feed(conn: AsyncConnection, tenant_id: int, purpose: str) -> Feed:
    key = await _tenant_key(conn, tenant_id)
    if purpose == LIBRARIES:
        return Feed(
            TENANT_FEEDS[LIBRARIES], _libraries_id(key), LIBRARIES, "Orchestrator Tenant Libraries Feed"
        )
    return Feed(TENANT_FEEDS[PROCESSES], key, PROCESSES, "Orchestrator Tenant Processes Feed")


async def feed_of_folder(conn: AsyncConnection, tenant_id: int, folder_path: str) -> Feed:
    """The processes feed a folder uses: its top-level folder's own feed, else the tenant's."""
    top = folder_path.split("/", 1)[0]
    row = (
        await conn.execute(
            select(folders.c.id, folders.c.key, folders.c.fully_qualified_name, folders.c.feed_type).where(
                folders.c.tenant_id == tenant_id, folders.c.fully_qualified_name == top
            )
        )
    ).first()
    if row is not None and row.feed_type in (_FOLDER_FEED, _WORKSPACE_FEED):
        return _folder_feed(row.id, row.key, row.fully_qualified_name)
    return await tenant_feed(conn, tenant_id, PROCESSES)


async def resolve_feed(conn: AsyncConnection, tenant_id: int, purpose: str, feed_id: str | None) -> Feed:
    """The feed a ``feedId`` names (none: the tenant's feed of that purpose); 404 when unknown.
    A folder's key names the feed that folder uses."""
    default = await tenant_feed(conn, tenant_id, purpose)
    if not feed_id or feed_id.lower() == default.id.lower():
        return default
    if purpose == PROCESSES:
        row = (
            await conn.execute(
                select(folders.c.fully_qualified_name).where(
                    folders.c.tenant_id == tenant_id, func.lower(folders.c.key) == feed_id.lower()
                )
            )
        ).first()
        if row is not None:
            return await feed_of_folder(conn, tenant_id, row.fully_qualified_name)
    raise not_found(f"The package feed '{feed_id}' does not exist.")


async def folder_feeds(conn: AsyncConnection, tenant_id: int) -> list[tuple[str, Feed]]:
    """Every folder of the tenant with the feed it uses, ordered by path (for GetFeeds)."""
    rows = await conn.execute(
        select(folders.c.fully_qualified_name)
        .where(folders.c.tenant_id == tenant_id)
        .order_by(folders.c.fully_qualified_name)
    )
    return [
        (row.fully_qualified_name, await feed_of_folder(conn, tenant_id, row.fully_qualified_name))
        for row in rows
    ]


def latest_of_tenant_feed(purpose: str) -> list[ColumnElement[bool]]:
    """What the generic OData layer (e.g. ``$count``) sees of a feed entity set: the latest versions of
    the tenant's feed of that purpose (the tenant condition is the layer's own)."""
    return [package_versions.c.feed == TENANT_FEEDS[purpose], package_versions.c.is_latest_version.is_(True)]


def in_feed(tenant_id: int, feed: Feed) -> list[ColumnElement[bool]]:
    return [package_versions.c.tenant_id == tenant_id, package_versions.c.feed == feed.name]


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def listed_versions(
    tenant_id: int,
    feed: Feed,
    *,
    latest_only: bool = False,
    package_id: str | None = None,
    search_term: str = "",
) -> list[ColumnElement[bool]]:
    """The conditions of a feed's list: its latest versions, or every version of one package, whose id
    or title contains ``search_term`` (any case) when there is one."""
    conditions = in_feed(tenant_id, feed)
    if latest_only:
        conditions.append(package_versions.c.is_latest_version.is_(True))
    if package_id is not None:
        conditions.append(package_versions.c.package_id_lower == package_id.lower())
    term = search_term.strip().lower()
    if term:
        pattern = _like(term)
        conditions.append(
            or_(
                package_versions.c.package_id_lower.like(pattern, escape="\\"),
                func.lower(package_versions.c.title).like(pattern, escape="\\"),
            )
        )
    return conditions


def with_id(version_id: int) -> list[ColumnElement[bool]]:
    """The condition naming one version row (to read it through the generic OData layer)."""
    return [package_versions.c.id == version_id]


async def find_version(
    conn: AsyncConnection, tenant_id: int, feed: Feed, name: str, version: str | None
) -> Mapping[str, Any]:
    """One version's row (the latest when ``version`` is None); 404 when the feed lacks it."""
    query = select(package_versions).where(
        *in_feed(tenant_id, feed), package_versions.c.package_id_lower == name.lower()
    )
    if version is None:
        query = query.where(package_versions.c.is_latest_version.is_(True))
    elif versions.is_valid(version):
        query = query.where(package_versions.c.version_normalized == versions.normalize(version))
    else:
        raise not_found(f"Package '{name}' has no version '{version}'.")
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(f"Package '{name}{':' + version if version else ''}' does not exist in this feed.")
    return dict(row)


async def refresh_latest(
    conn: AsyncConnection, tenant_id: int, feed: str, package_id_lower: str
) -> str | None:
    """Marks the highest version of the package as the latest one, and refreshes ``IsLatestVersion`` of
    the releases that run the package from this feed; returns it (None: no version left)."""
    rows = (
        await conn.execute(
            select(package_versions.c.id, package_versions.c.version).where(
                package_versions.c.tenant_id == tenant_id,
                package_versions.c.feed == feed,
                package_versions.c.package_id_lower == package_id_lower,
            )
        )
    ).all()
    best = max(rows, key=lambda r: versions.sort_key(r.version)) if rows else None
    if best is not None:
        scope = (package_versions.c.tenant_id == tenant_id) & (package_versions.c.feed == feed)
        scope = scope & (package_versions.c.package_id_lower == package_id_lower)
        await conn.execute(
            update(package_versions).where(scope).values(is_latest_version=package_versions.c.id == best.id)
        )
    latest = None if best is None else str(best.version)
    await _refresh_releases(conn, tenant_id, feed, package_id_lower, latest)
    return latest


async def _refresh_releases(
    conn: AsyncConnection, tenant_id: int, feed: str, package_id_lower: str, latest: str | None
) -> None:
    """``releases.is_latest_version`` of the releases running the package from ``feed``: whether their
    version is ``latest`` (stored, so that lists and ``$filter=IsLatestVersion eq false`` stay one query)."""
    rows = await conn.execute(
        select(
            releases.c.id,
            releases.c.process_version,
            releases.c.is_latest_version,
            folders.c.fully_qualified_name,
        )
        .join(folders, folders.c.id == releases.c.folder_id)
        .where(releases.c.tenant_id == tenant_id, func.lower(releases.c.process_key) == package_id_lower)
    )
    wanted = versions.normalize(latest) if latest else None
    feeds: dict[str, str] = {}  # top-level folder -> feed name
    changes: dict[bool, list[int]] = {True: [], False: []}
    for row in rows:
        top = row.fully_qualified_name.split("/", 1)[0]
        if top not in feeds:
            feeds[top] = (await feed_of_folder(conn, tenant_id, top)).name
        if feeds[top] != feed:
            continue
        version = row.process_version
        is_latest = (
            wanted is not None and versions.is_valid(version) and versions.normalize(version) == wanted
        )
        if bool(row.is_latest_version) != is_latest:
            changes[is_latest].append(row.id)
    for value, ids in changes.items():
        if ids:
            await conn.execute(update(releases).where(releases.c.id.in_(ids)).values(is_latest_version=value))


async def releases_using(
    conn: AsyncConnection, tenant_id: int, feed: Feed, package_id: str, version: str | None = None
) -> list[str]:
    """Names of the releases (in the folders served by ``feed``) that run the package (or that version)."""
    rows = await conn.execute(
        select(releases.c.name, releases.c.process_version, folders.c.fully_qualified_name)
        .join(folders, folders.c.id == releases.c.folder_id)
        .where(releases.c.tenant_id == tenant_id, func.lower(releases.c.process_key) == package_id.lower())
    )
    wanted = versions.normalize(version) if version else None
    names = []
    for row in rows:
        if (await feed_of_folder(conn, tenant_id, row.fully_qualified_name)).name != feed.name:
            continue
        if wanted is None or (
            versions.is_valid(row.process_version) and versions.normalize(row.process_version) == wanted
        ):
            names.append(f"{row.name} ({row.fully_qualified_name})")
    return names
