"""Audit entries of the generic OData layer: every create, update and delete of an entity set
(:func:`entity_written`, called by ``service.py`` in the write transaction) and every action that
writes (:func:`auditing`, around the handler in ``routes.py``).

An action's handler opens its own transaction; :func:`auditing` leaves the entry as a hook that
``Database.write`` runs in the first write transaction of the call just before it commits
(``db/commit_hooks.py``): an action that fails or writes nothing leaves no entry. The entry names the
bound entity (its key and name); a handler that knows better (StartJobs: the release) says so with
:func:`about`. ``Operation.audit`` declares the action and component, or ``None`` for calls that are
not changes made by someone (queue traffic, exports).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db import commit_hooks
from podium.domain import audit_logs
from podium.domain.audit_logs import Actor, Detail, Entry
from podium.domain.crypto import is_sealed
from podium.odata.model import EntitySet, Scope

if TYPE_CHECKING:
    from podium.http.context import RequestContext
    from podium.odata.registry import ActionCall, Operation

_NAME_COLUMNS = ("name", "display_name", "user_name", "title")
_current: ContextVar[Entry | None] = ContextVar("podium_audit_entry", default=None)


def actor_of(ctx: RequestContext) -> Actor:
    p = ctx.principal
    return audit_logs.actor(p.tenant_id, p.user_id, p.user_name, p.kind)


def display_of(row: Mapping[str, Any]) -> str | None:
    for column in _NAME_COLUMNS:
        value = row.get(column)
        if value:
            return str(value)
    return None


def _entity_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 else None


async def entity_written(
    ctx: RequestContext,
    conn: AsyncConnection,
    entity_set: EntitySet,
    action: str,
    row: Mapping[str, Any],
    body: Any,
    key: Any = None,
) -> None:
    """The entry of a create, update or delete of ``row`` (its values after the change; before it for
    a delete), with the request body (redacted) as Parameters and the change as the detail's data.
    A host user's writes (Tenants) have no tenant's audit log to go to: not audited."""
    if ctx.principal.tenant_id == 0:
        return
    body = _masked(entity_set, row, body)
    commit_hooks.consume()  # an action that creates through the generic layer gets this entry only
    name = audit_logs.entity_name(entity_set.type_name)
    entity_id = _entity_id(row.get("id"))
    parameters: dict[str, Any] = {} if key is None else {"key": key}
    if body is not None:
        parameters[entity_set.type_name[0].lower() + entity_set.type_name[1:]] = body
    entry = Entry(
        actor=actor_of(ctx),
        component=audit_logs.component_of(entity_set.name, entity_set.permission),
        action=action,
        service_name=entity_set.name,
        method_name={"Create": "Post", "Update": "Put", "Delete": "Delete"}[action],
        entity_name=name,
        parameters=parameters or None,
        entity_id=entity_id,
        display_name=display_of(row),
        details=[Detail(entity_set.type_name.removesuffix("Dto"), entity_id, action, body)],
    )
    await audit_logs.write(conn, entry)
    if action == "Delete" and entity_set.table.name == "users" and entity_id is not None:
        await audit_logs.user_deleted(conn, ctx.tenant_id, entity_id)


SEALED_MASK = "(encrypted)"


def _masked(entity_set: EntitySet, row: Mapping[str, Any], body: Any) -> Any:
    """The body with the values of sealed fields masked when the row is stored sealed (an encrypted
    queue's item): the audit log must not keep in clear what the row keeps encrypted."""
    sealed = entity_set.sealed
    if sealed is None or not isinstance(body, Mapping) or not any(is_sealed(v) for v in row.values()):
        return body
    return {
        name: SEALED_MASK if name in sealed.fields and value is not None else value
        for name, value in body.items()
    }


def about(
    entity_id: int | None = None, display_name: str | None = None, entity_name: str | None = None
) -> None:
    """Names the entity the running action changed, for its audit entry (when the bound key does not)."""
    entry = _current.get()
    if entry is None:
        return
    if entity_id is not None:
        entry.entity_id = entity_id
    if display_name is not None:
        entry.display_name = display_name
    if entity_name is not None:
        entry.entity_name = entity_name


async def _name_of(conn: AsyncConnection, entity_set: EntitySet, key: Any, tenant_id: int) -> str | None:
    table = entity_set.table
    columns = [table.c[c] for c in _NAME_COLUMNS if c in table.c]
    if not columns or entity_set.key_column not in table.c:
        return None
    query = select(*columns).where(table.c[entity_set.key_column] == key)
    if "tenant_id" in table.c:
        query = query.where(table.c.tenant_id == tenant_id)
    elif entity_set.scope is not Scope.HOST:
        return None  # rows whose tenant this table cannot tell
    row = (await conn.execute(query.limit(1))).mappings().first()
    return None if row is None else display_of(dict(row))


@contextmanager
def auditing(ctx: RequestContext, operation: Operation, call: ActionCall) -> Iterator[None]:
    """Around an action's handler: its entry, written in the handler's first write transaction."""
    audited = operation.audit
    if audited is None or operation.method == "GET":
        yield
        return
    entity_set = call.entity_set
    action = audited.action or audit_logs.ACTION_OF_OPERATION.get(operation.name, "Update")
    key = _entity_id(call.key)
    parameters: dict[str, Any] = {}
    if call.key is not None:
        parameters["key"] = call.key
    parameters.update(call.params)
    if call.body is not None:
        parameters["body"] = call.body
    entry = Entry(
        actor=actor_of(ctx),
        component=audited.component or audit_logs.component_of(entity_set.name, entity_set.permission),
        action=action,
        service_name=entity_set.name,
        method_name=operation.name,
        entity_name=audit_logs.entity_name(entity_set.type_name),
        parameters=parameters or None,
        entity_id=key,
    )

    async def write(conn: AsyncConnection) -> None:
        if entry.display_name is None and call.key is not None:
            entry.display_name = await _name_of(conn, entity_set, call.key, ctx.tenant_id)
        await audit_logs.write(conn, entry)

    token = _current.set(entry)
    try:
        with commit_hooks.pending(write):
            yield
    finally:
        _current.reset(token)
