"""Personal access tokens: only a user signed in with its password creates one (not a robot, a job,
an external application or another personal access token), each expires within PODIUM_PAT_MAX_DAYS,
the caller lists its own, and an administrator (Users.Edit) lists and revokes everyone's in the tenant."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from podium.http.state import AppState
from tests.factories import seed_machine, start_jobs, user, user_with
from tests.robots.helpers import connect
from tests.support import ADMIN_PASSWORD, Api, assert_error, create_tenant_sync

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")

PATS = "/api/PersonalAccessTokens"


def create(api: Api, token: str | None = None, **body: Any) -> httpx.Response:
    return api.client.post(PATS, json={"Name": "ci", **body}, headers=api.headers(token=token))


def created(api: Api, token: str | None = None, **body: Any) -> dict[str, Any]:
    answer: dict[str, Any] = api.ok(create(api, token, **body), 201)
    return answer


def expires_in_days(answer: dict[str, Any]) -> float:
    expires = dt.datetime.fromisoformat(answer["ExpiresAt"].replace("Z", "+00:00"))
    return (expires - dt.datetime.now(dt.UTC)).total_seconds() / 86400


def settings(api: Api) -> Any:
    state: AppState = api.client.app.state.podium  # type: ignore[attr-defined]
    return state.settings


# -- who creates them -----------------------------------------------------------------------------------


def test_robots_and_jobs_cannot_create_tokens(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    [robot] = connect(api, machine)
    refused = assert_error(create(api, robot.token), 403)
    assert "user" in refused["message"]
    start_jobs(api)
    [job] = robot.next()["jobs"]
    assert_error(create(api, job["accessToken"]), 403)
    assert api.ok(api.get(PATS, token=robot.token))["value"] == []  # nothing was written


def test_machine_and_external_application_tokens_cannot_create_tokens(api: Api) -> None:
    machine = api.ok(api.post("/odata/Machines", {"Name": "M1"}), 201)
    api.ok(api.post("/odata/Robots", {"Name": "R1", "MachineId": machine["Id"]}, folder="Shared"), 201)
    app = api.ok(api.post("/api/ExternalApplications", {"Name": "app", "RoleIds": []}), 201)
    for client_id, secret in (
        (machine["ClientId"], machine["ClientSecret"]),
        (app["ClientId"], app["ClientSecret"]),
    ):
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        token = api.ok(api.client.post("/identity_/connect/token", data=form))["access_token"]
        assert_error(create(api, token), 403)


def test_a_token_cannot_create_another(api: Api) -> None:
    """It would renew itself for ever: a leaked token must end at its expiry."""
    secret = created(api)["Token"]
    assert_error(create(api, secret), 403)


def test_users_create_tokens_with_either_sign_in(api: Api) -> None:
    assert created(api)["Token"].startswith("pat_")
    form = {"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD, "tenant": "Default"}
    oauth = api.ok(api.client.post("/identity_/connect/token", data=form))["access_token"]
    assert created(api, oauth, Name="oauth")["Name"] == "oauth"


# -- lifetime -------------------------------------------------------------------------------------------


def test_every_token_expires_within_the_maximum(api: Api) -> None:
    assert 364.9 < expires_in_days(created(api)) <= 365  # asked without a lifetime: the maximum
    assert 29.9 < expires_in_days(created(api, ExpiresInDays=30)) <= 30
    assert 364.9 < expires_in_days(created(api, ExpiresInDays=365)) <= 365
    for too_long in (366, 3650, 10**30):
        assert_error(create(api, ExpiresInDays=too_long), 400)
    settings(api).pat_max_days = 7
    assert 6.9 < expires_in_days(created(api)) <= 7
    assert_error(create(api, ExpiresInDays=8), 400)
    assert len(api.ok(api.get(PATS))["value"]) == 4


# -- listing and revoking -------------------------------------------------------------------------------


def test_callers_list_their_own_tokens(api: Api) -> None:
    mine = created(api, Name="mine")
    user(api, "eve")
    eve = api.login("eve", "eve-password")
    hers = created(api, eve, Name="hers", ExpiresInDays=3)
    listed = api.ok(api.get(PATS, token=eve))["value"]
    assert [(t["Id"], t["Name"], t["UserName"], t["IsRevoked"]) for t in listed] == [
        (hers["Id"], "hers", "eve", False)
    ]
    assert listed[0]["ExpiresAt"] == hers["ExpiresAt"] and listed[0]["CreationTime"].endswith("Z")
    assert "Token" not in listed[0]
    assert [t["Id"] for t in api.ok(api.get(PATS))["value"]] == [mine["Id"]]
    # every user's: for holders of Users.Edit across the tenant only
    assert_error(api.get(f"{PATS}?all=true", token=eve), 403)
    everyone = api.ok(api.get(f"{PATS}?all=true"))["value"]
    assert [(t["Name"], t["UserName"]) for t in everyone] == [("mine", "admin"), ("hers", "eve")]
    assert_error(api.get(f"{PATS}?all=maybe"), 400)


def test_an_administrator_revokes_anyones_token(api: Api) -> None:
    user(api, "eve")
    eve = api.login("eve", "eve-password")
    hers = created(api, eve, Name="hers")
    mine = created(api, Name="mine")
    # eve may not revoke the admin's token (it does not exist for her)
    assert_error(api.delete(f"{PATS}/{mine['Id']}", token=eve), 404)
    api.ok(api.get("/odata/Jobs", token=mine["Token"]))
    # a user administrator (Users.Edit, not the Administrator role) revokes hers
    admin = user_with(api, "useradmin", ["Users.Edit"])
    api.ok(api.delete(f"{PATS}/{hers['Id']}", token=admin), 204)
    assert_error(
        api.get("/odata/Users/UiPath.Server.Configuration.OData.GetCurrentUser", token=hers["Token"]), 401
    )
    listed = api.ok(api.get(f"{PATS}?all=true", token=admin))["value"]
    assert {t["Name"]: t["IsRevoked"] for t in listed} == {"hers": True, "mine": False}
    assert api.ok(api.get(PATS, token=eve))["value"][0]["IsRevoked"] is True


def test_administrators_of_another_tenant_cannot_revoke(api: Api, database_url: str) -> None:
    create_tenant_sync(database_url, "Other")
    response = api.client.post(
        "/api/Account/Authenticate",
        json={"tenancyName": "Other", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD},
    )
    other_admin = api.ok(response)["result"]
    mine = created(api)
    assert_error(api.delete(f"{PATS}/{mine['Id']}", token=other_admin), 404)
    assert api.ok(api.get(f"{PATS}?all=true", token=other_admin))["value"] == []
    api.ok(api.get("/odata/Jobs", token=mine["Token"]))
