"""Asset values: what each ``ValueType`` accepts, the ``Value`` text Orchestrator derives from it, how
values are stored (secrets sealed, never in clear), and writing an asset's per-robot (``RobotValues``)
and per-user (``UserValues``) values.

A body that names ``RobotValues``/``UserValues`` replaces the asset's values with that list; a value
whose password or secret is left empty keeps the one stored for the same robot/user (reads never return
it). Unknown robots, users or machines, duplicates and values of another type are 400s, raised before
anything is written (the caller's transaction is rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import machines, robots, users
from podium.db.schema_assets import asset_robot_values, asset_user_values
from podium.domain.asset_enums import AssetErrorCode, AssetValueType
from podium.domain.crypto import Keyring
from podium.domain.sealed import robot_value_aad, user_value_aad
from podium.errors import PodiumError, bad_request
from podium.inputs import (
    boolean,
    choice,
    entity_id,
    integer,
    json_list,
    json_object,
    optional_id,
    optional_text,
    text,
)

CREDENTIAL_TYPES = frozenset({AssetValueType.Credential, AssetValueType.WindowsCredential})
SEALED_TYPES = CREDENTIAL_TYPES | {AssetValueType.Secret}
STRING_TYPES = frozenset(
    {AssetValueType.Text, AssetValueType.DBConnectionString, AssetValueType.HttpConnectionString}
)
MAX_TEXT = 1_000_000  # "Global and Per Robot text assets support up to 1,000,000 characters"
INT32 = (-(2**31), 2**31 - 1)

Sealer = Callable[[str], str]


@dataclass
class AssetValue:
    """One value of an asset (global, a robot's or a user's), with the secret in clear."""

    value_type: AssetValueType
    string_value: str | None = None
    bool_value: bool = False
    int_value: int = 0
    credential_username: str | None = None
    secret: str | None = None  # the password of a credential or the value of a secret; None: keep
    key_value_list: list[dict[str, str]] | None = None

    @property
    def display(self) -> str | None:
        """Orchestrator's ``Value``: the value as text (a credential shows its user name only)."""
        kind = self.value_type
        if kind in STRING_TYPES:
            return self.string_value
        if kind is AssetValueType.Bool:
            return "True" if self.bool_value else "False"
        if kind is AssetValueType.Integer:
            return str(self.int_value)
        if kind in CREDENTIAL_TYPES:
            return f"username: {self.credential_username}"
        if kind is AssetValueType.KeyValueList:
            return ", ".join(f"{item['Key']}: {item['Value']}" for item in self.key_value_list or [])
        return None  # a secret's value is never shown

    def columns(self, seal: Sealer, kept_secret: str | None) -> dict[str, Any]:
        """Column values; the secret sealed (or the row's current sealed secret when not given)."""
        sealed = seal(self.secret) if self.secret is not None else kept_secret
        return {
            "value": self.display,
            "string_value": self.string_value,
            "bool_value": self.bool_value,
            "int_value": self.int_value,
            "credential_username": self.credential_username,
            "secret": sealed if self.value_type in SEALED_TYPES else None,
            "key_value_list": orjson.dumps(self.key_value_list or []).decode(),
        }


def _text(body: Mapping[str, Any], name: str, where: str, *, required: bool) -> str | None:
    value = optional_text(body.get(name), f"{where}{name}", max_length=MAX_TEXT)
    if value is None and required:
        raise bad_request(f"{where}{name} is required for this asset type.")
    return value


def _bool(body: Mapping[str, Any], where: str) -> bool:
    value, raw = body.get("BoolValue"), body.get("Value")
    if value is None and isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return boolean(value, f"{where}BoolValue")


def _int(body: Mapping[str, Any], where: str) -> int:
    value = body.get("IntValue")
    if value is None:
        value = body.get("Value")
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        value = int(value.strip())
    return integer(value, f"{where}IntValue", low=INT32[0], high=INT32[1])


def _key_value_list(body: Mapping[str, Any], where: str) -> list[dict[str, str]]:
    items = json_list(body.get("KeyValueList"), f"{where}KeyValueList")
    pairs: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        item = json_object(raw, f"{where}KeyValueList[{index}]")
        key = text(item.get("Key"), f"{where}KeyValueList[{index}].Key", max_length=MAX_TEXT)
        value = text(
            item.get("Value"), f"{where}KeyValueList[{index}].Value", max_length=MAX_TEXT, required=False
        )
        if key in seen:
            raise bad_request(f"{where}the KeyValueList key '{key}' appears twice.")
        seen.add(key)
        pairs.append({"Key": key, "Value": value})
    return pairs


def parse_value(
    value_type: AssetValueType, body: Mapping[str, Any], *, has_secret: bool, where: str = ""
) -> AssetValue:
    """The value a body gives for the type; 400 when it does not fit.

    ``has_secret``: the row already holds a password/secret, so an empty one in the body keeps it
    (reads never return it, so clients send the DTO back without it).
    """
    value = AssetValue(value_type)
    if value_type in STRING_TYPES:
        string = _text(body, "StringValue", where, required=False)
        if string is None:
            string = _text(body, "Value", where, required=False)
        if string is None:
            raise bad_request(f"{where}StringValue is required for a {value_type.name} asset.")
        value.string_value = string
    elif value_type is AssetValueType.Bool:
        value.bool_value = _bool(body, where)
    elif value_type is AssetValueType.Integer:
        value.int_value = _int(body, where)
    elif value_type in CREDENTIAL_TYPES:
        user = _text(body, "CredentialUsername", where, required=True)
        if not user:
            raise bad_request(f"{where}CredentialUsername must not be empty.")
        value.credential_username = user
        value.secret = _secret(body, "CredentialPassword", where, has_secret)
    elif value_type is AssetValueType.KeyValueList:
        value.key_value_list = _key_value_list(body, where)
    elif value_type is AssetValueType.Secret:
        value.secret = _secret(body, "SecretValue", where, has_secret)
    return value


def _secret(body: Mapping[str, Any], name: str, where: str, has_secret: bool) -> str | None:
    secret = _text(body, name, where, required=False)
    if secret:
        return secret
    if has_secret:
        return None
    raise PodiumError(
        f"{where}{name} is required for a new credential or secret.",
        status=400,
        code=AssetErrorCode.CREDENTIAL_EMPTY_PASSWORD,
    )


def value_from_row(row: Mapping[str, Any], open_secret: Callable[[str], str] | None) -> dict[str, Any]:
    """The value properties of a DTO from a stored row; the secret opened only with ``open_secret``."""
    kind = AssetValueType(row["value_type"])
    secret = row.get("secret")
    clear = open_secret(secret) if open_secret is not None and secret else None
    key_values = orjson.loads(row["key_value_list"]) if row.get("key_value_list") else []
    return {
        "ValueType": kind.name,
        "Value": row.get("value") or "",
        "StringValue": row.get("string_value") or "",
        "BoolValue": bool(row.get("bool_value")),
        "IntValue": int(row.get("int_value") or 0),
        "CredentialUsername": row.get("credential_username") or "",
        "CredentialPassword": (clear or "") if kind in CREDENTIAL_TYPES else "",
        "SecretValue": (clear or "") if kind is AssetValueType.Secret else None,
        "KeyValueList": key_values,
    }


def _sealer(keyring: Keyring, aad: str) -> Sealer:
    return lambda clear: keyring.seal(clear, aad)


def _items(items: Any, name: str) -> list[Mapping[str, Any]]:
    listed = json_list([] if items is None else items, name)
    return [json_object(item, f"{name}[{index}]") for index, item in enumerate(listed)]


def _check_type(item: Mapping[str, Any], value_type: AssetValueType, where: str) -> None:
    given = item.get("ValueType")
    if given is not None and choice(given, f"{where}ValueType", AssetValueType) != value_type:
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


async def write_listed_values(
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    asset_id: int,
    value_type: AssetValueType,
    body: Mapping[str, Any],
) -> None:
    """Replaces the robots' and the users' values of the asset with the lists the body names (if any)."""
    if "RobotValues" in body:
        await write_robot_values(conn, tenant_id, keyring, asset_id, value_type, body["RobotValues"])
    if "UserValues" in body:
        await write_user_values(conn, tenant_id, keyring, asset_id, value_type, body["UserValues"])


async def write_robot_values(
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    asset_id: int,
    value_type: AssetValueType,
    items: Any,
) -> None:
    parsed = _items(items, "RobotValues")
    robot_ids = [entity_id(item.get("RobotId"), f"RobotValues[{i}].RobotId") for i, item in enumerate(parsed)]
    if len(set(robot_ids)) != len(robot_ids):
        raise bad_request("RobotValues names a robot twice.")
    names = await _names(conn, robots, tenant_id, set(robot_ids), "Robots")
    kept = await _kept_secrets(conn, asset_robot_values, asset_id, ("robot_id",))
    rows = []
    for index, (item, robot_id) in enumerate(zip(parsed, robot_ids, strict=True)):
        where = f"RobotValues[{index}]."
        _check_type(item, value_type, where)
        old = kept.get((robot_id,))
        value = parse_value(value_type, item, has_secret=old is not None, where=where)
        columns = value.columns(_sealer(keyring, robot_value_aad(asset_id, robot_id)), old)
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
    conn: AsyncConnection,
    tenant_id: int,
    keyring: Keyring,
    asset_id: int,
    value_type: AssetValueType,
    items: Any,
) -> None:
    parsed = _items(items, "UserValues")
    pairs = [
        (
            entity_id(item.get("UserId"), f"UserValues[{i}].UserId"),
            optional_id(item.get("MachineId"), f"UserValues[{i}].MachineId"),
        )
        for i, item in enumerate(parsed)
    ]
    if len(set(pairs)) != len(pairs):
        raise bad_request("UserValues names a user (and machine) twice.")
    user_names = await _names(conn, users, tenant_id, {u for u, _ in pairs}, "Users")
    machine_names = await _names(
        conn, machines, tenant_id, {m for _, m in pairs if m is not None}, "Machines"
    )
    kept = await _kept_secrets(conn, asset_user_values, asset_id, ("user_id", "machine_id"))
    rows = []
    for index, (item, (user_id, machine_id)) in enumerate(zip(parsed, pairs, strict=True)):
        where = f"UserValues[{index}]."
        _check_type(item, value_type, where)
        old = kept.get((user_id, machine_id))
        value = parse_value(value_type, item, has_secret=old is not None, where=where)
        columns = value.columns(_sealer(keyring, user_value_aad(asset_id, user_id, machine_id)), old)
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
