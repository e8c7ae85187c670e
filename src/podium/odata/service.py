"""Generic list/get/create/update/delete over any declared entity set.

Scoping is applied here once for every entity set: the caller's tenant always, and for folder-scoped
sets the folders where the caller holds the permission (or the folder its headers name).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Table, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders
from podium.db.types import utcnow
from podium.domain import revocations, webhook_events
from podium.errors import conflict, invalid_odata, not_found
from podium.http.context import RequestContext
from podium.odata import audit
from podium.odata.driver_rows import data_errors, driver_statement
from podium.odata.model import EntitySet, Scope
from podium.odata.options import QueryOptions
from podium.odata.query import EntityQuery, Shape
from podium.odata.registry import registry
from podium.odata.values import invalid, values_from_body


@dataclass
class Page:
    rows: list[dict[str, Any]]
    count: int | None


def permission(entity_set: EntitySet, verb: str) -> str | None:
    return f"{entity_set.permission}.{verb}" if entity_set.permission else None


async def scope_conditions(
    ctx: RequestContext, conn: AsyncConnection, entity_set: EntitySet, verb: str = "View"
) -> list[ColumnElement[bool]]:
    """Tenant and folder conditions for reading the entity set; 403 without the permission."""
    table = entity_set.table
    needed = permission(entity_set, verb)
    if entity_set.scope is Scope.HOST:
        if needed:
            ctx.require(needed)
        return entity_set.read_filter(ctx) if entity_set.read_filter is not None else []
    conditions: list[ColumnElement[bool]] = [_in_tenant(table, ctx.tenant_id)]
    if entity_set.scope is Scope.FOLDER and needed:
        folder_ids = await ctx.readable_folder_ids(conn, needed)
        if folder_ids is not None:
            conditions.append(in_folders(entity_set, folder_ids))
    elif needed and not (verb == "View" and entity_set.read_filter_decides_visibility):
        ctx.require(needed)
    if entity_set.read_filter is not None:
        conditions.extend(entity_set.read_filter(ctx))
    return conditions


# Scope conditions, built once per table and tenant (per entity set and folders) and shared by the
# requests: building a SQLAlchemy comparison and then its cache key (``query._page_key``) cost about a
# sixth of a small list request; the same object's cache key is memoised by SQLAlchemy.
SCOPE_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=SCOPE_CACHE_SIZE)
def _in_tenant(table: Table, tenant_id: int) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = table.c.tenant_id == tenant_id
    return condition


def in_folders(entity_set: EntitySet, folder_ids: list[int]) -> ColumnElement[bool]:
    """Rows of the entity set that live in (or are shared to) one of the folders."""
    return _in_folders(entity_set.table, entity_set.shared_through, tuple(folder_ids))


@functools.lru_cache(maxsize=SCOPE_CACHE_SIZE)
def _in_folders(
    table: Table,
    shared_through: tuple[Table, str] | tuple[Table, str, str] | None,
    folder_ids: tuple[int, ...],
) -> ColumnElement[bool]:
    if shared_through is None:
        return _folder_is(table, folder_ids)
    link, column, *local = shared_through
    shared = select(link.c[column]).where(_folder_is(link, folder_ids))
    return table.c[local[0] if local else "id"].in_(shared)


def _folder_is(table: Table, folder_ids: tuple[int, ...]) -> ColumnElement[bool]:
    """``folder_id = :id`` for one folder (a request with a folder header), else ``IN``: an ``IN`` list
    is an expanding parameter, rendered into the SQL at every call (~25 µs of a list request)."""
    if len(folder_ids) == 1:
        return table.c.folder_id == folder_ids[0]
    return table.c.folder_id.in_(folder_ids)


def _key_condition(entity_set: EntitySet, key: Any) -> ColumnElement[bool]:
    column = entity_set.table.c[entity_set.key_column]
    python_type = column.type.python_type
    if python_type is int and (isinstance(key, bool) or not isinstance(key, int)):
        raise invalid_odata(f"The key '{key}' is not valid for {entity_set.name}: an integer is expected.")
    if python_type is str and not isinstance(key, str):
        key = str(key)
    condition: ColumnElement[bool] = column == key
    return condition


def withheld(ctx: RequestContext) -> frozenset[str]:
    """The permissions guarding fields (``Field.visible_with``) that the caller lacks across the tenant:
    the fields they guard are answered to it as null."""
    guards = registry.guarding_permissions()
    return frozenset(p for p in guards if not ctx.principal.has(p)) if guards else frozenset()


def _limited_to_tenant(
    ctx: RequestContext, entity_set: EntitySet, conditions: list[ColumnElement[bool]]
) -> int | None:
    """The caller's tenant when the conditions hold the rows to it (``scope_conditions``' own condition
    object), else None."""
    if "tenant_id" not in entity_set.table.c:
        return None
    in_tenant = _in_tenant(entity_set.table, ctx.tenant_id)
    return ctx.tenant_id if any(condition is in_tenant for condition in conditions) else None


async def run_page(
    ctx: RequestContext,
    conn: AsyncConnection,
    entity_set: EntitySet,
    options: QueryOptions,
    conditions: list[ColumnElement[bool]],
) -> Page:
    builder = EntityQuery(
        registry,
        entity_set,
        ctx.state.db.dialect,
        withheld(ctx),
        _limited_to_tenant(ctx, entity_set, conditions),
    )
    query, count_query, shape, params = builder.page(options, conditions)
    driver = driver_statement(query, conn.dialect)
    rows: Sequence[Any]
    try:
        if driver is not None:
            rows = await driver.rows(conn, params, ctx.state.db.asyncpg)
        else:
            rows = (await conn.execute(query, params)).all()
    except data_errors():
        # e.g. arithmetic in $filter overflowing on values stored in the rows
        raise invalid_odata("The query could not be evaluated on the stored values.") from None
    dtos = [shape.read(row) or {} for row in rows]
    if shape.has_sealed:
        shape.open_sealed(ctx, rows, dtos)
    if shape.collections:
        await load_collections(ctx, conn, shape, [shape.key(row) for row in rows], dtos)
    count = None
    if count_query is not None:
        if rows:
            count = rows[0][-1]  # the page query carries the count as its last column
        elif options.skip or options.top == 0:
            count = (await conn.execute(count_query, params)).scalar_one()
        else:
            count = 0  # an empty first page: nothing matches
    return Page(dtos, count)


async def list_entities(
    ctx: RequestContext,
    entity_set: EntitySet,
    options: QueryOptions,
    extra: list[ColumnElement[bool]] | None = None,
) -> Page:
    async with ctx.state.db.read() as conn:
        conditions = await scope_conditions(ctx, conn, entity_set)
        return await run_page(ctx, conn, entity_set, options, conditions + (extra or []))


async def list_entities_unchecked(
    ctx: RequestContext,
    entity_set: EntitySet,
    options: QueryOptions,
    extra: list[ColumnElement[bool]],
) -> Page:
    """A page of the caller's tenant without a permission check (the caller's own user record)."""
    async with ctx.state.db.read() as conn:
        conditions = [] if entity_set.scope is Scope.HOST else [_in_tenant(entity_set.table, ctx.tenant_id)]
        return await run_page(ctx, conn, entity_set, options, conditions + extra)


async def get_entity(
    ctx: RequestContext, entity_set: EntitySet, key: Any, options: QueryOptions | None = None
) -> dict[str, Any]:
    options = options or QueryOptions()
    single = QueryOptions(select=options.select, expand=options.expand, top=1, count=False)
    page = await list_entities(ctx, entity_set, single, [_key_condition(entity_set, key)])
    if not page.rows:
        raise not_found(f"{entity_set.type_name.removesuffix('Dto')} does not exist.")
    return page.rows[0]


async def load_collections(
    ctx: RequestContext, conn: AsyncConnection, shape: Shape, keys: list[Any], dtos: list[dict[str, Any]]
) -> None:
    """One query per expanded collection navigation for the whole page."""
    for nav, item in shape.collections:
        target = registry.get(nav.target)
        if target is None:
            continue
        builder = EntityQuery(registry, target, ctx.state.db.dialect, withheld(ctx))
        nested, labels = builder.shape(item.select, item.expand)
        if nav.link is not None:
            link, to_owner, to_target = nav.link
            owner = link.c[to_owner].label("__owner")
            source: FromClause = builder.from_clause().join(
                link, link.c[to_target] == target.table.c[target.key_column]
            )
        else:
            owner = target.table.c[nav.remote].label("__owner")
            source = builder.from_clause()
        nested.bind([owner, *labels])
        query = (
            select(owner, *labels)
            .select_from(source)
            .where(owner.element.in_(keys))
            .order_by(target.table.c[target.key_column])
        )
        grouped: dict[Any, list[dict[str, Any]]] = {}
        found = (await conn.execute(query)).all()
        read = [nested.read(row) or {} for row in found]
        if nested.has_sealed:
            nested.open_sealed(ctx, found, read)
        for row, dto in zip(found, read, strict=True):
            grouped.setdefault(row[0], []).append(dto)
        for key, dto in zip(keys, dtos, strict=True):
            dto[nav.name] = grouped.get(key, [])


async def _folder_path(conn: AsyncConnection, folder_id: int) -> str:
    path: str = (
        await conn.execute(select(folders.c.fully_qualified_name).where(folders.c.id == folder_id))
    ).scalar_one()
    return path


async def _check_unique(
    conn: AsyncConnection, entity_set: EntitySet, values: Mapping[str, Any], exclude: Any = None
) -> None:
    table = entity_set.table
    for column in entity_set.unique:
        if column not in values:
            continue
        scope_column = "folder_id" if entity_set.scope is Scope.FOLDER else "tenant_id"
        query = select(table.c[entity_set.key_column]).where(
            table.c[column] == values[column], table.c[scope_column] == values[scope_column]
        )
        if exclude is not None:
            query = query.where(table.c[entity_set.key_column] != exclude)
        if (await conn.execute(query.limit(1))).first() is not None:
            raise conflict(f"{entity_set.type_name.removesuffix('Dto')} '{values[column]}' already exists.")


async def create_entity(ctx: RequestContext, entity_set: EntitySet, body: Any) -> dict[str, Any]:
    if not entity_set.insertable:
        raise invalid(f"{entity_set.name} cannot be created this way.")
    values = values_from_body(entity_set, body, creating=True)
    table = entity_set.table
    async with ctx.state.db.write() as conn:
        if entity_set.scope is not Scope.HOST:
            values["tenant_id"] = ctx.tenant_id
        if entity_set.scope is Scope.FOLDER:
            values["folder_id"] = ctx.require_folder().id
        if "key" in table.c and not values.get("key"):
            values["key"] = str(uuid.uuid4())
        if "creation_time" in table.c:
            values["creation_time"] = utcnow()
        if "creator_user_id" in table.c:
            values["creator_user_id"] = ctx.user_id
        # permission first: a caller who may not create learns nothing from the validation hooks
        await _require_write(ctx, conn, entity_set, "Create", values.get("folder_id"))
        if entity_set.before_write is not None:
            await entity_set.before_write(ctx, conn, values, None, body)
        await _check_unique(conn, entity_set, values)
        try:
            new_id = (await conn.execute(insert(table).values(**values).returning(table.c.id))).scalar_one()
        except IntegrityError:
            raise conflict(
                f"The {entity_set.type_name.removesuffix('Dto')} conflicts with an existing one."
            ) from None
        shown_once = None
        if entity_set.after_insert is not None:
            shown_once = await entity_set.after_insert(ctx, conn, new_id, values, body)
        await audit.entity_written(ctx, conn, entity_set, "Create", {**values, "id": new_id}, body)
        await webhook_events.entity_written(
            conn, entity_set.name, "Create", {**values, "id": new_id}, ctx.user_id
        )
    created = await get_entity(ctx, entity_set, new_id)
    return {**created, **shown_once} if shown_once else created


async def _require_write(
    ctx: RequestContext, conn: AsyncConnection, entity_set: EntitySet, verb: str, folder_id: int | None
) -> None:
    needed = permission(entity_set, verb)
    if needed is None:
        return
    if entity_set.scope is Scope.FOLDER and folder_id is not None:
        ctx.require(needed, await _folder_path(conn, folder_id))
    else:
        ctx.require(needed)


async def _existing(
    ctx: RequestContext, conn: AsyncConnection, entity_set: EntitySet, key: Any
) -> Mapping[str, Any]:
    table = entity_set.table
    query = select(table).where(_key_condition(entity_set, key))
    if entity_set.scope is not Scope.HOST:
        query = query.where(table.c.tenant_id == ctx.tenant_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(f"{entity_set.type_name.removesuffix('Dto')} does not exist.")
    return dict(row)


async def update_entity(
    ctx: RequestContext, entity_set: EntitySet, key: Any, body: Any, *, partial: bool
) -> dict[str, Any]:
    if not entity_set.updatable:
        raise invalid(f"{entity_set.name} cannot be edited this way.")
    if entity_set.edit is not None:
        async with ctx.state.db.write() as conn:
            row = await _existing(ctx, conn, entity_set, key)
            await _require_write(ctx, conn, entity_set, "Edit", row.get("folder_id"))
            await entity_set.edit(ctx, conn, row, body)
            await _revoke(conn, entity_set, row)
            await audit.entity_written(ctx, conn, entity_set, "Update", row, body, key)
            await webhook_events.entity_written(conn, entity_set.name, "Update", row, ctx.user_id)
        return await get_entity(ctx, entity_set, row[entity_set.key_column])
    values = values_from_body(entity_set, body, creating=False)
    table = entity_set.table
    async with ctx.state.db.write() as conn:
        row = await _existing(ctx, conn, entity_set, key)
        await _require_write(ctx, conn, entity_set, "Edit", row.get("folder_id"))
        if entity_set.before_write is not None:
            await entity_set.before_write(ctx, conn, values, row, body)
        if "last_modification_time" in table.c:
            values["last_modification_time"] = utcnow()
        if "last_modifier_user_id" in table.c:
            values["last_modifier_user_id"] = ctx.user_id
        scoped = {**row, **values}
        await _check_unique(
            conn, entity_set, {k: scoped[k] for k in entity_set.unique + _scope_cols(entity_set)}, row["id"]
        )
        if values:
            try:
                await conn.execute(update(table).where(table.c.id == row["id"]).values(**values))
            except IntegrityError:
                raise conflict(
                    f"The {entity_set.type_name.removesuffix('Dto')} conflicts with an existing one."
                ) from None
        await _revoke(conn, entity_set, row)
        await audit.entity_written(ctx, conn, entity_set, "Update", {**row, **values}, body, key)
        await webhook_events.entity_written(conn, entity_set.name, "Update", {**row, **values}, ctx.user_id)
    return await get_entity(ctx, entity_set, row[entity_set.key_column])


PERMISSION_TABLES = frozenset({"users", "roles", "folders"})


async def _revoke(conn: AsyncConnection, entity_set: EntitySet, row: Mapping[str, Any]) -> None:
    """Notes the access the write ends (``EntitySet.revokes``). Cached principals hold a user's state,
    roles, permissions and folder paths: once a row deciding them changes, every process loads them
    afresh (``domain/revocations.py``, delivered after the commit)."""
    if entity_set.revokes is not None:
        await entity_set.revokes(conn, row)
    elif entity_set.table.name in PERMISSION_TABLES:
        await revocations.note(conn, revocations.EVERYTHING)


def _scope_cols(entity_set: EntitySet) -> tuple[str, ...]:
    if entity_set.scope is Scope.FOLDER:
        return ("folder_id",)
    return ("tenant_id",) if entity_set.scope is Scope.TENANT else ()


async def delete_entity(ctx: RequestContext, entity_set: EntitySet, key: Any) -> None:
    if not entity_set.deletable:
        raise invalid(f"{entity_set.name} cannot be deleted this way.")
    async with ctx.state.db.write() as conn:
        await _delete_row(ctx, conn, entity_set, key)


async def delete_entities(ctx: RequestContext, entity_set: EntitySet, keys: list[Any]) -> None:
    """Several rows deleted as ``DELETE`` would delete each, in one transaction: all or none (the first
    unknown key answers 404, the first refused one 403 or 409, and nothing is deleted)."""
    if not entity_set.deletable:
        raise invalid(f"{entity_set.name} cannot be deleted this way.")
    async with ctx.state.db.write() as conn:
        for key in dict.fromkeys(keys):
            await _delete_row(ctx, conn, entity_set, key)


async def _delete_row(ctx: RequestContext, conn: AsyncConnection, entity_set: EntitySet, key: Any) -> None:
    table = entity_set.table
    row = await _existing(ctx, conn, entity_set, key)
    await _require_write(ctx, conn, entity_set, "Delete", row.get("folder_id"))
    if entity_set.before_delete is not None:
        await entity_set.before_delete(ctx, conn, row)
    await _revoke(conn, entity_set, row)
    if entity_set.soft_delete is not None:
        await entity_set.soft_delete(ctx, conn, row)
    else:
        try:
            await conn.execute(delete(table).where(and_(table.c.id == row["id"])))
        except IntegrityError:
            raise conflict(
                f"The {entity_set.type_name.removesuffix('Dto')} is still in use and cannot be deleted."
            ) from None
    await audit.entity_written(ctx, conn, entity_set, "Delete", row, None, key)
    await webhook_events.entity_written(conn, entity_set.name, "Delete", row, ctx.user_id)
