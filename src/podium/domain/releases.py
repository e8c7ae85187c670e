"""Releases (processes of a folder) and their package versions.

A release must name a package (and version) of the feed its folder uses: on create and on every change
of ``ProcessKey``/``ProcessVersion`` the package is checked (an empty ``ProcessVersion`` means the
latest), ``EntryPointPath`` defaults to the package's main entry point and ``InputArguments`` to the
defaults of its input schema. Each version a release takes is appended to ``release_versions``; a
rollback pops it. A release's environment must be one of its folder.

Orchestrator never answers a release's ``Description`` or ``SpecificPriorityValue`` as null (clients
such as the uipath SDK's ``Process`` model require them): an absent description is stored as "", an
absent specific priority as the value of the release's ``JobPriority``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import environments, folders, releases
from podium.db.schema_packages import package_versions as pv
from podium.db.schema_packages import release_versions
from podium.db.types import utcnow
from podium.domain import events
from podium.domain.enums import JobPriority
from podium.domain.folders import tenant_row_with_folder_path
from podium.domain.package_feeds import feed_of_folder
from podium.errors import bad_request
from podium.packages import versions

# SpecificPriorityValue (1-100) of each JobPriority when none is given
PRIORITY_VALUES = {JobPriority.Low: 15, JobPriority.Normal: 45, JobPriority.High: 75}


async def _folder_path(conn: AsyncConnection, folder_id: int) -> str:
    path: str = (
        await conn.execute(select(folders.c.fully_qualified_name).where(folders.c.id == folder_id))
    ).scalar_one()
    return path


def fill_defaults(values: dict[str, Any], existing: Mapping[str, Any] | None) -> None:
    """The values Orchestrator never answers as null: Description "" and SpecificPriorityValue from
    JobPriority (when it is not given, or the priority changes without it)."""
    if existing is None or "description" in values:
        values["description"] = values.get("description") or ""
    if values.get("specific_priority_value") is None and (
        existing is None or "job_priority" in values or "specific_priority_value" in values
    ):
        priority = values.get("job_priority", (existing or {}).get("job_priority", JobPriority.Normal))
        values["specific_priority_value"] = PRIORITY_VALUES.get(JobPriority(priority), 45)


async def check_environment(
    conn: AsyncConnection, values: dict[str, Any], existing: Mapping[str, Any] | None
) -> None:
    """The release's environment must be of its folder; its name is kept with the release."""
    environment_id = values.get("environment_id")
    if environment_id is None:
        return
    folder_id = values.get("folder_id") or (existing or {}).get("folder_id")
    row = (
        await conn.execute(
            select(environments.c.name).where(
                environments.c.id == environment_id, environments.c.folder_id == folder_id
            )
        )
    ).first()
    if row is None:
        raise bad_request(f"Environment {environment_id} does not exist in this folder.")
    values["environment_name"] = row.name


async def package_for(
    conn: AsyncConnection, tenant_id: int, folder_id: int, process_key: str, version: str | None
) -> Mapping[str, Any]:
    """The package version a release of the folder may run (empty ``version``: the latest); else 400."""
    path = await _folder_path(conn, folder_id)
    feed = await feed_of_folder(conn, tenant_id, path)
    query = select(pv).where(
        pv.c.tenant_id == tenant_id, pv.c.feed == feed.name, pv.c.package_id_lower == process_key.lower()
    )
    if not version:
        query = query.where(pv.c.is_latest_version.is_(True))
    elif versions.is_valid(version):
        query = query.where(pv.c.version_normalized == versions.normalize(version))
    else:
        raise bad_request(f"'{version}' is not a valid package version.")
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        what = f"'{process_key}' version {version}" if version else f"'{process_key}'"
        raise bad_request(f"Package {what} does not exist in the feed of folder '{path}'; upload it first.")
    return dict(row)


def _entry_points(package: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = orjson.loads(package["entry_points"]) if package["entry_points"] else []
    return value if isinstance(value, list) else []


def default_inputs(package: Mapping[str, Any]) -> str | None:
    """``{"name": default}`` for the input schema's properties that declare a default, else None."""
    arguments = orjson.loads(package["arguments"]) if package["arguments"] else {}
    schema = orjson.loads(arguments["Input"]) if isinstance(arguments.get("Input"), str) else None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return None
    defaults = {k: v["default"] for k, v in properties.items() if isinstance(v, dict) and "default" in v}
    return orjson.dumps(defaults).decode() if defaults else None


def _check_input_arguments(text: Any) -> None:
    if text in (None, ""):
        return
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise bad_request("InputArguments must be a JSON object (as a string).") from None
    if not isinstance(value, dict):
        raise bad_request("InputArguments must be a JSON object (as a string).")


async def check_package(
    conn: AsyncConnection, tenant_id: int, values: dict[str, Any], existing: Mapping[str, Any] | None
) -> None:
    """Before a release is written: resolves and checks the package version, fills the defaults."""
    if "input_arguments" in values:
        _check_input_arguments(values["input_arguments"])
    if existing is not None and "process_key" not in values and "process_version" not in values:
        return
    process_key = values.get("process_key") or (existing or {}).get("process_key") or ""
    version = values.get("process_version")
    folder_id = values.get("folder_id") or (existing or {})["folder_id"]
    package = await package_for(conn, tenant_id, folder_id, process_key, version)
    values.update(process_key=package["package_id"], process_version=package["version"])
    values["is_latest_version"] = bool(package["is_latest_version"])
    paths = [e.get("Path") for e in _entry_points(package)]
    if values.get("entry_point_path"):
        if values["entry_point_path"] not in paths:
            raise bad_request(
                f"EntryPointPath must be one of the package's entry points: {', '.join(map(str, paths))}."
            )
    elif existing is None or "entry_point_path" in values or existing.get("entry_point_path") not in paths:
        values["entry_point_path"] = package["main_entry_point"]
    if existing is None and not values.get("input_arguments"):
        values["input_arguments"] = default_inputs(package)
    if existing is not None and existing["process_version"] != package["version"]:
        await append_version(conn, existing["id"], package["version"], values.get("name") or existing["name"])


async def append_version(conn: AsyncConnection, release_id: int, version: str, name: str) -> None:
    """The release took ``version``: appended to its history (its first version opens it)."""
    await conn.execute(
        insert(release_versions).values(
            release_id=release_id, version_number=version, release_name=name, creation_time=utcnow()
        )
    )


async def release(conn: AsyncConnection, tenant_id: int, release_id: int) -> dict[str, Any]:
    """The tenant's release, with its folder's path as ``folder_path``; 404 when there is none."""
    return await tenant_row_with_folder_path(conn, releases, tenant_id, release_id, "Release does not exist.")


async def _move_to(
    conn: AsyncConnection, user_id: int, release: Mapping[str, Any], version: str | None
) -> str:
    """Points the release at ``version`` (None: the latest) and records the change; the new version."""
    package = await package_for(
        conn, release["tenant_id"], release["folder_id"], release["process_key"], version
    )
    await conn.execute(
        update(releases)
        .where(releases.c.id == release["id"])
        .values(
            process_version=package["version"],
            is_latest_version=bool(package["is_latest_version"]),
            last_modification_time=utcnow(),
            last_modifier_user_id=user_id,
        )
    )
    payload = {"ReleaseId": release["id"], "From": release["process_version"], "To": package["version"]}
    await events.record(
        conn, release["tenant_id"], "release.version_changed", release["key"], payload, release["folder_id"]
    )
    return str(package["version"])


async def update_version(
    conn: AsyncConnection, user_id: int, release: Mapping[str, Any], version: str | None
) -> None:
    """Moves the release to ``version`` (None: the latest) and records the move in its history."""
    new = await _move_to(conn, user_id, release, version)
    if new != release["process_version"]:
        await append_version(conn, release["id"], new, release["name"])


async def rollback(conn: AsyncConnection, user_id: int, release: Mapping[str, Any]) -> None:
    """Back to the version before the current one, which leaves the history."""
    history = (
        await conn.execute(
            select(release_versions.c.id, release_versions.c.version_number)
            .where(release_versions.c.release_id == release["id"])
            .order_by(release_versions.c.id.desc())
            .limit(2)
        )
    ).all()
    if len(history) < 2:
        raise bad_request("The release has no previous version to roll back to.")
    await _move_to(conn, user_id, release, history[1].version_number)
    await conn.execute(delete(release_versions).where(release_versions.c.id == history[0].id))
