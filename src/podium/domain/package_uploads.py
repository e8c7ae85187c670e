"""Writing to a feed: recording an uploaded package, deleting packages or versions, saving argument
metadata.

An upload is validated (a process package must be of a kind Podium runs; a library needs only a valid
manifest), recorded, and moved into the feed folder in the same transaction; any failure leaves
neither a row nor a file behind (the caller discards the incoming file whatever happens).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.db.schema_packages import package_versions as pv
from podium.db.types import utcnow
from podium.domain import events
from podium.domain.package_feeds import PROCESSES, Feed, find_version, in_feed, refresh_latest, releases_using
from podium.errors import PodiumError, bad_request, conflict, not_found
from podium.packages import PackageError, read_nuspec, read_package, versions
from podium.storage.packages import PackageStore


def as_json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def process_columns(path: Path) -> dict[str, Any]:
    """Column values of a process package (raises PackageError)."""
    info = read_package(path)
    entry_points = [
        {
            "UniqueId": e.unique_id,
            "Path": e.path,
            "InputArguments": as_json(e.input_schema),
            "OutputArguments": as_json(e.output_schema),
            "DataVariation": None,
            "Id": index,
        }
        for index, e in enumerate(info.entry_points, start=1)
    ]
    return {
        "package_id": info.id,
        "version": info.version,
        "kind": info.kind,
        "title": info.title,
        "description": info.description,
        "authors": info.authors,
        "release_notes": info.release_notes,
        "tags": info.tags,
        "main_entry_point": info.main_entry_point,
        "supports_multiple_entry_points": len(info.entry_points) > 1,
        "entry_points": as_json(entry_points),
        "arguments": as_json(
            {"Input": as_json(info.input_arguments), "Output": as_json(info.output_arguments)}
        ),
        "dependencies": as_json(info.dependencies),
    }


def library_columns(path: Path) -> dict[str, Any]:
    nuspec = read_nuspec(path)
    return {
        "package_id": nuspec.id,
        "version": nuspec.version,
        "title": nuspec.title,
        "description": nuspec.description,
        "authors": nuspec.authors,
        "release_notes": nuspec.release_notes,
        "tags": nuspec.tags,
        "dependencies": as_json(nuspec.dependencies),
    }


async def read_upload(incoming: Path, feed: Feed) -> dict[str, Any]:
    """The column values the package file holds, read off the event loop; 400 when it is not valid."""
    reader = process_columns if feed.purpose == PROCESSES else library_columns
    try:
        return await asyncio.to_thread(reader, incoming)
    except PackageError as error:
        raise bad_request(f"Invalid package: {error}") from None


def version_row(
    values: dict[str, Any], tenant_id: int, user_id: int, feed: Feed, size: int
) -> dict[str, Any]:
    """The whole row of a new version, from the package's own values."""
    normalized = versions.normalize(values["version"])
    return {
        **values,
        "tenant_id": tenant_id,
        "feed": feed.name,
        "folder_id": feed.folder_id,
        "package_id_lower": values["package_id"].lower(),
        "version_normalized": normalized,
        "key": f"{values['package_id']}:{values['version']}",
        "is_prerelease": "-" in normalized,
        "package_size": size,
        "file_name": PackageStore.relative_path(tenant_id, feed.name, values["package_id"], normalized),
        "published": utcnow(),
        "creator_user_id": user_id,
    }


def _already_exists(values: dict[str, Any]) -> PodiumError:
    return conflict(f"Package '{values['package_id']}' version {values['version']} already exists.")


async def _record(
    db: Database, tenant_id: int, feed: Feed, store: PackageStore, incoming: Path, values: dict[str, Any]
) -> None:
    placed = False
    try:
        async with db.write() as conn:
            exists = select(pv.c.id).where(
                *in_feed(tenant_id, feed),
                pv.c.package_id_lower == values["package_id_lower"],
                pv.c.version_normalized == values["version_normalized"],
            )
            if (await conn.execute(exists)).first() is not None:
                raise _already_exists(values)
            try:
                await conn.execute(insert(pv).values(**values))
            except IntegrityError:
                raise _already_exists(values) from None
            await refresh_latest(conn, tenant_id, feed.name, values["package_id_lower"])
            payload = {"Id": values["package_id"], "Version": values["version"], "Feed": feed.id}
            await events.record(conn, tenant_id, "package.uploaded", values["key"], payload, feed.folder_id)
            store.place(incoming, values["file_name"])
            placed = True
    except BaseException:
        if placed:
            store.remove(values["file_name"])
        raise


async def add_version(
    db: Database, store: PackageStore, tenant_id: int, user_id: int, feed: Feed, incoming: Path
) -> dict[str, Any]:
    """Reads, records and places the uploaded file ``incoming``; returns the new version's row. 400 for
    an invalid package, 409 when the feed holds that version already (``1.0`` is ``1.0.0``)."""
    values = await read_upload(incoming, feed)
    row = version_row(values, tenant_id, user_id, feed, incoming.stat().st_size)
    await _record(db, tenant_id, feed, store, incoming, row)
    return row


async def delete_versions(
    conn: AsyncConnection, tenant_id: int, feed: Feed, key: str, name: str, version: str | None
) -> list[str]:
    """Deletes every version of package ``name``, or that one version; 404 when there is none, 409 while
    a release of the feed's folders runs it. Returns the file names to remove once committed."""
    if version is not None:
        rows = [await find_version(conn, tenant_id, feed, name, version)]
    else:
        query = select(pv).where(*in_feed(tenant_id, feed), pv.c.package_id_lower == name.lower())
        rows = [dict(r) for r in (await conn.execute(query)).mappings()]
        if not rows:
            raise not_found(f"Package '{name}' does not exist in this feed.")
    if feed.purpose == PROCESSES:
        using = await releases_using(conn, tenant_id, feed, name, version)
        if using:
            raise conflict(
                f"Package '{key}' is used by the processes {', '.join(using)}; it cannot be deleted."
            )
    await conn.execute(delete(pv).where(pv.c.id.in_([row["id"] for row in rows])))
    await refresh_latest(conn, tenant_id, feed.name, name.lower())
    await events.record(
        conn, tenant_id, "package.deleted", key, {"Id": name, "Version": version}, feed.folder_id
    )
    return [row["file_name"] for row in rows]


async def save_arguments(
    conn: AsyncConnection,
    tenant_id: int,
    feed: Feed,
    name: str,
    version: str | None,
    arguments: dict[str, str | None],
) -> None:
    """Stores the ``{"Input", "Output"}`` schemas (JSON texts) of a version (the latest when None)."""
    row = await find_version(conn, tenant_id, feed, name, version)
    await conn.execute(update(pv).where(pv.c.id == row["id"]).values(arguments=as_json(arguments)))
