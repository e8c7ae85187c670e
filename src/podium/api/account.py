"""Getting a token: Orchestrator's ``/api/Account/Authenticate`` and the OAuth2 token endpoint.

Both are throttled (``podium.auth.throttle``): failed sign-ins per user name (per client id for client
credentials) and per client address within ``PODIUM_LOGIN_THROTTLE_WINDOW``, in this server process;
past the limit the answer is 429 with ``Retry-After`` and Orchestrator's error body. A user locked out
after the tenant's ``Abp.Zero.UserManagement.UserLockOut.*`` settings' wrong passwords
(``podium.domain.account``; default ``PODIUM_LOCKOUT_ATTEMPTS``) is refused for their lockout seconds
(default ``PODIUM_LOCKOUT_SECONDS``), its right password too: 400 saying so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from podium.auth.throttle import Key
from podium.auth.tokens import HOST_KIND, TokenClaims, issue
from podium.domain.account import Identity, LockedOut, check_client, check_user
from podium.domain.host import check_host_user, is_host_tenancy
from podium.errors import ErrorCode, PodiumError
from podium.http.edge import error_response
from podium.http.state import AppState
from podium.odata.registry import Area

router = APIRouter(tags=["Account"])
area = Area("Account", router)

INVALID_LOGIN = "Invalid user name or password."


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


def _locked_message(locked: LockedOut) -> str:
    return (
        "The user account is locked out after too many failed sign-in attempts; "
        f"try again in {locked.seconds_left} seconds."
    )


# -- throttling -------------------------------------------------------------------------------------------


def _limits(state: AppState, request: Request, name: Key) -> list[tuple[Key, int]]:
    """The keys a sign-in counts against: the name it is for, the address it comes from."""
    address = request.client.host if request.client else ""
    return [
        (name, state.settings.login_throttle_per_name),
        (("address", address), state.settings.login_throttle_per_address),
    ]


def _user_key(tenant: str, login: str) -> Key:
    return ("user", tenant.lower(), login.lower())


def _too_many(state: AppState, request: Request, limits: Sequence[tuple[Key, int]]) -> Response | None:
    """None when the sign-in may go on (it is counted); else the 429 to answer."""
    wait = state.logins.take(limits, state.settings.login_throttle_window_seconds)
    if wait is None:
        return None
    error = PodiumError(
        f"Too many failed sign-in attempts; try again in {wait} seconds.", status=429, code=ErrorCode.GENERIC
    )
    response = error_response(error, request.scope)
    response.headers["Retry-After"] = str(wait)
    return response


async def _sign_in(
    state: AppState, tenant: str, login: str, password: str, via: str
) -> Identity | LockedOut | None:
    """A tenant's user, or with tenancy name ``Host`` a host user (``domain/host.py``: its token is
    good for the host operations only)."""
    if is_host_tenancy(tenant):
        host_user = await check_host_user(state.db, login, password)
        return None if host_user is None else Identity(host_user.id, 0, HOST_KIND)
    return await check_user(state.db, tenant, login, password, via=via)


# -- /api/Account/Authenticate ----------------------------------------------------------------------------


@router.post("/api/Account/Authenticate", summary="Authenticates the user based on user name and password")
async def authenticate(login: LoginModel, request: Request) -> Response:
    state = _state(request)
    tenant = login.tenancyName or request.scope.get("podium.tenant_name") or "Default"
    limits = _limits(state, request, _user_key(tenant, login.usernameOrEmailAddress))
    refused = _too_many(state, request, limits)
    if refused is not None:
        return refused
    user = await _sign_in(state, tenant, login.usernameOrEmailAddress, login.password, "Authenticate")
    if isinstance(user, LockedOut):
        raise PodiumError(_locked_message(user), status=400, code=ErrorCode.GENERIC)
    if user is None:
        raise PodiumError(INVALID_LOGIN, status=400, code=ErrorCode.GENERIC)
    state.logins.give_back(limits)
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


# -- /identity_/connect/token -----------------------------------------------------------------------------


class InvalidRequest(Exception):
    """A token request that is not a form (or JSON object) of text values: OAuth's invalid_request."""


async def _form(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError) as error:
            raise InvalidRequest("The body is not valid JSON.") from error
        if not isinstance(body, dict):
            raise InvalidRequest("The body must be a JSON object.")
        return body
    try:
        return dict(await request.form())
    except HTTPException as error:  # a multipart body without its boundary, ...
        raise InvalidRequest(str(error.detail)) from error


def _text(form: dict[str, Any], name: str) -> str:
    """A parameter's text ("" when absent); anything else (a number, an object, a file) is refused."""
    value = form.get(name)
    if value is None:
        return ""
    if isinstance(value, UploadFile) or not isinstance(value, str):
        raise InvalidRequest(f"{name} must be text.")
    return value


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@router.post("/identity_/connect/token", summary="OAuth2 token endpoint (client_credentials, password)")
async def token(request: Request) -> Response:
    try:
        form = await _form(request)
        grant = _text(form, "grant_type")
        if grant == "client_credentials":
            return await _client_credentials(request, form)
        if grant == "password":
            return await _password(request, form)
    except InvalidRequest as error:
        return _oauth_error("invalid_request", str(error))
    return _oauth_error("unsupported_grant_type", "Use client_credentials or password.")


async def _client_credentials(request: Request, form: dict[str, Any]) -> Response:
    state = _state(request)
    client_id, secret, scope = _text(form, "client_id"), _text(form, "client_secret"), _text(form, "scope")
    limits = _limits(state, request, ("client", client_id))
    refused = _too_many(state, request, limits)
    if refused is not None:
        return refused
    client = await check_client(state.db, client_id, secret)
    if client is None:
        return _oauth_error("invalid_client", "Unknown client or wrong secret.", 401)
    state.logins.give_back(limits)
    return _issued(state, client, scope)


async def _password(request: Request, form: dict[str, Any]) -> Response:
    state = _state(request)
    tenant = _text(form, "tenant") or _text(form, "acr_values").removeprefix("tenant:") or "Default"
    username, password, scope = _text(form, "username"), _text(form, "password"), _text(form, "scope")
    limits = _limits(state, request, _user_key(tenant, username))
    refused = _too_many(state, request, limits)
    if refused is not None:
        return refused
    user = await _sign_in(state, tenant, username, password, "connect/token")
    if isinstance(user, LockedOut):
        return _oauth_error("invalid_grant", _locked_message(user))
    if user is None:
        return _oauth_error("invalid_grant", INVALID_LOGIN)
    state.logins.give_back(limits)
    return _issued(state, user, scope)


def _issued(state: AppState, identity: Identity, scope: str) -> JSONResponse:
    access_token, lifetime = _token(state, identity)
    return JSONResponse(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}
    )
