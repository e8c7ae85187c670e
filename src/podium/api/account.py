"""Getting a token: Orchestrator's ``/api/Account/Authenticate`` and the OAuth2 token endpoint."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import and_, func, select, update
from starlette.responses import JSONResponse

from podium.auth.passwords import verify_password
from podium.auth.tokens import TokenClaims, issue
from podium.db.schema import external_apps, machines, robots, tenants, users
from podium.db.types import utcnow
from podium.errors import ErrorCode, PodiumError
from podium.http.state import AppState
from podium.odata.registry import Area

router = APIRouter(tags=["Account"])
area = Area("Account", router)


class LoginModel(BaseModel):
    tenancyName: str | None = None
    usernameOrEmailAddress: str
    password: str


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.podium
    return state


async def _check_user(state: AppState, tenant: str, login: str, password: str) -> tuple[int, int] | None:
    """(user id, tenant id) for valid credentials of an active user of an active tenant."""
    if "\x00" in tenant + login + password:  # never valid, and PostgreSQL cannot compare it
        return None
    async with state.db.read() as conn:
        row = (
            await conn.execute(
                select(users.c.id, users.c.tenant_id, users.c.password_hash)
                .join(tenants, tenants.c.id == users.c.tenant_id)
                .where(
                    func.lower(tenants.c.name) == tenant.lower(),
                    tenants.c.is_active.is_(True),
                    users.c.is_active.is_(True),
                    (func.lower(users.c.user_name) == login.lower())
                    | (func.lower(users.c.email_address) == login.lower()),
                )
            )
        ).first()
    if row is None or not verify_password(row.password_hash, password):
        return None
    async with state.db.write() as conn:
        await conn.execute(update(users).where(users.c.id == row.id).values(last_login_time=utcnow()))
    return int(row.id), int(row.tenant_id)


def _token(
    state: AppState, user_id: int, tenant_id: int, kind: str, robot_id: int | None = None
) -> tuple[str, int]:
    lifetime = state.settings.token_lifetime_seconds
    claims = TokenClaims(user_id, tenant_id, kind, int(time.time()) + lifetime, robot_id=robot_id)
    return issue(state.signing_key, claims), lifetime


@router.post("/api/Account/Authenticate", summary="Authenticates the user based on user name and password")
async def authenticate(login: LoginModel, request: Request) -> JSONResponse:
    state = _state(request)
    tenant = login.tenancyName or request.scope.get("podium.tenant_name") or "Default"
    checked = await _check_user(state, tenant, login.usernameOrEmailAddress, login.password)
    if checked is None:
        raise PodiumError("Invalid user name or password.", status=400, code=ErrorCode.GENERIC)
    token, _ = _token(state, checked[0], checked[1], "user")
    return JSONResponse(
        {
            "result": token,
            "targetUrl": None,
            "success": True,
            "error": None,
            "unAuthorizedRequest": False,
            "__abp": True,
        }
    )


async def _form(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.json()
        return body if isinstance(body, dict) else {}
    return dict(await request.form())


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _client_credentials(state: AppState, client_id: str, secret: str) -> tuple[str, int] | None:
    """A token for an external application, or for the robot of a machine (machine client id/secret)."""
    if "\x00" in client_id:
        return None
    async with state.db.read() as conn:
        app = (
            (await conn.execute(select(external_apps).where(external_apps.c.client_id == client_id)))
            .mappings()
            .first()
        )
        if app is not None:
            if not verify_password(app["secret_hash"], secret):
                return None
            return _token(state, app["user_id"], app["tenant_id"], "app")
        machine = (
            (await conn.execute(select(machines).where(machines.c.client_id == client_id))).mappings().first()
        )
        if machine is None or not verify_password(machine["client_secret_hash"], secret):
            return None
        robot = (
            await conn.execute(
                select(robots.c.id, robots.c.user_id).where(
                    and_(robots.c.machine_id == machine["id"], robots.c.user_id.is_not(None))
                )
            )
        ).first()
    if robot is None:
        return None
    return _token(state, robot.user_id, machine["tenant_id"], "robot", robot_id=robot.id)


@router.post("/identity_/connect/token", summary="OAuth2 token endpoint (client_credentials, password)")
async def token(request: Request) -> JSONResponse:
    state = _state(request)
    form = await _form(request)
    grant = str(form.get("grant_type", ""))
    if grant == "client_credentials":
        issued = await _client_credentials(
            state, str(form.get("client_id", "")), str(form.get("client_secret", ""))
        )
        if issued is None:
            return _oauth_error("invalid_client", "Unknown client or wrong secret.", 401)
    elif grant == "password":
        tenant = str(form.get("tenant") or form.get("acr_values", "").removeprefix("tenant:") or "Default")
        checked = await _check_user(
            state, tenant, str(form.get("username", "")), str(form.get("password", ""))
        )
        if checked is None:
            return _oauth_error("invalid_grant", "Invalid user name or password.")
        issued = _token(state, checked[0], checked[1], "user")
    else:
        return _oauth_error("unsupported_grant_type", "Use client_credentials or password.")
    access_token, lifetime = issued
    return JSONResponse(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": form.get("scope", ""),
        }
    )
