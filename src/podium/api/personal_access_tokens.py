"""Personal access tokens: the caller creates (shown once) and revokes its own."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from podium.domain import personal_access_tokens
from podium.errors import not_found
from podium.http.context import request_context
from podium.odata.registry import Area

router = APIRouter(tags=["Users"])
area = Area("PersonalAccessTokens", router)


class NewToken(BaseModel):
    Name: str = Field(min_length=1, max_length=128, pattern="^[^\x00]*$")
    ExpiresInDays: int | None = Field(default=None, ge=1, le=3650)


@router.post(
    "/api/PersonalAccessTokens",
    status_code=201,
    tags=["Users"],
    summary="Creates a personal access token for the caller (shown once)",
)
async def create_token(new: NewToken, request: Request) -> JSONResponse:
    ctx = await request_context(request)
    async with ctx.state.db.write() as conn:
        issued = await personal_access_tokens.create_token(
            conn, ctx.tenant_id, ctx.user_id, new.Name, new.ExpiresInDays
        )
    return JSONResponse(
        {
            "Id": issued.id,
            "Name": new.Name,
            "Token": issued.secret,
            "ExpiresAt": issued.expires_at.isoformat() if issued.expires_at else None,
        },
        status_code=201,
    )


@router.delete(
    "/api/PersonalAccessTokens/{token_id}", status_code=204, tags=["Users"], summary="Revokes a token"
)
async def revoke_token(token_id: int, request: Request) -> Response:
    ctx = await request_context(request)
    if not 0 < token_id < 2**63:
        raise not_found("Token does not exist.")
    async with ctx.state.db.write() as conn:
        revoked = await personal_access_tokens.revoke_token(conn, ctx.user_id, token_id)
    if not revoked:
        raise not_found("Token does not exist.")
    ctx.state.forget_access()
    return Response(status_code=204)
