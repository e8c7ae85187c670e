"""Who is assigned to a folder and with which roles, read from either side: a folder's users (with the
roles each holds there, assigned or inherited from a folder above), a user's folders (with its tenant
roles), and a folder's user ids; adding and removing users of a folder; finding the local user a
directory assignment names.

A user is assigned to a folder by a ``folder_users`` row; its roles there are ``user_roles`` rows of that
folder. Assignments hold in the subfolders too (``auth/principal.py``), so a folder's users *inherited*
are those assigned to a folder above it. Tenant roles are not folder assignments: they are answered as
the user's TenantRoles, and a tenant-wide administrator is not listed among a folder's users unless
assigned there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folder_users, folders, role_permissions, roles, user_roles, users
from podium.domain import enums
from podium.domain.folders import assign_users, remove_user
from podium.errors import bad_request, not_found

LOCAL_DOMAINS = frozenset({"", "podium", "."})  # a directory assignment's Domain naming Podium's own users


def simple_folder(row: Mapping[str, Any]) -> dict[str, Any]:
    """SimpleFolderDto."""
    return {
        "DisplayName": row["display_name"],
        "FullyQualifiedName": row["fully_qualified_name"],
        "Id": row["id"],
    }


def _role_type(value: int) -> str:
    return str(enums.RoleType(value).name)


def _user_entity(row: Mapping[str, Any], assigned_to: list[int], inherited: bool) -> dict[str, Any]:
    """UserEntityDto (SimpleUserEntityDto is the same without FullName and AuthenticationSource)."""
    full_name = " ".join(part for part in (row["name"], row["surname"]) if part) or row["user_name"]
    robot = row["type"] == int(enums.UserType.Robot)
    return {
        "FullName": full_name,
        "AuthenticationSource": "Podium",
        "UserName": row["user_name"],
        "IsInherited": inherited,
        "AssignedToFolderIds": assigned_to,
        "MayHaveAttended": False,
        "MayHaveUnattended": robot,
        "Type": enums.UserType(row["type"]).name,
        "Source": "Orchestrator",
        "Id": row["id"],
    }


def simple_user(row: Mapping[str, Any]) -> dict[str, Any]:
    entity = _user_entity(row, [], False)
    del entity["FullName"], entity["AuthenticationSource"]
    return entity


async def _chain(conn: AsyncConnection, tenant_id: int, path: str) -> dict[int, dict[str, Any]]:
    """The folder at ``path`` and the folders above it, by id."""
    parts = path.split("/")
    names = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    query = select(folders).where(folders.c.tenant_id == tenant_id, folders.c.fully_qualified_name.in_(names))
    return {row["id"]: dict(row) for row in (await conn.execute(query)).mappings()}


async def _alert_viewers(conn: AsyncConnection, role_ids: set[int]) -> set[int]:
    """Which of the roles grant Alerts.View."""
    if not role_ids:
        return set()
    query = select(role_permissions.c.role_id).where(
        role_permissions.c.role_id.in_(sorted(role_ids)),
        role_permissions.c.name == "Alerts.View",
        role_permissions.c.is_granted.is_(True),
    )
    return {int(row.role_id) for row in await conn.execute(query)}


async def users_of_folder(
    conn: AsyncConnection, tenant_id: int, folder: Mapping[str, Any], include_inherited: bool
) -> list[dict[str, Any]]:
    """UserRolesDto of each user assigned to the folder (and, with ``include_inherited``, to a folder above
    it), by user name: its roles there, ``Origin`` Assigned in the folder itself, else Inherited with the
    folder above they come from; ``HasAlertsEnabled`` when one of them grants Alerts.View."""
    chain = await _chain(conn, tenant_id, folder["fully_qualified_name"])
    ids = sorted(chain) if include_inherited else [folder["id"]]
    members = await conn.execute(
        select(folder_users.c.folder_id, users)
        .join(users, users.c.id == folder_users.c.user_id)
        .where(folder_users.c.folder_id.in_(ids), users.c.tenant_id == tenant_id)
        .order_by(users.c.user_name, folder_users.c.folder_id)
    )
    people: dict[int, dict[str, Any]] = {}
    assigned: dict[int, list[int]] = {}
    for row in members.mappings():
        people.setdefault(row["id"], dict(row))
        assigned.setdefault(row["id"], []).append(int(row["folder_id"]))
    granted = await conn.execute(
        select(user_roles.c.user_id, user_roles.c.folder_id, roles.c.id, roles.c.name, roles.c.type)
        .join(roles, roles.c.id == user_roles.c.role_id)
        .where(user_roles.c.folder_id.in_(ids), user_roles.c.user_id.in_(sorted(people) or [0]))
        .order_by(roles.c.name, user_roles.c.folder_id)
    )
    held: dict[int, list[dict[str, Any]]] = {}
    for row in granted.mappings():
        here = row["folder_id"] == folder["id"]
        held.setdefault(row["user_id"], []).append(
            {
                "Origin": "Assigned" if here else "Inherited",
                "RoleType": _role_type(row["type"]),
                "InheritedFromFolder": None if here else simple_folder(chain[row["folder_id"]]),
                "Name": row["name"],
                "Id": row["id"],
            }
        )
    alerting = await _alert_viewers(conn, {r["Id"] for rs in held.values() for r in rs})
    return [
        {
            "UserEntity": _user_entity(row, assigned[user_id], folder["id"] not in assigned[user_id]),
            "Roles": held.get(user_id, []),
            "HasAlertsEnabled": any(r["Id"] in alerting for r in held.get(user_id, [])),
            "Id": user_id,
        }
        for user_id, row in people.items()
    ]


async def user_named(conn: AsyncConnection, tenant_id: int, user_name: str) -> dict[str, Any]:
    """The tenant's user called ``user_name`` (exactly, as sign-in matches it); 404 otherwise."""
    query = select(users).where(users.c.tenant_id == tenant_id, users.c.user_name == user_name)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise not_found(f"User '{user_name}' does not exist.")
    return dict(row)


async def role_assignments(
    conn: AsyncConnection,
    tenant_id: int,
    user: Mapping[str, Any],
    search: str | None,
    skip: int,
    take: int,
) -> dict[str, Any]:
    """UserRoleAssignmentsDto of the user: its tenant roles, and a page (``skip``/``take``, in path order,
    ``search`` in the folder's name) of the folders it is assigned to with its roles in each."""
    me = simple_user(user)
    tenant_roles = await conn.execute(
        select(roles.c.id, roles.c.name)
        .join(user_roles, user_roles.c.role_id == roles.c.id)
        .where(user_roles.c.user_id == user["id"], user_roles.c.folder_id.is_(None))
        .order_by(roles.c.name)
    )
    conditions: list[ColumnElement[bool]] = [
        folder_users.c.user_id == user["id"],
        folders.c.tenant_id == tenant_id,
    ]
    if search:
        conditions.append(folders.c.display_name.contains(search, autoescape=True))
    joined = folders.join(folder_users, folder_users.c.folder_id == folders.c.id)
    count = (await conn.execute(select(func.count()).select_from(joined).where(*conditions))).scalar_one()
    page = [
        dict(row)
        for row in (
            await conn.execute(
                select(folders)
                .select_from(joined)
                .where(*conditions)
                .order_by(folders.c.fully_qualified_name)
                .offset(skip)
                .limit(take)
            )
        ).mappings()
    ]
    per_folder: dict[int, list[dict[str, Any]]] = {}
    if page:
        rows = await conn.execute(
            select(user_roles.c.folder_id, roles.c.id, roles.c.name)
            .join(roles, roles.c.id == user_roles.c.role_id)
            .where(user_roles.c.user_id == user["id"], user_roles.c.folder_id.in_([f["id"] for f in page]))
            .order_by(roles.c.name)
        )
        for row in rows.mappings():
            role = {"Name": row["name"], "Users": [me], "Id": row["id"]}
            per_folder.setdefault(row["folder_id"], []).append(role)
    return {
        "TenantRoles": [{"Name": r.name, "Users": [me], "Id": r.id} for r in tenant_roles],
        "PageItems": [{"Folder": simple_folder(f), "Roles": per_folder.get(f["id"], [])} for f in page],
        "Count": int(count),
        "Id": user["id"],
    }


def in_folder(folder_id: int) -> ColumnElement[bool]:
    """Users assigned to the folder."""
    return users.c.id.in_(select(folder_users.c.user_id).where(folder_users.c.folder_id == folder_id))


async def user_ids_of_folder(conn: AsyncConnection, folder_id: int) -> list[int]:
    query = select(folder_users.c.user_id).where(folder_users.c.folder_id == folder_id)
    return sorted(int(row.user_id) for row in await conn.execute(query))


async def set_folder_users(
    conn: AsyncConnection, folder_id: int, added: list[int], removed: list[int]
) -> None:
    """Adds ``added`` to the folder (without roles; those already there keep theirs) and removes
    ``removed`` with their roles there. One user in both lists is a 400 (before anything is written)."""
    if set(added) & set(removed):
        raise bad_request("A user cannot be both added to and removed from the folder.")
    await assign_users(conn, folder_id, added, [])
    for user_id in removed:
        await remove_user(conn, folder_id, user_id)


async def local_user(
    conn: AsyncConnection, tenant_id: int, domain: str | None, user_name: str, user_type: str | None
) -> int:
    """The id of the local user a directory assignment names. Podium has no directory: the domain must
    be empty (or ``Podium``), the type a user or robot (no groups), the name an existing user's; else 400."""
    if (domain or "").strip().lower() not in LOCAL_DOMAINS:
        raise bad_request(
            f"Podium has local users only: the domain '{domain}' is unknown (leave Domain empty)."
        )
    if user_type not in (None, "User", "Robot", "DirectoryUser", "DirectoryRobot"):
        raise bad_request(
            f"Podium has no directory groups or applications: UserType '{user_type}' is refused."
        )
    query = select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.user_name == user_name)
    user_id = (await conn.execute(query)).scalar_one_or_none()
    if user_id is None:
        raise bad_request(f"There is no local user '{user_name}': create it first (POST /odata/Users).")
    return int(user_id)
