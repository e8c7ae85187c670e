"""The directory Podium has: its local users. Orchestrator's DirectoryService searches Active Directory
or Azure AD; Podium has neither, so its one domain is the tenant's local users (``LOCAL``), searched by
prefix as Orchestrator searches a directory.

A local user of type ``DirectoryGroup`` is a group (type ``Group`` in a DirectoryObjectDto); robots'
users and external applications are not directory objects. Local users belong to no directory group,
so no permission comes to them through one (``GetDirectoryPermissions`` answers an empty list for them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import users
from podium.domain.enums import UserType
from podium.errors import bad_request, not_found

LOCAL = "local"  # the one domain, and the source of every directory object
SEARCH_LIMIT = 50  # directory objects a search answers at most
USER, GROUP = int(UserType.User), int(UserType.DirectoryGroup)
SEARCH_CONTEXTS = {"all": (USER, GROUP), "users": (USER,), "groups": (GROUP,)}
_CONTEXT_NUMBERS = {"0": "all", "1": "users", "2": "groups"}


def domains() -> list[dict[str, Any]]:
    """DomainDto list: the local domain, the default."""
    return [{"name": LOCAL, "isDefault": True}]


def check_domain(domain: str | None) -> None:
    if domain is not None and domain.strip() and domain.strip().lower() != LOCAL:
        raise bad_request(f"Unknown domain {domain!r}: Podium has only local users (domain {LOCAL!r}).")


def search_types(context: str | None) -> tuple[int, ...]:
    """The user types a searchContext (All, Users, Groups, or 0/1/2; default All) looks for; 400 else."""
    name = (context or "all").strip().lower()
    name = _CONTEXT_NUMBERS.get(name, name)
    if name not in SEARCH_CONTEXTS:
        raise bad_request(f"Unknown searchContext {context!r} (All, Users or Groups).")
    return SEARCH_CONTEXTS[name]


def _display(row: Any) -> str:
    full = " ".join(part for part in (row.name, row.surname) if part)
    return full or str(row.user_name)


async def search(
    conn: AsyncConnection, tenant_id: int, prefix: str, types: tuple[int, ...]
) -> list[dict[str, Any]]:
    """DirectoryObjectDto of the tenant's active users and groups whose user name, name, surname or
    e-mail address starts with ``prefix`` (any case), by user name, at most SEARCH_LIMIT."""
    start = prefix.lower()
    matches = [
        func.lower(column).startswith(start, autoescape=True)
        for column in (users.c.user_name, users.c.name, users.c.surname, users.c.email_address)
    ]
    rows = await conn.execute(
        select(users.c.key, users.c.user_name, users.c.name, users.c.surname, users.c.type)
        .where(
            users.c.tenant_id == tenant_id,
            users.c.type.in_(types),
            users.c.is_active.is_(True),
            or_(*matches),
        )
        .order_by(users.c.user_name)
        .limit(SEARCH_LIMIT)
    )
    return [
        {
            "type": "Group" if row.type == GROUP else "User",
            "source": LOCAL,
            "domain": LOCAL,
            "identifier": row.key,
            "identityName": row.user_name,
            "displayName": _display(row),
        }
        for row in rows
    ]


async def directory_permissions(
    conn: AsyncConnection, tenant_id: int, user_name: str
) -> list[dict[str, Any]]:
    """DirectoryPermissionDto list of a user: the directory groups it gets roles through — none for a
    local user; 404 for no such user."""
    found = await conn.execute(
        select(users.c.id).where(
            users.c.tenant_id == tenant_id, func.lower(users.c.user_name) == user_name.lower()
        )
    )
    if found.first() is None:
        raise not_found(f"There is no user named {user_name!r}.")
    return []
