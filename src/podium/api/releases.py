"""The Releases entity set (the processes of a folder, which jobs start) and its operations: ListReleases,
UpdateToSpecificPackageVersion, UpdateToLatestPackageVersion, RollbackToPreviousReleaseVersion.

Every property Orchestrator always answers is answered, with its type (the uipath SDK's ``Process``
model validates them); the rules a release is written with are in ``domain/releases.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db import schema
from podium.domain import enums, release_retention, releases
from podium.errors import bad_request
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import audit, boolean, choice, constant, integer, key_id, tag_list, text
from podium.odata.model import Edm, EntitySet, Navigation, Scope
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, require_body

area = Area("Releases")


async def _before_write(
    ctx: RequestContext,
    conn: AsyncConnection,
    values: dict[str, Any],
    existing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
) -> None:
    releases.fill_defaults(values, existing)
    await releases.check_environment(conn, values, existing)
    await releases.check_package(conn, ctx.tenant_id, values, existing)


async def _first_version(
    ctx: RequestContext,
    conn: AsyncConnection,
    release_id: int,
    values: dict[str, Any],
    body: Mapping[str, Any],
) -> None:
    await releases.append_version(conn, release_id, values["process_version"], values["name"])
    await release_retention.add_default(conn, {**values, "id": release_id})  # the built-in policy


RELEASES = area.add(
    EntitySet(
        name="Releases",
        type_name="ReleaseDto",
        table=schema.releases,
        scope=Scope.FOLDER,
        permission="Processes",
        unique=("name",),
        before_write=_before_write,
        after_insert=_first_version,
        navigations=[Navigation("Environment", "Environments", local="environment_id")],
        fields=[
            text("Key", "key", read_only=True),
            text("ProcessKey", "process_key", required=True, nullable=False, max_length=256),
            text("ProcessVersion", "process_version", nullable=False, max_length=64),
            boolean("IsLatestVersion", "is_latest_version", nullable=False),
            boolean("IsProcessDeleted", "is_process_deleted", read_only=True),
            text("Description", "description", max_length=500),
            text("Name", "name", required=True, nullable=False, max_length=256),
            integer("EnvironmentId", "environment_id"),
            text("EnvironmentName", "environment_name", read_only=True),
            text("EntryPointPath", "entry_point_path", max_length=512),
            text("InputArguments", "input_arguments", max_length=10_000),
            choice("ProcessType", enums.ProcessType, "process_type", nullable=False),
            boolean("RequiresUserInteraction", "requires_user_interaction", nullable=False),
            boolean("IsAttended", "is_attended", nullable=False),
            constant("IsCompiled", False, Edm.BOOLEAN),  # Python packages are not compiled
            # Orchestrator answers the id of the folder's feed; a constant cannot (it differs per folder)
            constant("FeedId", ""),
            choice("JobPriority", enums.JobPriority, "job_priority", nullable=False),
            integer("SpecificPriorityValue", "specific_priority_value"),
            integer("OrganizationUnitId", "folder_id", read_only=True),
            constant("TargetFramework", "Portable"),  # Podium's packages run on any platform
            # Podium keeps a release's jobs: no retention policy deletes or archives them
            constant("RetentionAction", "None"),
            constant("RetentionPeriod", 0, Edm.INT64),
            constant("StaleRetentionAction", "None"),
            constant("StaleRetentionPeriod", 0, Edm.INT64),
            tag_list(),
            *audit(),
            key_id(),
        ],
    )
)


@area.operation("Releases", "ListReleases", method="GET", summary="Lists releases (as the uipath CLI asks)")
async def list_releases(ctx: RequestContext, call: ActionCall) -> Any:
    page = await service.list_entities(ctx, RELEASES, call.options)
    return collection(ctx, "Releases", page.rows, page.count)


def _int64(ctx: RequestContext, value: int) -> dict[str, Any]:
    return {"@odata.context": f"{ctx.odata_base}/$metadata#Edm.Int64", "value": value}


async def _editable_release(ctx: RequestContext, conn: AsyncConnection, key: Any) -> dict[str, Any]:
    release = await releases.release(conn, ctx.tenant_id, inputs.entity_id(key, "The release key"))
    ctx.require("Processes.Edit", release["folder_path"])
    return release


async def _update_version(ctx: RequestContext, key: Any, version: str | None) -> Any:
    async with ctx.state.db.write() as conn:
        release = await _editable_release(ctx, conn, key)
        await releases.update_version(conn, ctx.user_id, release, version)
    return _int64(ctx, release["id"])


@area.operation(
    "Releases",
    "UpdateToSpecificPackageVersion",
    bound_to_entity=True,
    summary="Moves the release to a package version",
)
async def update_to_specific(ctx: RequestContext, call: ActionCall) -> Any:
    version = require_body(call).get("packageVersion")
    if not isinstance(version, str) or not version.strip():
        raise bad_request("packageVersion is required.")
    return await _update_version(ctx, call.key, version.strip())


@area.operation(
    "Releases",
    "UpdateToLatestPackageVersion",
    bound_to_entity=True,
    summary="Moves the release to the latest package version",
)
async def update_to_latest(ctx: RequestContext, call: ActionCall) -> Any:
    return await _update_version(ctx, call.key, None)


@area.operation(
    "Releases",
    "RollbackToPreviousReleaseVersion",
    bound_to_entity=True,
    summary="Back to the version before the current one",
)
async def rollback(ctx: RequestContext, call: ActionCall) -> Any:
    async with ctx.state.db.write() as conn:
        release = await _editable_release(ctx, conn, call.key)
        await releases.rollback(conn, ctx.user_id, release)
    return _int64(ctx, release["id"])
