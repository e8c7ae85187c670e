"""External applications: OAuth2 clients (client credentials) that act with the roles they are given."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from starlette.responses import JSONResponse

from podium.auth.passwords import hash_password, new_secret
from podium.db.schema import external_apps, roles, user_roles
from podium.db.types import utcnow
from podium.domain.enums import UserType
from podium.domain.tenancy import create_user
from podium.errors import bad_request
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
    client_id = str(uuid.uuid4())
    secret = new_secret(32)
    async with ctx.state.db.write() as conn:
        found = {
            r.id
            for r in await conn.execute(
                select(roles.c.id).where(roles.c.id.in_(new.RoleIds), roles.c.tenant_id == ctx.tenant_id)
            )
        }
        if found != set(new.RoleIds):
            raise bad_request("A role does not exist.")
        user_id = await create_user(
            conn,
            ctx.tenant_id,
            f"app:{client_id}",
            None,
            user_type=int(UserType.DirectoryExternalApplication),
        )
        for role_id in found:
            await conn.execute(insert(user_roles).values(user_id=user_id, role_id=role_id, folder_id=None))
        await conn.execute(
            insert(external_apps).values(
                tenant_id=ctx.tenant_id,
                name=new.Name,
                client_id=client_id,
                secret_hash=hash_password(secret),
                user_id=user_id,
                creation_time=utcnow(),
            )
        )
    return JSONResponse({"Name": new.Name, "ClientId": client_id, "ClientSecret": secret}, status_code=201)
