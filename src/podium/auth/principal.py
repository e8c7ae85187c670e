"""Who is calling: the principal behind a token, with the permissions its roles grant.

A robot's token and its jobs' tokens hold while the robot exists and is enabled; a job's token while its
job is the robot's and has not ended. The principal of a token is cached for a few seconds, and
forgotten at once (in every process) when a revocation names it (``domain/revocations.py``).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.auth.passwords import token_digest
from podium.auth.tokens import HOST_KIND, PAT_PREFIX, TokenClaims, verify
from podium.db.schema import (
    access_tokens,
    folders,
    jobs,
    robots,
    role_permissions,
    tenants,
    user_roles,
    users,
)
from podium.db.types import utcnow
from podium.domain import host, revocations
from podium.domain.job_states import FINAL
from podium.domain.revocations import Revocation


@dataclass
class Principal:
    user_id: int
    user_name: str
    user_key: str
    tenant_id: int
    tenant_name: str
    kind: str  # "user" | "app" | "robot" | "job" | "pat" | "host" (a host user: tenant id 0)
    tenant_permissions: frozenset[str]
    # keyed by the folder's fully qualified name: a grant holds in that folder and every subfolder
    folder_permissions: dict[str, frozenset[str]] = field(default_factory=dict)
    robot_id: int | None = None
    restricted_folder_id: int | None = None  # job tokens reach one folder only
    job_id: int | None = None
    token_expires_at: int | None = None  # a JWT's expiry, checked again whenever the principal is reused
    token_id: int | None = None  # a personal access token's row

    def revoked_by(self) -> tuple[Revocation, ...]:
        """The revocations that end this principal's token (besides EVERYTHING)."""
        named = []
        if self.token_id is not None:
            named.append(revocations.pat(self.token_id))
        if self.robot_id is not None:
            named.append(revocations.robot(self.robot_id))
        if self.job_id is not None:
            named.append(revocations.job(self.job_id))
        return tuple(named)

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
    if not await _token_holds(conn, claims):
        return None
    if claims.kind == HOST_KIND:
        return await _host_principal(conn, claims)
    principal = await load_principal(conn, claims.user_id, claims.tenant_id, claims.kind)
    if principal is not None:
        _apply_restrictions(principal, claims)
    return principal


async def _host_principal(conn: AsyncConnection, claims: TokenClaims) -> Principal | None:
    """A host user's principal: tenant 0 (``Host``), the host permissions (``Tenants.*``) only."""
    user = await host.load_host_user(conn, claims.user_id)
    if user is None:
        return None
    principal = Principal(
        user_id=user.id,
        user_name=user.user_name,
        user_key=user.key,
        tenant_id=0,
        tenant_name=host.HOST_TENANCY,
        kind=HOST_KIND,
        tenant_permissions=host.HOST_PERMISSIONS,
    )
    _apply_restrictions(principal, claims)
    return principal


async def _token_holds(conn: AsyncConnection, claims: TokenClaims) -> bool:
    """What a token needs besides its signature: a job's token, its job unfinished; a robot's token (and
    a job's), the robot able to act. Other tokens: nothing here (their user is loaded next)."""
    if claims.kind == "job" and claims.job_id is not None:
        return await job_token_holds(conn, claims)
    if claims.robot_id is not None:
        return await robot_may_act(conn, claims.tenant_id, claims.robot_id)
    return True


async def job_token_holds(conn: AsyncConnection, claims: TokenClaims) -> bool:
    """A job's token expires with its job: the job has not ended and is still its robot's, which exists
    and is enabled."""
    query = select(jobs.c.id).where(
        jobs.c.id == claims.job_id,
        jobs.c.tenant_id == claims.tenant_id,
        jobs.c.state.not_in([int(state) for state in FINAL]),
    )
    if claims.robot_id is not None:
        query = query.join(robots, robots.c.id == jobs.c.robot_id).where(
            robots.c.id == claims.robot_id, robots.c.enabled.is_(True)
        )
    return (await conn.execute(query)).first() is not None


async def robot_may_act(conn: AsyncConnection, tenant_id: int, robot_id: int) -> bool:
    """Whether the tenant's robot exists and is enabled, in an active tenant: what its tokens need,
    besides their signature."""
    query = (
        select(robots.c.id)
        .join(tenants, tenants.c.id == robots.c.tenant_id)
        .where(
            robots.c.id == robot_id,
            robots.c.tenant_id == tenant_id,
            robots.c.enabled.is_(True),
            tenants.c.is_active.is_(True),
        )
    )
    return (await conn.execute(query)).first() is not None


def _apply_restrictions(principal: Principal, claims: TokenClaims) -> None:
    principal.token_expires_at = claims.expires_at
    principal.robot_id = claims.robot_id
    principal.job_id = claims.job_id
    principal.restricted_folder_id = claims.folder_id


async def _principal_for_pat(conn: AsyncConnection, token: str) -> Principal | None:
    now = utcnow()
    row = (
        await conn.execute(
            select(access_tokens.c.id, access_tokens.c.user_id, access_tokens.c.tenant_id).where(
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
    principal = await load_principal(conn, row.user_id, row.tenant_id, "pat")
    if principal is not None:
        principal.token_id = row.id
    return principal


class PrincipalCache:
    """Remembers principals for a few seconds so a burst of requests costs one lookup.

    The token is still verified on every request (signature and expiry for JWTs); the cache only
    saves the user and role queries. A revocation (``domain/revocations.py``) forgets the principals it
    names at once, in every process that hears it; otherwise a deactivated user or a changed role is
    seen within ``ttl``. A principal loaded while a revocation naming it arrived is not kept (it may
    have been read before the revoking transaction committed): :meth:`put` takes the
    :attr:`generation` read before the load, and the last revocations are remembered to tell.
    """

    RECENT = 1024  # revocations remembered for loads in flight (older loads are not kept)

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.generation = 0  # counts revocations
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._named: dict[Revocation, set[str]] = {}  # revocation → the cached tokens it ends
        self._recent: deque[tuple[int, Revocation]] = deque(maxlen=self.RECENT)  # (generation, what)

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._drop(token)
            return None
        return entry[1]

    def put(self, token: str, principal: Principal, generation: int | None = None) -> None:
        """Caches the principal of ``token``, unless a revocation naming it came after ``generation``."""
        if generation is not None and self._revoked_since(generation, principal):
            return
        if len(self._entries) >= self.max_entries:
            self.clear()
        self._drop(token)
        self._entries[token] = (time.monotonic() + self.ttl, principal)
        for revocation in principal.revoked_by():
            self._named.setdefault(revocation, set()).add(token)

    def forget(self, revocation: Revocation) -> None:
        """Forgets the principals whose token the revocation ends (all of them for EVERYTHING)."""
        self.generation += 1
        self._recent.append((self.generation, revocation))
        if revocation.subject is revocations.Subject.EVERYTHING:
            self._entries.clear()
            self._named.clear()
            return
        for token in self._named.pop(revocation, ()):
            self._drop(token)

    def _drop(self, token: str) -> None:
        entry = self._entries.pop(token, None)
        if entry is None:
            return
        for revocation in entry[1].revoked_by():
            tokens = self._named.get(revocation)
            if tokens is not None:
                tokens.discard(token)
                if not tokens:
                    del self._named[revocation]

    def clear(self) -> None:
        self.generation += 1
        self._recent.append((self.generation, revocations.EVERYTHING))
        self._entries.clear()
        self._named.clear()

    def _revoked_since(self, generation: int, principal: Principal) -> bool:
        if generation == self.generation:
            return False
        if not self._recent or self._recent[0][0] > generation + 1:
            return True  # more revocations than remembered came meanwhile
        named = principal.revoked_by()
        for number, revocation in reversed(self._recent):
            if number <= generation:
                return False
            if revocation.subject is revocations.Subject.EVERYTHING or revocation in named:
                return True
        return False
