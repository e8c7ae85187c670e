"""The License area: ``/odata/HostLicenses`` (host), ``/odata/LicensesRuntime``,
``/odata/LicensesNamedUser`` and ``/api/Licensing`` (tenant), over ``domain/licensing.py``.

Podium has no licence keys. What these answer is the real use: per robot type the runtimes the machines
declare (available) and the robots connected or holding acquired units (used); per machine its runtimes,
robots and running jobs; per user the machines of its robots. What really changes state:

- ``LicensesRuntime({machineKey})/ToggleEnabled`` takes a machine's runtimes of a robot type out of
  licensing (or back): not available, and that machine's robots of that type get no jobs.
- ``/api/Licensing/Acquire`` and ``Release``: units a robot takes under a reference, counted as used
  (instead of its session, not besides it), refused beyond what the machines make available.

Licence-key operations (activate, upload, deactivate, offline requests, a tenant's allocation) answer
400 with the error body saying Podium needs no licence.

Permissions: License.View to read, License.Edit to toggle and, for a user, to acquire and release (a robot
acquires and releases for itself); the HostLicenses operations are the host administrator's
(``License.View``/``License.Edit`` of the host, ``domain/host.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from podium import inputs
from podium.api.settings import NO_LICENCE
from podium.db import schema
from podium.domain import licensing
from podium.domain.enums import RobotType
from podium.errors import PodiumError, bad_request, not_found
from podium.http.context import RequestContext, request_context
from podium.odata.computed import RowType, query_rows
from podium.odata.declare import boolean, integer, text, when
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.path import ResourcePath
from podium.odata.registry import ActionCall, Area, Audited
from podium.odata.routes import collection, entity, json_response, param, read_json, require_body

router = APIRouter(tags=["Licensing"])
area = Area("License", router)

_UNTYPED = Edm.UNTYPED


def _license_fields() -> list[Field]:
    """The properties LicenseDto and HostLicenseDto share (answered by ``licensing._dto``)."""
    return [
        integer("ExpireDate", read_only=True),
        integer("GracePeriodEndDate", read_only=True),
        integer("GracePeriod", read_only=True),
        text("VersionControl", read_only=True),
        Field("Allowed", _UNTYPED, read_only=True),
        Field("Used", _UNTYPED, read_only=True),
        boolean("AttendedConcurrent", read_only=True),
        boolean("DevelopmentConcurrent", read_only=True),
        boolean("StudioXConcurrent", read_only=True),
        boolean("StudioProConcurrent", read_only=True),
        Field("LicensedFeatures", _UNTYPED, read_only=True),
        boolean("IsRegistered", read_only=True),
        boolean("IsCommunity", read_only=True),
        boolean("IsProOrEnterprise", read_only=True),
        text("SubscriptionCode", read_only=True),
        text("SubscriptionPlan", read_only=True),
        boolean("IsExpired", read_only=True),
        when("CreationTime", read_only=True),
        text("Code", read_only=True),
        boolean("UserLicensingEnabled", read_only=True),
        Field("Id", Edm.INT64, read_only=True, nullable=False),
    ]


def _refuse_method(entity_set: str) -> PodiumError:
    return PodiumError(f"The method is not allowed on {entity_set}.", status=405)


async def _serve_host_licenses(ctx: RequestContext, request: Request, resource: ResourcePath) -> Response:
    """The host's one licence record (the sum of its tenants' use): list, get; DELETE is a 400."""
    method = request.method
    if resource.count or (method == "GET" and not resource.has_key):
        ctx.require("License.View")
        async with ctx.state.db.read() as conn:
            dto = await licensing.host_license(conn)
        if resource.count:
            return Response("1", media_type="text/plain")
        return collection(ctx, "HostLicenses", [dto], 1)
    if not resource.has_key:
        raise _refuse_method("HostLicenses")
    if resource.key != licensing.HOST_LICENSE_ID:
        raise not_found(f"There is no host license with id {resource.key}.")
    if method == "GET":
        ctx.require("License.View")
        async with ctx.state.db.read() as conn:
            return entity(ctx, "HostLicenses", await licensing.host_license(conn))
    if method == "DELETE":
        ctx.require("License.Edit")
        raise bad_request(NO_LICENCE)
    raise _refuse_method("HostLicenses")


HOST_LICENSES = area.add(
    EntitySet(
        name="HostLicenses",
        type_name="HostLicenseDto",
        table=schema.tenants,  # not read: the rows are computed (``serve``)
        scope=Scope.HOST,
        permission="License",
        host_only=True,
        insertable=False,
        updatable=False,
        serve=_serve_host_licenses,
        fields=[integer("TenantsCount", read_only=True), *_license_fields()],
    )
)


async def _operations_only(ctx: RequestContext, request: Request, resource: ResourcePath) -> Response:
    raise not_found(
        f"/odata/{resource.entity_set} has its functions only "
        f"(GetLicensesRuntime(robotType=…), GetLicensesNamedUser(robotType=…))."
    )


LICENSES_RUNTIME = area.add(
    EntitySet(
        name="LicensesRuntime",
        type_name="LicenseRuntimeDto",
        table=schema.machines,  # rows computed (``serve``); the audit names a machine by its key
        key_column="key",
        scope=Scope.TENANT,
        permission="License",
        insertable=False,
        updatable=False,
        deletable=False,
        serve=_operations_only,
        operations_only=True,
        fields=[
            text("Key", read_only=True),
            integer("MachineId", read_only=True),
            text("MachineName", read_only=True),
            text("HostMachineName", read_only=True),
            text("ServiceUserName", read_only=True),
            text("MachineType", read_only=True),
            integer("Runtimes", read_only=True),
            integer("RobotsCount", read_only=True),
            integer("ExecutingCount", read_only=True),
            boolean("IsOnline", read_only=True),
            boolean("IsLicensed", read_only=True),
            boolean("Enabled", read_only=True),
            text("MachineScope", read_only=True),
            Field("Id", Edm.INT64, read_only=True, nullable=False),
        ],
    )
)

LICENSES_NAMED_USER = area.add(
    EntitySet(
        name="LicensesNamedUser",
        type_name="LicenseNamedUserDto",
        table=schema.users,  # rows computed (``serve``)
        key_column="key",
        scope=Scope.TENANT,
        permission="License",
        insertable=False,
        updatable=False,
        deletable=False,
        serve=_operations_only,
        operations_only=True,
        fields=[
            text("Key", read_only=True),
            text("UserName", read_only=True),
            when("LastLoginDate", read_only=True),
            integer("MachinesCount", read_only=True),
            boolean("IsLicensed", read_only=True),
            boolean("IsExternalLicensed", read_only=True),
            integer("ActiveRobotId", read_only=True),
            Field("MachineNames", _UNTYPED, read_only=True),
            Field("ActiveMachineNames", _UNTYPED, read_only=True),
            Field("Id", Edm.INT64, read_only=True, nullable=False),
        ],
    )
)

_RUNTIME_ROWS = RowType.of(LICENSES_RUNTIME)
_NAMED_USER_ROWS = RowType.of(LICENSES_NAMED_USER)


@area.operation(
    "LicensesRuntime",
    "GetLicensesRuntime",
    method="GET",
    summary="Runtimes of a robot type per machine: runtimes, robots, running jobs, online, enabled",
    returns="LicensesRuntime",
    parameters=("robotType",),
)
async def get_licenses_runtime(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("License.View")
    type_ = licensing.robot_type(param(call, "robotType"))
    async with ctx.state.db.read() as conn:
        rows = await licensing.runtimes(conn, ctx.tenant_id, type_)
    page = query_rows(_RUNTIME_ROWS, rows, call.options)
    return collection(ctx, "LicensesRuntime", page.rows, page.count)


@area.operation(
    "LicensesRuntime",
    "ToggleEnabled",
    bound_to_entity=True,
    summary="Enables or disables a machine's runtimes of a robot type (disabled: not available, no jobs)",
    body_schema={
        "type": "object",
        "properties": {
            "key": {"type": "string", "description": "the machine's key"},
            "robotType": {"type": "string", "enum": [t.name for t in RobotType]},
            "enabled": {"type": "boolean"},
        },
        "required": ["robotType", "enabled"],
    },
    audit=Audited(action="Toggle"),
)
async def toggle_enabled(ctx: RequestContext, call: ActionCall) -> None:
    ctx.require("License.Edit")
    body = require_body(call)
    key = call.key if isinstance(call.key, str) else body.get("key")
    machine_key = inputs.text(key, "key", max_length=36)
    if body.get("key") is not None and str(body["key"]).lower() != machine_key.lower():
        raise bad_request("key must be the machine key of the URL.")
    type_ = licensing.robot_type(body.get("robotType"))
    enabled = inputs.boolean(body.get("enabled"), "enabled")
    async with ctx.state.db.write() as conn:
        await licensing.toggle(conn, ctx.tenant_id, machine_key, type_, enabled)


@area.operation(
    "LicensesNamedUser",
    "GetLicensesNamedUser",
    method="GET",
    summary="Users with robots of a robot type: their machines, the ones connected now",
    returns="LicensesNamedUser",
    parameters=("robotType",),
)
async def get_licenses_named_user(ctx: RequestContext, call: ActionCall) -> Response:
    ctx.require("License.View")
    type_ = licensing.robot_type(param(call, "robotType"))
    async with ctx.state.db.read() as conn:
        rows = await licensing.named_users(conn, ctx.tenant_id, type_)
    page = query_rows(_NAMED_USER_ROWS, rows, call.options)
    return collection(ctx, "LicensesNamedUser", page.rows, page.count)


# -- HostLicenses operations ----------------------------------------------------------------------------


@area.operation(
    "HostLicenses",
    "GetTenantLicense",
    method="GET",
    summary="A tenant's licence use (LicenseDto); 404 for no such tenant",
    returns="LicenseDto",
    parameters=("tenantId",),
)
async def get_tenant_license(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("License.View")
    tenant_id = inputs.url_id(param(call, "tenantId"), "tenantId")
    async with ctx.state.db.read() as conn:
        return await licensing.license_dto(conn, tenant_id)


def _refuse_host(name: str, summary: str, *, reads_body: bool = False, returns: str | None = None) -> None:
    async def refuse(ctx: RequestContext, call: ActionCall) -> None:
        ctx.require("License.Edit")
        if reads_body:  # a tenant named must exist, as Orchestrator checks it first
            body = require_body(call)
            tenant = body.get("tenantId", (body.get("license") or {}).get("TenantId"))
            if tenant is not None:
                tenant_id = inputs.entity_id(tenant, "tenantId")
                async with ctx.state.db.read() as conn:
                    await licensing.license_dto(conn, tenant_id)  # 404 for no such tenant
        raise bad_request(NO_LICENCE)

    area.operation(
        "HostLicenses",
        name,
        summary=f"{summary}: Podium needs no licence (400)",
        raw_body=not reads_body,
        returns=returns,
        audit=None,
    )(refuse)


for _name, _summary, _body, _returns in (
    ("ActivateLicenseOffline", "Activates a host licence offline", False, None),
    ("ActivateLicenseOnline", "Activates the host licence", False, None),
    ("DeactivateLicenseOnline", "Deactivates the host licence", True, None),
    ("GetDeactivateLicenseOffline", "Offline deactivation request", True, "Edm.String"),
    ("GetLicenseOffline", "Offline activation request", False, "Edm.String"),
    ("UpdateLicenseOnline", "Updates the host licence", False, None),
    ("UploadLicense", "Uploads a host licence file", False, "HostLicenseDto"),
    ("SetTenantLicense", "Allocates licences to a tenant", True, None),
    ("DeleteTenantLicense", "Removes a tenant's licence", True, None),
):
    _refuse_host(_name, _summary, reads_body=_body, returns=_returns)


# -- /api/Licensing: the robot-side acquire and release -------------------------------------------------

CONSUMPTION_BODY = "ConsumptionLicenseDto {reference, type (a robot type), count}"


async def _consumption(request: Request) -> tuple[RequestContext, str, int, int]:
    ctx = await request_context(request)
    if ctx.principal.robot_id is None:
        ctx.require("License.Edit")
    body = await read_json(request)
    if not isinstance(body, dict):
        raise bad_request(f"The request body must be a {CONSUMPTION_BODY}.")
    reference = inputs.text(body.get("reference"), "reference", max_length=256)
    type_ = licensing.robot_type(body.get("type"), "type")
    count = inputs.integer(body.get("count", 1), "count", low=1)
    return ctx, reference, type_, count


@router.post(
    "/api/Licensing/Acquire",
    summary="Acquires licence units of a robot type under a reference (LicenseResultDto; "
    "NotEnoughAvailableSlots beyond the machines' runtimes, RuntimeDisabled on a disabled machine)",
)
async def acquire(request: Request) -> Response:
    ctx, reference, type_, count = await _consumption(request)
    async with ctx.state.db.write() as conn:
        answer = await licensing.acquire(conn, ctx.tenant_id, ctx.principal.robot_id, reference, type_, count)
    return json_response(answer)


@router.put(
    "/api/Licensing/Release",
    summary="Releases licence units acquired under a reference (LicenseResultDto)",
)
async def release(request: Request) -> Response:
    ctx, reference, type_, count = await _consumption(request)
    async with ctx.state.db.write() as conn:
        answer = await licensing.release(conn, ctx.tenant_id, reference, type_, count)
    return json_response(answer)
