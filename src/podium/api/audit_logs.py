"""The audit log: ``/odata/AuditLogs`` (every OData option), ``GetAuditLogDetails(auditLogId=)`` and
``Export`` (CSV), all with ``Audit.View``. Entries are written by the changes themselves
(``domain/audit_logs.py``); nothing here writes one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from podium import inputs
from podium.db.schema_audit import audit_log_entities, audit_logs
from podium.domain.audit_enums import AuditAction, AuditComponent, AuditUserType
from podium.domain.audit_logs import entities_of_entry, entities_of_tenant, require_entry
from podium.http.context import RequestContext
from podium.odata import service
from podium.odata.declare import boolean, choice, integer, key_id, text, when
from podium.odata.export import export_csv
from podium.odata.model import EntitySet, Navigation, Scope
from podium.odata.options import parse_options
from podium.odata.registry import ActionCall, Area
from podium.odata.routes import collection, param

area = Area("AuditLogs")


def _entities_of_tenant(ctx: RequestContext) -> list[ColumnElement[bool]]:
    return [entities_of_tenant(ctx.tenant_id)]


AUDIT_LOG_ENTITIES = area.add(
    EntitySet(
        name="AuditLogEntities",
        type_name="AuditLogEntityDto",
        table=audit_log_entities,
        scope=Scope.HOST,  # no tenant column: the read filter keeps the tenant's entries
        permission="Audit",
        read_filter=_entities_of_tenant,
        insertable=False,
        updatable=False,
        deletable=False,
        fields=[
            integer("AuditLogId", "audit_log_id", read_only=True),
            text("CustomData", "custom_data", read_only=True),
            integer("EntityId", "entity_id", read_only=True),
            text("EntityName", "entity_name", read_only=True),
            choice("Action", AuditAction, "action", read_only=True),
            key_id(),
        ],
    )
)

AUDIT_LOGS = area.add(
    EntitySet(
        name="AuditLogs",
        type_name="AuditLogDto",
        table=audit_logs,
        scope=Scope.TENANT,
        permission="Audit",
        insertable=False,
        updatable=False,
        deletable=False,
        navigations=[
            Navigation("Entities", "AuditLogEntities", local="id", remote="audit_log_id", many=True)
        ],
        fields=[
            text("ServiceName", "service_name", read_only=True),
            text("MethodName", "method_name", read_only=True),
            text("Parameters", "parameters", read_only=True),
            when("ExecutionTime", "execution_time", read_only=True),
            choice("Action", AuditAction, "action", read_only=True),
            choice("Component", AuditComponent, "component", read_only=True),
            text("DisplayName", "display_name", read_only=True),
            integer("EntityId", "entity_id", read_only=True),
            text("OperationText", "operation_text", read_only=True),
            text("UserName", "user_name", read_only=True),
            choice("UserType", AuditUserType, "user_type", read_only=True),
            text("ExternalClientId", "external_client_id", read_only=True),
            integer("UserId", "user_id", read_only=True),
            boolean("UserIsDeleted", "user_is_deleted", read_only=True),
            key_id(),
        ],
    )
)


@area.operation(
    "AuditLogs",
    "GetAuditLogDetails",
    method="GET",
    summary="The entities an audit log entry touched",
    parameters=("auditLogId",),
    returns="AuditLogEntities",
)
async def audit_log_details(ctx: RequestContext, call: ActionCall) -> Any:
    ctx.require("Audit.View")
    entry_id = inputs.entity_id(inputs.url_integer(param(call, "auditLogId")), "auditLogId")
    async with ctx.state.db.read() as conn:
        await require_entry(conn, ctx.tenant_id, entry_id)
    page = await service.list_entities(ctx, AUDIT_LOG_ENTITIES, call.options, [entities_of_entry(entry_id)])
    return collection(ctx, "AuditLogEntities", page.rows, page.count)


EXPORT_COLUMNS = (
    "ExecutionTime",
    "UserName",
    "UserType",
    "Component",
    "Action",
    "DisplayName",
    "EntityId",
    "OperationText",
    "ServiceName",
    "MethodName",
    "Parameters",
)


@area.operation(
    "AuditLogs",
    "Export",
    summary="Exports the filtered audit log as CSV",
    returns="ExportModel",
    parameters=("auditedService",),
    audit=None,
)
async def export(ctx: RequestContext, call: ActionCall) -> dict[str, Any]:
    ctx.require("Audit.View")
    options = parse_options(call.request.query_params)
    return await export_csv(ctx, AUDIT_LOGS, options, EXPORT_COLUMNS, "OrchestratorAudit")
