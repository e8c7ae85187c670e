"""Access that ends is refused at once (``domain/revocations.py``): a disabled or deleted robot's token
and its jobs' tokens, a job's token once its job has ended, a revoked personal access token, in the
process that made the change and, through PostgreSQL's LISTEN, in every other server process (here a
second app on the same database; ``tests/e2e/test_revocations_workers.py`` does it over real sockets
with ``podium serve --workers 2``)."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine

from podium.app import create_app
from podium.auth.principal import Principal, PrincipalCache
from podium.config import Settings
from podium.db.schema_robots import robot_sessions
from podium.db.types import utcnow
from podium.domain import revocations
from tests.assets_support import robot_read
from tests.factories import NS, create_asset, seed_machine, start_jobs
from tests.robots.helpers import FOLDER, RobotClient, connect
from tests.support import SIGNING_KEY, Api, assert_error

Check = Callable[[], httpx.Response]


def _post(robot: RobotClient, path: str, body: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = robot.api.client.post(f"/api/robot/{path}", json=body, headers=robot.headers())
    return response


def _robot_calls(robot: RobotClient, secret: str) -> dict[str, Check]:
    """Every way a robot token is used: the protocol, logs, OData reads and a credential read."""
    api, agent = robot.api, {"agentId": robot.agent_id, "running": {}}
    log = {"message": "m", "level": "Info", "timeStamp": "2024-01-01T00:00:00Z"}
    return {
        "heartbeat": lambda: _post(robot, "heartbeat", agent),
        "jobs/next": lambda: _post(robot, "jobs/next", {**agent, "wait": 0, "free": 0}),
        "logs": lambda: api.client.post("/api/Logs", json=log, headers=robot.headers()),
        "odata": lambda: api.get("/odata/Releases", folder=FOLDER, token=robot.token),
        "credential": lambda: robot_read(api, secret, robot.robot_key, token=robot.token),
    }


def _job_calls(api: Api, token: str) -> dict[str, Check]:
    """Every way a job's process uses its token: OData reads, a credential read, the stop question."""
    stop = {"Authorization": f"Bearer {token}"}
    return {
        "odata": lambda: api.get("/odata/Jobs", folder=FOLDER, token=token),
        "credential": lambda: robot_read(api, "secret", None, token=token),
        "stop": lambda: api.client.get("/api/robot/jobs/current/stop", headers=stop),
    }


def _all_pass(calls: dict[str, Check]) -> None:
    for name, call in calls.items():
        response = call()
        assert response.status_code < 300, (name, response.status_code, response.text)


def _all_refused(calls: dict[str, Check]) -> None:
    for name, call in calls.items():
        response = call()
        assert response.status_code == 401, (name, response.status_code, response.text)


def _credential(api: Api) -> str:
    body = {
        "Name": "secret",
        "ValueType": "Credential",
        "CredentialUsername": "u",
        "CredentialPassword": "pw",
    }
    create_asset(api, body)
    return "secret"


def _running_job(api: Api, robot: RobotClient) -> dict[str, Any]:
    [_started] = start_jobs(api)
    [assignment] = robot.next()["jobs"]
    api.ok(robot.report(assignment["key"], "Running", claim=assignment["claim"]))
    return dict(assignment)


def _patch(api: Api, url: str, body: dict[str, Any]) -> None:
    api.ok(api.client.patch(url, json=body, headers=api.headers()))


def test_a_disabled_robot_and_its_jobs_are_refused_at_once(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    secret = _credential(api)
    [robot] = connect(api, machine)
    job_token = _running_job(api, robot)["accessToken"]
    robot_calls, job_calls = _robot_calls(robot, secret), _job_calls(api, job_token)
    _all_pass(robot_calls)  # each token verified and cached by now
    _all_pass(job_calls)

    _patch(api, f"/odata/Robots({robot.robot_id})", {"Enabled": False})
    _all_refused(robot_calls)
    _all_refused(job_calls)
    assert_error(robot.report("no-such-job", "Successful"), 401)
    body = {"machineKey": machine["Key"], "hostMachineName": "h", "agentId": str(uuid.uuid4())}
    assert_error(api.client.post("/api/robot/connect", json=body), 400)  # no enabled robot to connect

    _patch(api, f"/odata/Robots({robot.robot_id})", {"Enabled": True})
    _all_pass(robot_calls)  # the same token holds again with its robot


def test_a_deleted_robot_is_refused_at_once(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db)
    secret = _credential(api)
    [robot] = connect(api, machine)
    calls = _robot_calls(robot, secret)
    _all_pass(calls)
    api.ok(api.delete(f"/odata/Robots({robot.robot_id})"), 204)
    _all_refused(calls)


def _reported(api: Api, robot: RobotClient, job: dict[str, Any], machine: dict[str, Any], db: Engine) -> None:
    api.ok(robot.report(job["key"], "Successful"))


def _killed(api: Api, robot: RobotClient, job: dict[str, Any], machine: dict[str, Any], db: Engine) -> None:
    stop = {"jobIds": [job["id"]], "strategy": "Kill"}
    api.ok(api.post(f"/odata/Jobs/{NS}.StopJobs", stop, folder=FOLDER))
    api.ok(robot.report(job["key"], "Stopped"))


def _agent_restarted(
    api: Api, robot: RobotClient, job: dict[str, Any], machine: dict[str, Any], db: Engine
) -> None:
    connect(api, machine)  # a new agent: the jobs the old one held end Faulted


def _went_silent(
    api: Api, robot: RobotClient, job: dict[str, Any], machine: dict[str, Any], db: Engine
) -> None:
    with db.begin() as conn:
        conn.execute(update(robot_sessions).values(reporting_time=utcnow().replace(year=2000)))
    portal: Any = api.client.portal
    portal.call(api.client.app.state.services.run_now, "robot-sweep")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "end", [_reported, _killed, _agent_restarted, _went_silent], ids=lambda f: f.__name__
)
def test_a_job_token_is_refused_the_moment_its_job_ends(api: Api, db: Engine, end: Any) -> None:
    machine = seed_machine(api, db)
    _credential(api)
    [robot] = connect(api, machine)
    job = _running_job(api, robot)
    calls = _job_calls(api, job["accessToken"])
    _all_pass(calls)
    end(api, robot, job, machine, db)
    ended = api.ok(api.get(f"/odata/Jobs({job['id']})", folder=FOLDER))
    assert ended["State"] in ("Successful", "Stopped", "Faulted")
    _all_refused(calls)


def _personal_token(api: Api) -> tuple[int, str]:
    made = api.ok(api.post("/api/PersonalAccessTokens", {"Name": "ci", "ExpiresInDays": 1}), 201)
    return int(made["Id"]), str(made["Token"])


def test_a_revoked_personal_access_token_is_refused_at_once(api: Api) -> None:
    token_id, token = _personal_token(api)
    api.ok(api.get("/odata/Jobs", token=token))
    api.ok(api.delete(f"/api/PersonalAccessTokens/{token_id}"), 204)
    assert_error(api.get("/odata/Jobs", token=token), 401)


def _principal(**ids: int) -> Principal:
    return Principal(1, "u", "k", 1, "Default", "pat", frozenset(), **ids)  # type: ignore[arg-type]


def test_the_principal_cache_forgets_what_a_revocation_names() -> None:
    cache = PrincipalCache()
    cache.put("pat", _principal(token_id=3))
    cache.put("robot", _principal(robot_id=5))
    cache.put("job", _principal(robot_id=5, job_id=8))
    cache.forget(revocations.job(8))
    assert cache.get("job") is None and cache.get("robot") is not None
    cache.forget(revocations.robot(5))
    assert cache.get("robot") is None and cache.get("pat") is not None
    cache.forget(revocations.pat(3))
    assert cache.get("pat") is None


def test_a_load_overlapping_a_revocation_that_names_it_is_not_kept() -> None:
    cache = PrincipalCache()
    before = cache.generation  # a load starts, reading rows the revoking transaction has not committed
    cache.forget(revocations.job(99))  # another job ends meanwhile: this load may still be kept
    cache.put("a", _principal(token_id=3), before)
    assert cache.get("a") is not None
    before = cache.generation
    cache.forget(revocations.pat(3))  # its own token is revoked meanwhile: what it read is stale
    cache.put("a", _principal(token_id=3), before)
    assert cache.get("a") is None
    before = cache.generation
    cache.forget(revocations.EVERYTHING)
    cache.put("b", _principal(token_id=4), before)
    assert cache.get("b") is None


# -- another server process on the same database (PostgreSQL: revocations travel through LISTEN) ---------


@contextmanager
def _second_process(api: Api, database_url: str, data_dir: Path) -> Iterator[Api]:
    """Another app on the database of ``api``, listening for revocations, whose principals would be kept
    for an hour: only a revocation it hears makes it forget one."""
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key=SIGNING_KEY)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        state = client.app.state.podium  # type: ignore[attr-defined]
        state.principals.ttl = 3600.0
        _until(lambda: state.robot_tokens.hears_everyone, "the second app's LISTEN connection")
        yield Api(client, api.tenant, api.tenant_name)


def _until(condition: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    """Waits for an asynchronous delivery (no timing is asserted: the deadline only bounds a failure)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not seen: {what}"
        time.sleep(0.02)


def _refused_soon(call: Check, what: str) -> None:
    _until(lambda: call().status_code == 401, what)


def test_revocations_reach_the_other_server_processes(
    api: Api, db: Engine, database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no LISTEN: other processes refuse within their caches' 5 s (README)")
    machine = seed_machine(api, db, robots=2)
    secret = _credential(api)
    first, second = connect(api, machine)
    job = _running_job(api, first)
    token_id, pat = _personal_token(api)
    with _second_process(api, database_url, tmp_path / "other") as other:
        robot = dataclasses.replace(second, api=other)  # the same robot token, sent to the other process
        robot_calls, job_calls = _robot_calls(robot, secret), _job_calls(other, job["accessToken"])
        pat_call: Check = lambda: other.get("/odata/Jobs", token=pat)  # noqa: E731
        _all_pass({**robot_calls, "pat": pat_call})  # all cached in the other process now
        _all_pass(job_calls)

        api.ok(api.delete(f"/api/PersonalAccessTokens/{token_id}"), 204)
        _refused_soon(pat_call, "the revoked token refused by the other process")
        api.ok(first.report(job["key"], "Successful"))
        _refused_soon(job_calls["odata"], "the ended job's token refused by the other process")
        _patch(api, f"/odata/Robots({robot.robot_id})", {"Enabled": False})
        _refused_soon(robot_calls["heartbeat"], "the disabled robot refused by the other process")
        _all_refused(robot_calls)
        _all_refused(job_calls)
