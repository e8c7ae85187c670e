"""Signing in under attack: the lockout (in the database, so every server process sees it), the per
process throttle per name and per address (429 with Retry-After), equal work for unknown users, and
malformed token requests and forged token claims answered 4xx, never 500."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.app import create_app
from podium.auth import passwords
from podium.auth.throttle import LoginThrottle
from podium.config import Settings
from podium.db.schema import user_lockouts
from podium.db.types import utcnow
from podium.http.state import AppState
from tests.factories import robot_with_token, user
from tests.support import ADMIN_PASSWORD, SIGNING_KEY, Api, assert_error

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")

AUTHENTICATE = "/api/Account/Authenticate"
TOKEN = "/identity_/connect/token"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def state(api: Api) -> AppState:
    podium: AppState = api.client.app.state.podium  # type: ignore[attr-defined]
    return podium


def configure(api: Api, **values: Any) -> Clock:
    """Sets the app's sign-in settings (the throttle off unless given) and gives it a throttle on a
    clock of the test's own."""
    settings = state(api).settings
    settings.login_throttle_per_name = 0
    settings.login_throttle_per_address = 0
    for name, value in values.items():
        setattr(settings, name, value)
    clock = Clock()
    state(api).logins = LoginThrottle(clock=clock)
    return clock


def authenticate(api: Api, name: str, password: str, client: TestClient | None = None) -> httpx.Response:
    body = {"tenancyName": "Default", "usernameOrEmailAddress": name, "password": password}
    return (client or api.client).post(AUTHENTICATE, json=body)


def password_grant(api: Api, name: str, password: str) -> httpx.Response:
    form = {"grant_type": "password", "username": name, "password": password, "tenant": "Default"}
    return api.client.post(TOKEN, data=form)


def lockout_row(db: Engine, user_id: int) -> Any:
    with db.connect() as conn:
        return conn.execute(select(user_lockouts).where(user_lockouts.c.user_id == user_id)).first()


@pytest.fixture
def second_process(api: Api, database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """Another server process on the same database (its own memory, caches and throttle)."""
    settings = Settings(data_dir=tmp_path / "second", database_url=database_url, secret_key=SIGNING_KEY)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


# -- lockout --------------------------------------------------------------------------------------------


def test_wrong_passwords_lock_the_user_out_everywhere(
    api: Api, db: Engine, second_process: TestClient
) -> None:
    configure(api, lockout_attempts=3, lockout_seconds=300)
    eve = user(api, "eve")
    for _ in range(2):
        assert "Invalid" in assert_error(authenticate(api, "eve", "wrong"), 400)["message"]
    assert lockout_row(db, eve).failed_count == 2 and lockout_row(db, eve).locked_until is None
    assert_error(authenticate(api, "eve", "wrong"), 400)  # the third: locked out from now on
    row = lockout_row(db, eve)
    assert row.failed_count == 0 and 290 < (row.locked_until - utcnow()).total_seconds() <= 300
    # the right password is refused too, by both endpoints and by every server process
    locked = assert_error(authenticate(api, "eve", "eve-password"), 400)
    assert "locked out" in locked["message"] and "seconds" in locked["message"]
    assert (
        "locked out" in assert_error(authenticate(api, "eve", "eve-password", second_process), 400)["message"]
    )
    grant = password_grant(api, "eve", "eve-password")
    assert grant.status_code == 400 and grant.json()["error"] == "invalid_grant"
    assert "locked out" in grant.json()["error_description"]
    # other users are not affected
    api.login("admin", ADMIN_PASSWORD)
    # once the lockout is over, the right password works and the count starts again
    with db.begin() as conn:
        conn.execute(update(user_lockouts).values(locked_until=utcnow()))
    assert api.login("eve", "eve-password")
    assert lockout_row(db, eve) is None


def test_a_good_sign_in_clears_the_count(api: Api, db: Engine) -> None:
    configure(api, lockout_attempts=3)
    eve = user(api, "eve")
    for password in ("wrong", "wrong", "eve-password", "wrong", "wrong"):
        authenticate(api, "eve", password)
    assert lockout_row(db, eve).failed_count == 2
    assert api.login("eve", "eve-password")


def test_the_password_grant_counts_toward_the_lockout(api: Api, db: Engine) -> None:
    configure(api, lockout_attempts=2)
    eve = user(api, "eve")
    assert password_grant(api, "eve", "wrong").json()["error_description"] == "Invalid user name or password."
    assert_error(authenticate(api, "eve", "wrong"), 400)
    assert lockout_row(db, eve).locked_until is not None
    assert "locked out" in password_grant(api, "eve", "eve-password").json()["error_description"]


def test_no_lockout_when_attempts_is_zero(api: Api, db: Engine) -> None:
    configure(api, lockout_attempts=0)
    eve = user(api, "eve")
    for _ in range(12):
        assert_error(authenticate(api, "eve", "wrong"), 400)
    assert lockout_row(db, eve) is None
    assert api.login("eve", "eve-password")


# -- throttle -------------------------------------------------------------------------------------------


def assert_throttled(response: httpx.Response, retry_after: int) -> None:
    body = assert_error(response, 429)
    assert "try again" in body["message"]
    assert response.headers["Retry-After"] == str(retry_after)


@pytest.mark.parametrize("name", ["admin", "nobody"])
def test_failed_sign_ins_per_name_are_throttled(api: Api, name: str) -> None:
    """Known and unknown names alike: a known name's lockout is off here, the throttle answers."""
    clock = configure(api, lockout_attempts=0, login_throttle_per_name=3, login_throttle_window_seconds=60)
    for _ in range(3):
        clock.now += 1
        assert_error(authenticate(api, name, "wrong"), 400)
    clock.now += 10
    assert_throttled(authenticate(api, name, "wrong"), 48)  # the first of the three leaves the window at 61
    assert_throttled(authenticate(api, name.upper(), ADMIN_PASSWORD), 48)  # names are counted in any case
    refused = password_grant(api, name, ADMIN_PASSWORD)
    assert_throttled(refused, 48)
    assert authenticate(api, "eve", "wrong").status_code == 400  # other names go on
    clock.now += 48
    assert_error(authenticate(api, name, "wrong"), 400)
    assert_throttled(authenticate(api, name, "wrong"), 1)


def test_good_sign_ins_are_not_counted(api: Api) -> None:
    configure(api, login_throttle_per_name=2, login_throttle_per_address=2)
    for _ in range(10):
        api.login("admin", ADMIN_PASSWORD)
        assert password_grant(api, "admin", ADMIN_PASSWORD).status_code == 200


def test_failed_sign_ins_per_address_are_throttled(api: Api) -> None:
    clock = configure(api, login_throttle_per_address=4, login_throttle_window_seconds=30)
    for name in ("a", "b", "c", "d"):
        assert_error(authenticate(api, name, "wrong"), 400)
    assert_throttled(authenticate(api, "e", "wrong"), 30)
    secret = {"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
    assert_throttled(api.client.post(TOKEN, data=secret), 30)
    clock.now += 30
    assert password_grant(api, "admin", ADMIN_PASSWORD).status_code == 200


def test_wrong_client_secrets_are_throttled_per_client(api: Api) -> None:
    configure(api, login_throttle_per_name=2)
    robot = robot_with_token(api, "R1")
    wrong = {
        "grant_type": "client_credentials",
        "client_id": robot.machine["ClientId"],
        "client_secret": "no",
    }
    for _ in range(2):
        response = api.client.post(TOKEN, data=wrong)
        assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert_throttled(api.client.post(TOKEN, data=wrong), 60)
    right = {**wrong, "client_secret": robot.machine["ClientSecret"]}
    assert_throttled(api.client.post(TOKEN, data=right), 60)
    other = robot_with_token(api, "R2")  # another client id is not held back
    assert other.token


def test_default_limits() -> None:
    settings = Settings()
    assert (settings.lockout_attempts, settings.lockout_seconds) == (10, 300)  # Orchestrator's defaults
    assert settings.login_throttle_per_name == 10 and settings.login_throttle_per_address == 30
    assert settings.login_throttle_window_seconds == 60


# -- equal work for unknown users -----------------------------------------------------------------------


class CountedHasher:
    """The module's hasher, counting the hashes it verifies."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.verified = 0
        self.time_cost, self.memory_cost, self.parallelism = hasher.time_cost, hasher.memory_cost, 1

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        result: bool = self.hasher.verify(password_hash, password)
        return result

    def hash(self, password: str) -> str:
        result: str = self.hasher.hash(password)
        return result


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> CountedHasher:
    hasher = CountedHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", hasher)
    return hasher


def verifications(counted: CountedHasher, send: Any) -> int:
    before = counted.verified
    send()
    return counted.verified - before


def test_unknown_users_and_clients_cost_one_password_verification(api: Api, counted: CountedHasher) -> None:
    configure(api)
    user(api, "eve")
    api.client.post("/odata/Users", json={"UserName": "off", "Password": "off-password-1", "IsActive": False})
    for name in ("eve", "nobody", "off", "admin@nowhere"):
        assert verifications(counted, lambda n=name: authenticate(api, n, "wrong")) == 1, name
        assert verifications(counted, lambda n=name: password_grant(api, n, "wrong")) == 1, name
    robot = robot_with_token(api, "R1")
    for client_id in (robot.machine["ClientId"], "unknown-client"):
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "wrong"}
        assert verifications(counted, lambda f=form: api.client.post(TOKEN, data=f)) == 1


# -- malformed token requests, forged claims ------------------------------------------------------------


BAD_TOKEN_REQUESTS: list[dict[str, Any]] = [
    {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
    {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
    {"json": {"grant_type": "password", "username": "admin", "password": "x", "acr_values": 5}},
    {"json": {"grant_type": "password", "username": "admin", "password": "x", "acr_values": ["tenant:a"]}},
    {"json": {"grant_type": "password", "username": {"a": 1}, "password": "x"}},
    {"json": {"grant_type": "password", "username": "admin", "password": 5}},
    {"json": {"grant_type": ["password"]}},
    {"json": {"grant_type": "client_credentials", "client_id": 5, "client_secret": "x"}},
    {"json": {"grant_type": "client_credentials", "client_id": "x", "client_secret": None, "scope": 5}},
    {"data": {"grant_type": "password", "username": "admin"}, "files": {"password": ("p", b"x")}},
]


@pytest.mark.parametrize("request_args", BAD_TOKEN_REQUESTS, ids=range(len(BAD_TOKEN_REQUESTS)))
def test_malformed_token_requests_are_invalid_requests(api: Api, request_args: dict[str, Any]) -> None:
    response = api.client.post(TOKEN, **request_args)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request" and response.json()["error_description"]


def test_a_json_token_request_with_text_values_works(api: Api) -> None:
    body = {
        "grant_type": "password",
        "username": "admin",
        "password": ADMIN_PASSWORD,
        "acr_values": "tenant:Default",
    }
    assert api.ok(api.client.post(TOKEN, json=body))["access_token"]


def forged(**claims: Any) -> str:
    payload = {"sub": "1", "tid": 1, "knd": "user", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


FORGED = [
    {"sub": str(2**70)},
    {"sub": str(-(2**70))},
    {"sub": "0"},
    {"tid": 2**70},
    {"tid": "1"},
    {"tid": True},
    {"knd": "robot", "rid": 2**70},
    {"knd": "job", "jid": 2**64, "fid": 1, "rid": 1},
    {"knd": "job", "jid": "x"},
    {"fid": 1.5},
]


@pytest.mark.parametrize("claims", FORGED, ids=range(len(FORGED)))
def test_signed_tokens_with_out_of_range_ids_are_refused(api: Api, claims: dict[str, Any]) -> None:
    assert_error(api.get("/odata/Jobs", token=forged(**claims)), 401)
    assert_error(
        api.post("/api/robot/heartbeat", {"agentId": "a", "running": {}}, token=forged(**claims)), 401
    )
