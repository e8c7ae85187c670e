"""External applications: OAuth2 clients (client credentials) that act with the roles they are given."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

from podium.domain import external_apps
from podium.http.context import request_context
from podium.inputs import INT64_MAX
from podium.odata.registry import Area

router = APIRouter(tags=["External applications"])
area = Area("ExternalApps", router)


RoleId = Annotated[int, Field(gt=0, le=INT64_MAX)]  # an id the database can hold (a larger one was a 500)


class NewExternalApp(BaseModel):
    Name: str = Field(min_length=1, max_length=128)
    RoleIds: list[RoleId] = Field(default_factory=list, description="tenant roles the application acts with")


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
