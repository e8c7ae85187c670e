"""Who is calling: the principal behind a token, with the permissions its roles grant."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import token_digest
from podium.auth.tokens import PAT_PREFIX, TokenClaims, verify
from podium.db.schema import access_tokens, folders, jobs, role_permissions, tenants, user_roles, users
from podium.db.types import utcnow


@dataclass
class Principal:
    user_id: int
    user_name: str
    user_key: str
    tenant_id: int
    tenant_name: str
    kind: str  # "user" | "app" | "robot" | "job" | "pat"
    tenant_permissions: frozenset[str]
    # keyed by the folder's fully qualified name: a grant holds in that folder and every subfolder
    folder_permissions: dict[str, frozenset[str]] = field(default_factory=dict)
    robot_id: int | None = None
    restricted_folder_id: int | None = None  # job tokens reach one folder only
    job_id: int | None = None
    token_expires_at: int | None = None  # a JWT's expiry, checked again whenever the principal is reused

    def has(self, permission: str, folder_path: str | None = None) -> bool:
        """Whether a tenant role grants it, or, with a folder, a role in that folder or above it."""
        if permission in self.tenant_permissions:
            return True
        if folder_path is None:
            return False
        for granted_path, names in self.folder_permissions.items():
            if permission in names and (
                folder_path == granted_path or folder_path.startswith(granted_path + "/")
            ):
                return True
        return False

    def folder_grants(self, permission: str) -> list[str]:
        """Folder paths (and so their subfolders) where a folder role grants the permission."""
        return [path for path, names in self.folder_permissions.items() if permission in names]


async def load_principal(conn: AsyncConnection, user_id: int, tenant_id: int, kind: str) -> Principal | None:
    """The active user of an active tenant, with the permissions of its roles; None otherwise."""
    row = (
        await conn.execute(
            select(users.c.id, users.c.user_name, users.c.key, tenants.c.name)
            .join(tenants, tenants.c.id == users.c.tenant_id)
            .where(
                users.c.id == user_id,
                users.c.tenant_id == tenant_id,
                users.c.is_active.is_(True),
                tenants.c.is_active.is_(True),
            )
        )
    ).first()
    if row is None:
        return None
    grants = await conn.execute(
        select(folders.c.fully_qualified_name, role_permissions.c.name)
        .join(role_permissions, role_permissions.c.role_id == user_roles.c.role_id)
        .outerjoin(folders, folders.c.id == user_roles.c.folder_id)
        .where(user_roles.c.user_id == user_id, role_permissions.c.is_granted.is_(True))
    )
    tenant_perms: set[str] = set()
    folder_perms: dict[str, set[str]] = {}
    for folder_name, name in grants:
        if folder_name is None:
            tenant_perms.add(name)
        else:
            folder_perms.setdefault(folder_name, set()).add(name)
    return Principal(
        user_id=row.id,
        user_name=row.user_name,
        user_key=row.key,
        tenant_id=tenant_id,
        tenant_name=row.name,
        kind=kind,
        tenant_permissions=frozenset(tenant_perms),
        folder_permissions={k: frozenset(v) for k, v in folder_perms.items()},
    )


async def principal_for_token(conn: AsyncConnection, signing_key: str, token: str) -> Principal | None:
    if token.startswith(PAT_PREFIX):
        return await _principal_for_pat(conn, token)
    claims = verify(signing_key, token)
    if claims is None:
        return None
    if claims.kind == "job" and claims.job_id is not None and not await _job_unfinished(conn, claims.job_id):
        return None  # a job's token expires with its job
    principal = await load_principal(conn, claims.user_id, claims.tenant_id, claims.kind)
    if principal is not None:
        _apply_restrictions(principal, claims)
    return principal


async def _job_unfinished(conn: AsyncConnection, job_id: int) -> bool:
    state = (await conn.execute(select(jobs.c.state).where(jobs.c.id == job_id))).scalar()
    return state is not None and state not in (4, 5, 6)  # not Faulted, Successful, Stopped


def _apply_restrictions(principal: Principal, claims: TokenClaims) -> None:
    principal.token_expires_at = claims.expires_at
    principal.robot_id = claims.robot_id
    principal.job_id = claims.job_id
    principal.restricted_folder_id = claims.folder_id


async def _principal_for_pat(conn: AsyncConnection, token: str) -> Principal | None:
    now = utcnow()
    row = (
        await conn.execute(
            select(access_tokens.c.user_id, access_tokens.c.tenant_id).where(
                and_(
                    access_tokens.c.token_hash == token_digest(token),
                    access_tokens.c.revoked.is_(False),
                    (access_tokens.c.expires_at.is_(None)) | (access_tokens.c.expires_at > now),
                )
            )
        )
    ).first()
    if row is None or row.user_id is None:
        return None
    return await load_principal(conn, row.user_id, row.tenant_id, "pat")


class PrincipalCache:
    """Remembers principals for a few seconds so a burst of requests costs one lookup.

    The token is still verified on every request (signature and expiry for JWTs); the cache only
    saves the user and role queries. A deactivated user or a revoked token is refused within ``ttl``.
    """

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(token, None)
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + self.ttl, principal)

    def clear(self) -> None:
        self._entries.clear()
