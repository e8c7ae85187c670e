"""Writing an asset's per-robot (``RobotValues``) and per-user (``UserValues``) values.

A body that names the list replaces the asset's values with it; a value whose password or secret is
left empty keeps the one stored for the same robot/user (reads never return it). Unknown robots,
users or machines, duplicates and values of another type are 400s, raised before anything is written
(the caller's transaction is rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import machines, robots, users
from podium.db.schema_assets import asset_robot_values, asset_user_values
from podium.domain.assets import AssetValueType, parse_value
from podium.domain.crypto import Keyring, keyring_for
from podium.domain.enums import parse_enum
from podium.domain.sealed import robot_value_aad, user_value_aad
from podium.errors import bad_request
from podium.http.context import RequestContext


def _sealer(keyring: Keyring, aad: str) -> Callable[[str], str]:
    return lambda clear: keyring.seal(clear, aad)


def _items(items: Any, name: str) -> list[Mapping[str, Any]]:
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise bad_request(f"{name} must be a list of objects.")
    return items


def _id(item: Mapping[str, Any], name: str, where: str, *, required: bool = True) -> int | None:
    value = item.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{where}{name} must be an integer.")
    return value


def _check_type(item: Mapping[str, Any], value_type: AssetValueType, where: str) -> None:
    given = item.get("ValueType")
    if given is None:
        return
    try:
        same = parse_enum(AssetValueType, given) == value_type
    except ValueError:
        same = False
    if not same:
        raise bad_request(f"{where}ValueType must be the asset's type, {value_type.name}.")


async def _names(
    conn: AsyncConnection, table: Table, tenant_id: int, ids: set[int], what: str
) -> dict[int, str]:
    if not ids:
        return {}
    column = table.c.user_name if table is users else table.c.name
    found = {
        r.id: r.label
        for r in await conn.execute(
            select(table.c.id, column.label("label")).where(
                table.c.id.in_(ids), table.c.tenant_id == tenant_id
            )
        )
    }
    missing = sorted(ids - set(found))
    if missing:
        raise bad_request(f"{what} {missing} do not exist.")
    return found


async def _kept_secrets(
    conn: AsyncConnection, table: Table, asset_id: int, key: tuple[str, ...]
) -> dict[Any, str]:
    rows = await conn.execute(select(table).where(table.c.asset_id == asset_id, table.c.secret.is_not(None)))
    return {tuple(row[k] for k in key): row["secret"] for row in rows.mappings()}


async def write_robot_values(
    ctx: RequestContext,
    conn: AsyncConnection,
    asset_id: int,
    value_type: AssetValueType,
    items: Any,
    given: bool,
) -> None:
    if not given:
        return
    parsed = _items(items, "RobotValues")
    robot_ids = [_id(item, "RobotId", f"RobotValues[{i}].") for i, item in enumerate(parsed)]
    if len(set(robot_ids)) != len(robot_ids):
        raise bad_request("RobotValues names a robot twice.")
    names = await _names(conn, robots, ctx.tenant_id, {r for r in robot_ids if r is not None}, "Robots")
    kept = await _kept_secrets(conn, asset_robot_values, asset_id, ("robot_id",))
    keyring = keyring_for(ctx.state.settings)
    rows = []
    for index, (item, robot_id) in enumerate(zip(parsed, robot_ids, strict=True)):
        assert robot_id is not None
        where = f"RobotValues[{index}]."
        _check_type(item, value_type, where)
        old = kept.get((robot_id,))
        value = parse_value(value_type, item, has_secret=old is not None, where=where)
        aad = robot_value_aad(asset_id, robot_id)
        columns = value.columns(_sealer(keyring, aad), old)
        rows.append(
            {
                "asset_id": asset_id,
                "robot_id": robot_id,
                "robot_name": names[robot_id],
                "value_type": int(value_type),
                **columns,
            }
        )
    await conn.execute(delete(asset_robot_values).where(asset_robot_values.c.asset_id == asset_id))
    if rows:
        await conn.execute(insert(asset_robot_values), rows)


async def write_user_values(
    ctx: RequestContext,
    conn: AsyncConnection,
    asset_id: int,
    value_type: AssetValueType,
    items: Any,
    given: bool,
) -> None:
    if not given:
        return
    parsed = _items(items, "UserValues")
    pairs = [
        (
            _id(item, "UserId", f"UserValues[{i}]."),
            _id(item, "MachineId", f"UserValues[{i}].", required=False),
        )
        for i, item in enumerate(parsed)
    ]
    if len(set(pairs)) != len(pairs):
        raise bad_request("UserValues names a user (and machine) twice.")
    user_names = await _names(conn, users, ctx.tenant_id, {u for u, _ in pairs if u is not None}, "Users")
    machine_names = await _names(
        conn, machines, ctx.tenant_id, {m for _, m in pairs if m is not None}, "Machines"
    )
    kept = await _kept_secrets(conn, asset_user_values, asset_id, ("user_id", "machine_id"))
    keyring = keyring_for(ctx.state.settings)
    rows = []
    for index, (item, (user_id, machine_id)) in enumerate(zip(parsed, pairs, strict=True)):
        assert user_id is not None
        where = f"UserValues[{index}]."
        _check_type(item, value_type, where)
        old = kept.get((user_id, machine_id))
        value = parse_value(value_type, item, has_secret=old is not None, where=where)
        aad = user_value_aad(asset_id, user_id, machine_id)
        columns = value.columns(_sealer(keyring, aad), old)
        rows.append(
            {
                "asset_id": asset_id,
                "user_id": user_id,
                "user_name": user_names[user_id],
                "machine_id": machine_id,
                "machine_name": machine_names.get(machine_id) if machine_id is not None else None,
                "value_type": int(value_type),
                **columns,
            }
        )
    await conn.execute(delete(asset_user_values).where(asset_user_values.c.asset_id == asset_id))
    if rows:
        await conn.execute(insert(asset_user_values), rows)
