"""The request context: who calls, in which tenant and folder, and what they may do."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request

from podium.auth.principal import Principal, principal_for_token, robot_may_act
from podium.auth.tokens import HOST_KIND, PAT_PREFIX, TokenClaims, verify
from podium.db.schema import folders
from podium.domain.folders import below
from podium.errors import ErrorCode, PodiumError, forbidden, unauthorized
from podium.http.folders_header import FolderRef, folder_by_header, folder_error, selected_header
from podium.http.state import AppState
from podium.inputs import INT64_MAX, is_integer


@dataclass
class RequestContext:
    state: AppState
    principal: Principal
    folder: FolderRef | None
    trace_id: str
    base_url: str  # scheme://host[/org/tenant/orchestrator_]

    @property
    def tenant_id(self) -> int:
        return self.principal.tenant_id

    @property
    def user_id(self) -> int:
        return self.principal.user_id

    @property
    def odata_base(self) -> str:
        return self.base_url + "/odata"

    def require(self, permission: str, folder_path: str | None = None) -> None:
        """403 unless the caller holds the permission (in the folder, when one is given)."""
        if not self.principal.has(permission, folder_path):
            raise forbidden(f"You are not authorized! (missing permission {permission})")

    def require_folder(self) -> FolderRef:
        if self.folder is None:
            raise PodiumError(
                "An organization unit is required for this action.",
                status=400,
                code=ErrorCode.FOLDER_REQUIRED,
            )
        return self.folder

    async def folder_by_id(self, conn: AsyncConnection, folder_id: int) -> FolderRef:
        # an id no folder can have (past Int64: the database driver overflowed, a 500) names no folder
        if not is_integer(folder_id) or not 0 < folder_id <= INT64_MAX:
            raise folder_error()
        row = (
            await conn.execute(
                select(folders.c.id, folders.c.key, folders.c.fully_qualified_name).where(
                    folders.c.id == folder_id, folders.c.tenant_id == self.tenant_id
                )
            )
        ).first()
        if row is None:
            raise folder_error()
        return FolderRef(row.id, row.key, row.fully_qualified_name)

    async def readable_folder_ids(self, conn: AsyncConnection, permission: str) -> list[int] | None:
        """Folders whose rows the caller may read with ``permission``: None means every folder of the
        tenant; with a folder header, just that folder (403 without the permission there)."""
        restricted = self.principal.restricted_folder_id
        if self.folder is not None:
            self.require(permission, self.folder.fully_qualified_name)
            if restricted is not None and self.folder.id != restricted:
                raise folder_error()
            return [self.folder.id]
        if restricted is not None:
            return [restricted] if self._may_in(await self.folder_by_id(conn, restricted), permission) else []
        if permission in self.principal.tenant_permissions:
            return None
        grants = self.principal.folder_grants(permission)
        if not grants:
            raise forbidden(f"You are not authorized! (missing permission {permission})")
        conditions = []
        for path in grants:
            conditions.append(folders.c.fully_qualified_name == path)
            conditions.append(below(path))
        rows = await conn.execute(
            select(folders.c.id).where(folders.c.tenant_id == self.tenant_id, or_(*conditions))
        )
        return [row.id for row in rows]

    def _may_in(self, folder: FolderRef, permission: str) -> bool:
        return self.principal.has(permission, folder.fully_qualified_name)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()


async def _principal(request: Request, state: AppState, conn: AsyncConnection | None) -> Principal | None:
    token = _bearer(request)
    cached = state.principals.get(token)
    if cached is not None:
        # this exact token string was verified when it was cached; its expiry is checked every time
        expires = cached.token_expires_at
        return cached if expires is None or expires > time.time() else None
    if not token.startswith(PAT_PREFIX) and verify(state.signing_key, token) is None:
        return None
    generation = state.principals.generation  # a revocation during the load: not cached
    if conn is None:
        async with state.db.read() as own:
            principal = await principal_for_token(own, state.signing_key, token)
    else:
        principal = await principal_for_token(conn, state.signing_key, token)
    if principal is not None:
        state.principals.put(token, principal, generation)
    return principal


async def robot_claims(request: Request) -> TokenClaims | None:
    """The claims of the call's robot token while its robot may act (exists, enabled); None for any
    other call. The signature and the robot are checked once per token string, and the robot again
    after a revocation names it (``auth/verified_tokens.py``): no database round trip per call."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    state: AppState = request.app.state.podium

    async def admit(claims: TokenClaims) -> bool:
        if claims.kind != "robot" or claims.robot_id is None:
            return False
        async with state.db.read() as conn:
            return await robot_may_act(conn, claims.tenant_id, claims.robot_id)

    return await state.robot_tokens.verify(state.signing_key, token, admit)


def base_url(request: Request) -> str:
    """Where clients reach this call's service root: ``PODIUM_PUBLIC_URL`` when set, else the request's
    own scheme and (validated, see ``edge.valid_host``) Host, plus any cloud-style prefix."""
    prefix = request.scope.get("podium.prefix") or ""
    public = request.scope.get("podium.public_url")
    if public:
        return f"{public}{prefix}"
    return f"{_origin(request)}{prefix}"


_ORIGINS: dict[tuple[Any, ...], str] = {}
MAX_ORIGINS = 256


def _origin(request: Request) -> str:
    """``scheme://netloc`` of the request's URL, which depends only on the scheme, the Host header and
    the server address: built by Starlette once for each (parsing the URL cost every request ~5 µs)."""
    scope = request.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")  # a list from some servers (Starlette's TestClient)
    key = (scope.get("scheme", "http"), host, tuple(server) if server is not None else None)
    origin = _ORIGINS.get(key)
    if origin is None:
        if len(_ORIGINS) >= MAX_ORIGINS:  # Host is the client's: the cache stays small whatever it sends
            _ORIGINS.clear()
        url = request.url
        origin = _ORIGINS[key] = f"{url.scheme}://{url.netloc}"
    return origin


HOST_ONLY = "A host user can only manage tenants (/odata/Tenants); sign in to a tenant for its data."


async def request_context(request: Request, *, host: bool = False) -> RequestContext:
    """Authenticates the call and resolves its folder; 401 without a valid token. A host user's token
    (``domain/host.py``) is refused (403) unless ``host``: the caller serves host operations only."""
    state: AppState = request.app.state.podium
    principal = await _principal(request, state, None)
    if principal is None:
        raise unauthorized()
    if principal.kind == HOST_KIND and not host:
        raise forbidden(HOST_ONLY)
    url_tenant = request.scope.get("podium.tenant_name")
    if url_tenant is not None and url_tenant.lower() != principal.tenant_name.lower():
        raise unauthorized("You are not authenticated! (the token belongs to another tenant)")
    folder = None
    header = selected_header(request.headers)
    if header is not None:
        folder = state.folders.get(principal.tenant_id, header)
        if folder is None:
            async with state.db.read() as conn:
                folder = await folder_by_header(conn, header, principal.tenant_id)
            state.folders.put(principal.tenant_id, header, folder)
    return RequestContext(
        state=state,
        principal=principal,
        folder=folder,
        trace_id=request.scope.get("podium.trace_id", ""),
        base_url=base_url(request),
    )
