"""Personal access tokens: a user signed in with its password creates them (shown once), for at most
``PODIUM_PAT_MAX_DAYS`` (365) days; the caller lists and revokes its own, and a holder of Users.Edit
across the tenant (an administrator) lists and revokes everyone's in the tenant.

Tokens of robots, jobs, external applications and personal access tokens themselves cannot create one:
a personal access token belongs to a person (as in Orchestrator), and one made from another token would
outlive the token, the job or the robot it came from.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import JSONResponse, Response

from podium.domain import audit_logs, personal_access_tokens
from podium.errors import bad_request, forbidden, not_found
from podium.http.context import RequestContext, request_context
from podium.odata.audit import actor_of
from podium.odata.registry import Area
from podium.odata.serialize import format_datetime

router = APIRouter(tags=["Users"])
area = Area("PersonalAccessTokens", router)


ADMIN_PERMISSION = "Users.Edit"  # across the tenant: every user's tokens


class NewToken(BaseModel):
    Name: str = Field(min_length=1, max_length=128, pattern="^[^\x00]*$")
    ExpiresInDays: int | None = Field(default=None, ge=1)  # at most PODIUM_PAT_MAX_DAYS, which it defaults to


@router.post(
    "/api/PersonalAccessTokens",
    status_code=201,
    tags=["Users"],
    summary="Creates a personal access token for the caller (shown once)",
)
async def create_token(new: NewToken, request: Request) -> JSONResponse:
    ctx = await request_context(request)
    if ctx.principal.kind != "user":
        raise forbidden("Only a user signed in with its password creates personal access tokens.")
    max_days = ctx.state.settings.pat_max_days
    if new.ExpiresInDays is not None and new.ExpiresInDays > max_days:
        raise bad_request(f"ExpiresInDays must be from 1 to {max_days}.")
    async with ctx.state.db.write() as conn:
        issued = await personal_access_tokens.create_token(
            conn, ctx.tenant_id, ctx.user_id, new.Name, new.ExpiresInDays or max_days
        )
        await _audit(
            ctx, conn, "Create", issued.id, {"Name": new.Name, "ExpiresInDays": new.ExpiresInDays}, new.Name
        )
    return JSONResponse(
        {
            "Id": issued.id,
            "Name": new.Name,
            "Token": issued.secret,
            "ExpiresAt": format_datetime(issued.expires_at),
        },
        status_code=201,
    )


@router.get(
    "/api/PersonalAccessTokens",
    tags=["Users"],
    summary="Lists the caller's personal access tokens (all=true: every user's in the tenant, Users.Edit)",
)
async def list_tokens(request: Request, all_users: bool = Query(False, alias="all")) -> JSONResponse:
    ctx = await request_context(request)
    if all_users:
        ctx.require(ADMIN_PERMISSION)
    async with ctx.state.db.read() as conn:
        rows = await personal_access_tokens.list_tokens(
            conn, ctx.tenant_id, None if all_users else ctx.user_id
        )
    return JSONResponse({"value": [_listed(row) for row in rows]})


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "Id": row["id"],
        "Name": row["name"],
        "UserId": row["user_id"],
        "UserName": row["user_name"],
        "CreationTime": format_datetime(row["creation_time"]),
        "ExpiresAt": format_datetime(row["expires_at"]) if row["expires_at"] else None,
        "IsRevoked": row["revoked"],
    }


async def _audit(
    ctx: RequestContext,
    conn: AsyncConnection,
    action: str,
    token_id: int,
    parameters: dict[str, Any],
    name: str | None = None,
) -> None:
    """The audit entry of a token created or revoked (Users component), in the same transaction."""
    verb = "created" if action == "Create" else "revoked"
    who = actor_of(ctx)
    entry = audit_logs.Entry(
        actor=who,
        component="Users",
        action=action,
        service_name="PersonalAccessTokens",
        method_name="Post" if action == "Create" else "Delete",
        entity_name="personal access token",
        parameters=parameters,
        entity_id=token_id,
        display_name=name,
        text=f"{who.user_type} {who.user_name} {verb} personal access token {name or token_id}",
    )
    await audit_logs.write(conn, entry)


def _owner_scope(ctx: RequestContext) -> int | None:
    """Whose tokens the caller may revoke: its own, or (None) anyone's in the tenant."""
    return None if ctx.principal.has(ADMIN_PERMISSION) else ctx.user_id


@router.delete(
    "/api/PersonalAccessTokens/{token_id}",
    status_code=204,
    tags=["Users"],
    summary="Revokes a token (the caller's own; with Users.Edit, any user's in the tenant)",
)
async def revoke_token(token_id: int, request: Request) -> Response:
    ctx = await request_context(request)
    if not 0 < token_id < 2**63:
        raise not_found("Token does not exist.")
    async with ctx.state.db.write() as conn:
        revoked = await personal_access_tokens.revoke_token(conn, ctx.tenant_id, token_id, _owner_scope(ctx))
        if revoked:
            await _audit(ctx, conn, "Delete", token_id, {"key": token_id})
    if not revoked:
        raise not_found("Token does not exist.")
    return Response(status_code=204)
