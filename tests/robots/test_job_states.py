"""The job state machine, called directly on a real database (both backends). Each table below has a
row per job state and a column per move; each row is one test case, which tries every column on a job
of its own and compares the outcomes with the row:

* ``job_states.transition``: every target, allowed or refused (400, nothing written);
* ``job_results.report``: a robot's report (Running, Successful, Faulted, Stopped): applied, already so
  (answered as it is), refused (400) or too late (409);
* ``robot_protocol.report`` on a job whose claim the robot did or did not hold, and the sweep
  ``job_claims.withdraw_expired`` of claims not acknowledged in time.

The tables are written out here, not read from the code under test: changing the state machine means
changing a row below.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from podium.db import schema_robots
from podium.db.types import utcnow
from podium.domain import job_claims, job_results, job_states, robot_protocol
from podium.domain.enums import JobState
from podium.errors import ErrorCode, PodiumError
from tests.robots.domain_support import Seed, add_job, event_types, in_transaction, job_row, seed

S = JobState
FINAL = {S.Faulted, S.Successful, S.Stopped}
ALLOWED, REFUSED = "allowed", "refused (400)"

# job state: the states it may become (every other target is refused)
TRANSITIONS: dict[JobState, set[JobState]] = {
    S.Pending: {S.Running, S.Stopped, S.Faulted},
    S.Running: {
        S.Pending,
        S.Resumed,
        S.Stopping,
        S.Terminating,
        S.Successful,
        S.Faulted,
        S.Stopped,
        S.Suspended,
    },
    S.Stopping: {S.Terminating, S.Stopped, S.Successful, S.Faulted},
    S.Terminating: {S.Stopped, S.Faulted},
    S.Suspended: {S.Resumed, S.Stopped, S.Faulted},
    S.Resumed: {S.Running, S.Stopping, S.Terminating, S.Stopped, S.Faulted},
    S.Faulted: set(),
    S.Successful: set(),
    S.Stopped: set(),
}


def rows(table: dict[JobState, Any]) -> list[Any]:
    return [pytest.param(state, id=state.name) for state in table]


def test_the_table_is_the_state_machine() -> None:
    assert {state: set(targets) for state, targets in job_states.ALLOWED.items()} == TRANSITIONS
    assert set(job_states.FINAL) == FINAL


def _transition(db: Engine, url: str, where: Seed, current: JobState, target: JobState) -> str:
    """Moves a new job in ``current`` to ``target``; checks what was written (or that nothing was)."""
    job = add_job(db, where, current)
    try:
        in_transaction(url, lambda conn: job_states.transition(conn, job, target))
    except PodiumError as error:
        assert (error.status, error.code) == (400, ErrorCode.INVALID_JOB_STATE)
        assert job_row(db, job["id"])["state"] == int(current)
        assert event_types(db, where, job["key"]) == []
        return REFUSED
    after = job_row(db, job["id"])
    assert after["state"] == int(target) and after["last_modification_time"] is not None
    assert (after["end_time"] is not None) == (target in FINAL)
    assert (after["start_time"] is not None) == (target is S.Running)
    assert event_types(db, where, job["key"]) == [f"job.{target.name.lower()}"]
    return ALLOWED


@pytest.mark.parametrize("current", rows(TRANSITIONS))
def test_transition(db: Engine, database_url: str, current: JobState) -> None:
    where = seed(db)
    outcomes = {target: _transition(db, database_url, where, current, target) for target in S}
    assert outcomes == {target: ALLOWED if target in TRANSITIONS[current] else REFUSED for target in S}


def test_a_transition_from_a_stale_state_is_refused(db: Engine, database_url: str) -> None:
    """The UPDATE is conditional on the state read: of two concurrent transitions, one gets 409."""
    job = add_job(db, seed(db), S.Running)
    in_transaction(database_url, lambda conn: job_states.transition(conn, job, S.Successful))
    with pytest.raises(PodiumError) as lost:
        in_transaction(database_url, lambda conn: job_states.transition(conn, job, S.Faulted))
    assert lost.value.status == 409 and job_row(db, job["id"])["state"] == int(S.Successful)


APPLIED, AS_IS, TOO_LATE, STOPS = "applied", "as is", "too late (409)", "Stopped instead"
RUNNING, SUCCESSFUL, FAULTED, STOPPED, SUSPENDED = (
    S.Running,
    S.Successful,
    S.Faulted,
    S.Stopped,
    S.Suspended,
)
# job state: {reported state: outcome}. Suspended: the job's process asked to wait (a job asked to stop
# meanwhile ends Stopped instead).
REPORTS: dict[JobState, dict[JobState, str]] = {
    S.Pending: {
        RUNNING: APPLIED,
        SUCCESSFUL: REFUSED,
        FAULTED: APPLIED,
        STOPPED: APPLIED,
        SUSPENDED: REFUSED,
    },
    S.Running: {RUNNING: AS_IS, SUCCESSFUL: APPLIED, FAULTED: APPLIED, STOPPED: APPLIED, SUSPENDED: APPLIED},
    # Running from a job asked to stop meanwhile: the robot learns of the stop from its commands
    S.Stopping: {RUNNING: AS_IS, SUCCESSFUL: APPLIED, FAULTED: APPLIED, STOPPED: APPLIED, SUSPENDED: STOPS},
    S.Terminating: {
        RUNNING: AS_IS,
        SUCCESSFUL: REFUSED,
        FAULTED: APPLIED,
        STOPPED: APPLIED,
        SUSPENDED: STOPS,
    },
    S.Suspended: {
        RUNNING: REFUSED,
        SUCCESSFUL: REFUSED,
        FAULTED: APPLIED,
        STOPPED: APPLIED,
        SUSPENDED: AS_IS,
    },
    S.Resumed: {
        RUNNING: APPLIED,
        SUCCESSFUL: REFUSED,
        FAULTED: APPLIED,
        STOPPED: APPLIED,
        SUSPENDED: REFUSED,
    },
    # an ended job: a repeated report is answered as it is, any other comes too late
    S.Faulted: {
        RUNNING: TOO_LATE,
        SUCCESSFUL: TOO_LATE,
        FAULTED: AS_IS,
        STOPPED: TOO_LATE,
        SUSPENDED: TOO_LATE,
    },
    S.Successful: {
        RUNNING: TOO_LATE,
        SUCCESSFUL: AS_IS,
        FAULTED: TOO_LATE,
        STOPPED: TOO_LATE,
        SUSPENDED: TOO_LATE,
    },
    S.Stopped: {
        RUNNING: TOO_LATE,
        SUCCESSFUL: TOO_LATE,
        FAULTED: TOO_LATE,
        STOPPED: AS_IS,
        SUSPENDED: TOO_LATE,
    },
}
# A Suspended report says what the job waits for: here a time an hour away.
LATER = (utcnow() + dt.timedelta(hours=1)).isoformat()
WAITS = [{"interruptId": "0", "triggerType": "Timer", "resumeTime": LATER}]


def test_the_reports_table_has_every_reportable_state() -> None:
    assert all(set(row) == set(job_results.REPORTABLE.values()) for row in REPORTS.values())


def _report(db: Engine, url: str, where: Seed, current: JobState, reported: JobState) -> str:
    """A robot's report on a new job in ``current`` that it holds; checks what was written."""
    job = add_job(db, where, current)
    body: dict[str, Any] = {"state": reported.name, "info": "told by the robot"}
    if reported is SUSPENDED:
        body["resumeTriggers"] = WAITS
    else:
        body["outputArguments"] = {"answer": 42}
    try:
        answered = in_transaction(
            url, lambda conn: job_results.report(conn, where.tenant_id, where.robot_id, job["key"], body)
        )
    except PodiumError as error:
        assert job_row(db, job["id"])["state"] == int(current)
        assert event_types(db, where, job["key"]) == []
        return {400: REFUSED, 409: TOO_LATE}.get(error.status, f"{error.status}: {error.message}")
    after = job_row(db, job["id"])
    if answered is current and after["state"] == int(current):
        assert after["info"] is None and event_types(db, where, job["key"]) == []
        return AS_IS
    if reported is SUSPENDED and answered is S.Stopped:
        assert after["state"] == int(S.Stopped) and event_types(db, where, job["key"]) == ["job.stopped"]
        return STOPS
    assert answered is reported and after["state"] == int(reported)
    assert after["info"] == "told by the robot"
    assert after["output_arguments"] == (None if reported is SUSPENDED else '{"answer":42}')
    assert event_types(db, where, job["key"]) == [f"job.{reported.name.lower()}"]
    return APPLIED


@pytest.mark.parametrize("current", rows(REPORTS))
def test_report(db: Engine, database_url: str, current: JobState) -> None:
    where = seed(db)
    outcomes = {
        reported: _report(db, database_url, where, current, reported) for reported in REPORTS[current]
    }
    assert outcomes == REPORTS[current]


def test_only_the_robot_holding_the_job_reports_on_it(db: Engine, database_url: str) -> None:
    where = seed(db)
    job = add_job(db, where, S.Running, robot_id=None)
    body = {"state": "Faulted"}
    with pytest.raises(PodiumError) as refused:
        in_transaction(
            database_url,
            lambda conn: job_results.report(conn, where.tenant_id, where.robot_id, job["key"], body),
        )
    assert (refused.value.status, refused.value.code) == (403, 1202)
    assert job_row(db, job["id"])["state"] == int(S.Running)


def _claim(
    db: Engine, where: Seed, job: dict[str, Any], expires: dt.datetime, started_for: int | None
) -> None:
    with db.begin() as conn:
        conn.execute(
            insert(schema_robots.job_claims).values(
                job_id=job["id"],
                tenant_id=where.tenant_id,
                robot_id=where.robot_id,
                assigned_robot_id=started_for,
                token="t" * 36,
                expires_at=expires,
            )
        )


CLAIMED, UNCLAIMED = "claim held", "no claim"
# job state: {the robot's claim row: what its Successful report answers}. A report acknowledges the
# claim; a job that went back to Pending was withdrawn from the robot (409: it must not have run it).
SETTLED: dict[JobState, dict[str, str]] = {
    S.Running: {CLAIMED: SUCCESSFUL.name, UNCLAIMED: SUCCESSFUL.name},  # no claim: acknowledged earlier
    S.Stopping: {CLAIMED: SUCCESSFUL.name, UNCLAIMED: SUCCESSFUL.name},
    S.Pending: {CLAIMED: TOO_LATE, UNCLAIMED: TOO_LATE},
}


def _settle(db: Engine, url: str, where: Seed, current: JobState, claim: str) -> str:
    job = add_job(db, where, current)
    if claim == CLAIMED:
        _claim(db, where, job, utcnow() + dt.timedelta(minutes=1), None)
    try:
        answered = in_transaction(
            url,
            lambda conn: robot_protocol.report(
                conn, where.tenant_id, where.robot_id, job["key"], {"state": "Successful"}, None
            ),
        )
    except PodiumError as error:
        assert job_row(db, job["id"])["state"] == int(current)
        return TOO_LATE if error.status == 409 else f"{error.status}: {error.message}"
    with db.connect() as conn:
        expires = conn.execute(
            select(schema_robots.job_claims.c.expires_at).where(
                schema_robots.job_claims.c.job_id == job["id"]
            )
        ).scalar()
    assert expires is None  # acknowledged (or there was no claim)
    return answered.name


@pytest.mark.parametrize("current", rows(SETTLED))
def test_a_report_settles_the_claim(db: Engine, database_url: str, current: JobState) -> None:
    where = seed(db)
    outcomes = {claim: _settle(db, database_url, where, current, claim) for claim in SETTLED[current]}
    assert outcomes == SETTLED[current]


ANY_ROBOT, ITS_ROBOT = "started for any robot", "started for its robot"
# job state: {whom the job was started for: (state, robot) once its unacknowledged claim expired}
WITHDRAWN: dict[JobState, dict[str, tuple[JobState, str | None]]] = {
    # back to Pending, for any eligible robot or for the robot it was started for
    S.Running: {ANY_ROBOT: (S.Pending, None), ITS_ROBOT: (S.Pending, ITS_ROBOT)},
    # asked to stop before its robot ever had it
    S.Stopping: {ANY_ROBOT: (S.Stopped, ITS_ROBOT), ITS_ROBOT: (S.Stopped, ITS_ROBOT)},
    S.Terminating: {ANY_ROBOT: (S.Stopped, ITS_ROBOT), ITS_ROBOT: (S.Stopped, ITS_ROBOT)},
    # ended meanwhile: left as it is (the sweep drops the claim)
    S.Successful: {ANY_ROBOT: (S.Successful, ITS_ROBOT)},
}


def _withdraw(db: Engine, url: str, current: JobState, started_for: str) -> tuple[JobState, str | None]:
    where = seed(db)  # a tenant of its own: the sweep looks at every claim
    job = add_job(db, where, current)
    _claim(
        db,
        where,
        job,
        utcnow() - dt.timedelta(seconds=1),
        where.robot_id if started_for == ITS_ROBOT else None,
    )
    returned = in_transaction(url, job_claims.withdraw_expired)
    row = job_row(db, job["id"])
    assert returned == (1 if row["state"] == int(S.Pending) else 0)
    with db.connect() as conn:
        assert conn.execute(select(schema_robots.job_claims.c.job_id)).all() == []
    robot = {None: None, where.robot_id: ITS_ROBOT}.get(row["robot_id"], "another robot")
    return JobState(row["state"]), robot


@pytest.mark.parametrize("current", rows(WITHDRAWN))
def test_an_unacknowledged_claim_is_withdrawn(db: Engine, database_url: str, current: JobState) -> None:
    outcomes = {
        started_for: _withdraw(db, database_url, current, started_for) for started_for in WITHDRAWN[current]
    }
    assert outcomes == WITHDRAWN[current]
