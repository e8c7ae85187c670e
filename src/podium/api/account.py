"""Getting a token: Orchestrator's ``/api/Account/Authenticate`` and the OAuth2 token endpoint."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.responses import JSONResponse

from podium.auth.tokens import TokenClaims, issue
from podium.domain.account import Identity, check_client, check_user
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


def _token(state: AppState, identity: Identity) -> tuple[str, int]:
    lifetime = state.settings.token_lifetime_seconds
    claims = TokenClaims(
        identity.user_id,
        identity.tenant_id,
        identity.kind,
        int(time.time()) + lifetime,
        robot_id=identity.robot_id,
    )
    return issue(state.signing_key, claims), lifetime


@router.post("/api/Account/Authenticate", summary="Authenticates the user based on user name and password")
async def authenticate(login: LoginModel, request: Request) -> JSONResponse:
    state = _state(request)
    tenant = login.tenancyName or request.scope.get("podium.tenant_name") or "Default"
    user = await check_user(state.db, tenant, login.usernameOrEmailAddress, login.password)
    if user is None:
        raise PodiumError("Invalid user name or password.", status=400, code=ErrorCode.GENERIC)
    token, _ = _token(state, user)
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


@router.post("/identity_/connect/token", summary="OAuth2 token endpoint (client_credentials, password)")
async def token(request: Request) -> JSONResponse:
    state = _state(request)
    form = await _form(request)
    grant = str(form.get("grant_type", ""))
    if grant == "client_credentials":
        client = await check_client(
            state.db, str(form.get("client_id", "")), str(form.get("client_secret", ""))
        )
        if client is None:
            return _oauth_error("invalid_client", "Unknown client or wrong secret.", 401)
        issued = _token(state, client)
    elif grant == "password":
        tenant = str(form.get("tenant") or form.get("acr_values", "").removeprefix("tenant:") or "Default")
        user = await check_user(
            state.db, tenant, str(form.get("username", "")), str(form.get("password", ""))
        )
        if user is None:
            return _oauth_error("invalid_grant", "Invalid user name or password.")
        issued = _token(state, user)
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
