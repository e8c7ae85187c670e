"""The audit log: one entry for every change made through the API, written in the transaction of the
change (a change that fails leaves none).

Who writes entries: the generic OData layer for every create, update and delete of a declared entity
set (``odata/service.py``); the OData dispatcher for every action that writes (``odata/routes.py``,
through :func:`podium.db.commit_hooks.pending`: the entry goes into the handler's own write
transaction); sign-ins (success and failure, the failure in a transaction of its own), personal access
tokens and key rotation call :func:`write` themselves. The robot protocol (heartbeats, logs, job states)
and queue traffic (adding items, transactions) are not changes made by someone through the API, and
are not audited, as in Orchestrator.

``Parameters`` is the JSON of the call's arguments with secrets redacted (:func:`redact`): any property
whose name says password, secret, token or key material is written as ``"***"``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import tenants
from podium.db.schema_audit import audit_log_entities, audit_logs
from podium.db.types import utcnow
from podium.domain import settings
from podium.domain.audit_enums import AuditAction, AuditComponent, AuditUserType
from podium.errors import not_found

# retention: the tenant's Audit.RetentionDays setting (domain/settings.py; PODIUM_AUDIT_RETENTION_DAYS, 365)
RETENTION_BATCH = 1000
MAX_PARAMETERS = 64 * 1024  # characters of Parameters kept; longer ones are cut (and say so)
REDACTED = "***"

# property names holding secrets, whatever their case: passwords, client secrets, tokens, machine
# (license) keys, API and private keys, asset secret values
_SECRET_NAME = re.compile(
    r"password|secret|token|licensekey|machinekey|apikey|privatekey|encryptionkey", re.I
)

# Principal.kind -> UserType
_USER_TYPES = {
    "user": "User",
    "pat": "User",
    "robot": "Robot",
    "job": "Robot",
    "app": "DirectoryExternalApplication",
}


@dataclass(frozen=True)
class Actor:
    """Who made the change."""

    tenant_id: int
    user_id: int | None
    user_name: str | None
    user_type: str = "User"  # AuditUserType name
    external_client_id: str | None = None


def actor(tenant_id: int, user_id: int | None, user_name: str | None, kind: str) -> Actor:
    """The actor of a principal (``Principal.kind``: user, pat, app, robot, job)."""
    return Actor(tenant_id, user_id, user_name, _USER_TYPES.get(kind, "User"))


@dataclass(frozen=True)
class Detail:
    """One AuditLogEntityDto row: an entity the change touched."""

    entity_name: str
    entity_id: int | None
    action: str
    custom_data: Any = None


@dataclass
class Entry:
    actor: Actor
    component: str  # AuditComponent name
    action: str  # AuditAction name
    service_name: str
    method_name: str
    entity_name: str  # what the text calls the entity: "robot", "queue definition"
    parameters: Any = None
    entity_id: int | None = None
    display_name: str | None = None
    text: str | None = None  # the OperationText when the generic one does not fit
    details: list[Detail] = field(default_factory=list)


def redact(value: Any) -> Any:
    """``value`` with every property whose name marks a secret replaced by ``"***"`` (at any depth)."""
    if isinstance(value, Mapping):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and _SECRET_NAME.search(k) and v not in (None, "")
                else redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


_PAST = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "StartJob": "started jobs of",
    "StopJob": "stopped",
    "ResumeJob": "resumed",
    "Associate": "changed the associations of",
    "Upload": "uploaded",
    "ChangeStatus": "changed the status of",
    "Assign": "assigned",
    "Unassign": "unassigned",
    "Toggle": "toggled",
    "Activate": "activated",
    "Deactivate": "deactivated",
    "Set": "set",
    "DeleteBlobFile": "deleted a file of",
}


def operation_text(entry: Entry) -> str:
    """ "User admin created robot R1": who, what they did, to which entity."""
    if entry.text is not None:
        return entry.text
    who = f"{entry.actor.user_type} {entry.actor.user_name or '?'}"
    verb = _PAST.get(entry.action) or f"did {entry.method_name} on"
    target = entry.entity_name
    if entry.display_name:
        target += f" {entry.display_name}"
    elif entry.entity_id is not None:
        target += f" {entry.entity_id}"
    return f"{who} {verb} {target}"


def _json(value: Any) -> str | None:
    if value is None:
        return None
    text = orjson.dumps(redact(value), default=str).decode()
    if len(text) > MAX_PARAMETERS:
        text = text[:MAX_PARAMETERS] + "…(cut)"
    return text


async def write(conn: AsyncConnection, entry: Entry, when: dt.datetime | None = None) -> int:
    """Writes the entry (and its details) in the transaction of ``conn``; its id."""
    who = entry.actor
    entry_id: int = (
        await conn.execute(
            insert(audit_logs)
            .values(
                tenant_id=who.tenant_id,
                service_name=entry.service_name,
                method_name=entry.method_name,
                parameters=_json(entry.parameters),
                execution_time=when or utcnow(),
                action=int(AuditAction[entry.action]),
                component=int(AuditComponent[entry.component]),
                display_name=(entry.display_name or "")[:512] or None,
                entity_id=entry.entity_id,
                operation_text=operation_text(entry),
                user_name=(who.user_name or "")[:256] or None,
                user_type=int(AuditUserType[who.user_type]),
                user_id=who.user_id,
                external_client_id=who.external_client_id,
            )
            .returning(audit_logs.c.id)
        )
    ).scalar_one()
    details = entry.details or [Detail(_type_name(entry.entity_name), entry.entity_id, entry.action)]
    await conn.execute(
        insert(audit_log_entities),
        [
            {
                "audit_log_id": entry_id,
                "entity_id": d.entity_id,
                "entity_name": d.entity_name[:128],
                "action": int(AuditAction[d.action]),
                "custom_data": _json(d.custom_data),
            }
            for d in details
        ],
    )
    return entry_id


def _type_name(entity_name: str) -> str:
    return "".join(part.capitalize() for part in entity_name.split())


def entity_name(type_name: str) -> str:
    """ "QueueDefinitionDto" -> "queue definition"."""
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", type_name.removesuffix("Dto"))
    return " ".join(w.lower() for w in words) or type_name


# the audit component of an entity set, by its permission prefix (the set's name where it differs)
_COMPONENT_OF_SET = {"Releases": "Processes", "CredentialStores": "CredentialStores", "Sessions": "Sessions"}
_COMPONENT_OF_PERMISSION = {
    "Transactions": "Queues",
    "Tenants": "Tenant",
    "Logs": "Robots",
    "Alerts": "Unknown",
    "Audit": "Unknown",
}


def component_of(set_name: str, permission: str | None) -> str:
    """The AuditComponent of changes to an entity set."""
    if set_name in _COMPONENT_OF_SET:
        return _COMPONENT_OF_SET[set_name]
    name = permission or set_name
    name = _COMPONENT_OF_PERMISSION.get(name, name)
    return name if name in AuditComponent.__members__ else "Unknown"


# actions named by the operation (the rest are Updates)
ACTION_OF_OPERATION = {
    "StartJobs": "StartJob",
    "RestartJob": "StartJob",
    "StopJob": "StopJob",
    "StopJobs": "StopJob",
    "ResumeJob": "ResumeJob",
    "UploadPackage": "Upload",
    "AddRobot": "Associate",
    "RemoveRobot": "Associate",
    "SetRobots": "Associate",
    "ShareToFolders": "Associate",
    "AssignUsers": "Assign",
    "AssignRoles": "Assign",
    "SetUsers": "Assign",
    "SetItemReviewer": "Assign",
    "UnsetItemReviewer": "Unassign",
    "RemoveUserFromFolder": "Unassign",
    "ToggleRole": "Toggle",
    "SetActive": "ChangeStatus",
    "SetMaintenanceMode": "ChangeStatus",
    "SetItemReviewStatus": "ChangeStatus",
    "DeleteFile": "DeleteBlobFile",
    "DeleteBulk": "Delete",
    "DeleteInactiveUnattendedSessions": "Delete",
    "SetDefaultStoreForResourceType": "Set",
}


async def key_rotated(conn: AsyncConnection, new_key: str, resealed: int) -> None:
    """An entry in every tenant for ``podium admin rotate-key`` (Secrets, Update): the sealing key is
    the server's, so each tenant's log tells its administrators that their secrets were re-sealed."""
    for tenant_id in (await conn.execute(select(tenants.c.id).order_by(tenants.c.id))).scalars():
        entry = Entry(
            actor=Actor(int(tenant_id), None, "podium admin rotate-key"),
            component="Secrets",
            action="Update",
            service_name="KeyRotation",
            method_name="RotateKey",
            entity_name="encryption key",
            parameters={"NewKeyId": new_key, "Resealed": resealed},
            display_name=new_key,
            text=f"The command line (podium admin rotate-key) rotated the encryption key to {new_key} "
            f"and re-sealed {resealed} secrets",
        )
        await write(conn, entry)


async def user_deleted(conn: AsyncConnection, tenant_id: int, user_id: int) -> None:
    """Marks the entries of a deleted user (``UserIsDeleted``)."""
    await conn.execute(
        update(audit_logs)
        .where(audit_logs.c.tenant_id == tenant_id, audit_logs.c.user_id == user_id)
        .values(user_is_deleted=True)
    )


def entities_of_tenant(tenant_id: int) -> ColumnElement[bool]:
    """The AuditLogEntityDto rows of the tenant's entries (their table has no tenant column)."""
    return audit_log_entities.c.audit_log_id.in_(
        select(audit_logs.c.id).where(audit_logs.c.tenant_id == tenant_id)
    )


def entities_of_entry(audit_log_id: int) -> ColumnElement[bool]:
    """The AuditLogEntities rows of one entry (with ``entities_of_tenant``, of the caller's tenant)."""
    return audit_log_entities.c.audit_log_id == audit_log_id


async def require_entry(conn: AsyncConnection, tenant_id: int, audit_log_id: int) -> None:
    """404 unless the tenant has that audit log entry."""
    found = (
        await conn.execute(
            select(audit_logs.c.id).where(
                audit_logs.c.id == audit_log_id, audit_logs.c.tenant_id == tenant_id
            )
        )
    ).first()
    if found is None:
        raise not_found("Audit log does not exist.")


async def retention_days(conn: AsyncConnection) -> list[tuple[int, int]]:
    """(tenant id, days its entries are kept) of every tenant (0: forever)."""
    tenant_ids = (await conn.execute(select(tenants.c.id).order_by(tenants.c.id))).scalars().all()
    return [(int(t), await settings.value(conn, int(t), settings.AUDIT_RETENTION_DAYS)) for t in tenant_ids]


async def delete_older_than(
    conn: AsyncConnection, tenant_id: int, cutoff: dt.datetime, batch: int = RETENTION_BATCH
) -> int:
    """Deletes up to ``batch`` of the tenant's entries executed before ``cutoff`` (their details with
    them); how many."""
    oldest = (
        select(audit_logs.c.id)
        .where(audit_logs.c.tenant_id == tenant_id, audit_logs.c.execution_time < cutoff)
        .order_by(audit_logs.c.id)
    )
    ids: Sequence[int] = (await conn.execute(oldest.limit(batch))).scalars().all()
    if not ids:
        return 0
    await conn.execute(delete(audit_log_entities).where(audit_log_entities.c.audit_log_id.in_(ids)))
    await conn.execute(delete(audit_logs).where(audit_logs.c.id.in_(ids)))
    return len(ids)
