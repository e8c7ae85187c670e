"""External applications: OAuth2 clients (client credentials) that act with the roles they are given."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from podium.domain import external_apps
from podium.http.context import request_context
from podium.odata.registry import Area

router = APIRouter(tags=["External applications"])
area = Area("ExternalApps", router)


class NewExternalApp(BaseModel):
    Name: str = Field(min_length=1, max_length=128)
    RoleIds: list[int] = Field(default_factory=list, description="tenant roles the application acts with")


@router.post(
    "/api/ExternalApplications",
    status_code=201,
    summary="Registers an external application; its client secret is shown once",
)
async def create_external_app(new: NewExternalApp, request: Request) -> JSONResponse:
    ctx = await request_context(request)
    ctx.require("Users.Create")
    async with ctx.state.db.write() as conn:
        app = await external_apps.create_external_app(conn, ctx.tenant_id, new.Name, new.RoleIds)
    return JSONResponse(
        {"Name": new.Name, "ClientId": app.client_id, "ClientSecret": app.secret}, status_code=201
    )
