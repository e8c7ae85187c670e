"""The robot session state machine (``domain.robot_sessions``), called directly on a real database
(both backends): what a heartbeat, a busy refresh, a goodbye, a (re)connection and the silence sweep do
to a session in each state, and to the jobs its robot holds. Each table has a row per starting point and
a column per variation; each row is one test case, which tries every column on a robot of its own and
compares the outcomes with the row.

A session is Available or Busy while its robot reports (Busy while it holds a job), Disconnected once
it said goodbye or went silent, Unknown before it ever reported. Every change records a
``robot.<state>`` event; a repeated state records none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from podium.db import schema_robots
from podium.db.types import utcnow
from podium.domain import robot_sessions
from podium.domain.enums import JobState, RobotState
from podium.errors import PodiumError
from tests.robots.domain_support import (
    AGENT,
    Seed,
    add_job,
    add_session,
    event_types,
    in_transaction,
    job_row,
    seed,
    session_state,
)

R = RobotState
GONE = "409: connect again"
IDLE, BUSY = "idle", "busy"
NO_JOB = "no job"


def rows(table: dict[Any, Any]) -> list[Any]:
    return [pytest.param(key, id=getattr(key, "name", str(key))) for key in table]


def _events(before: RobotState, after: RobotState) -> list[str]:
    return [] if before is after else [f"robot.{after.name.lower()}"]


def _job(db: Engine, where: Seed, job_state: JobState | str) -> dict[str, Any] | None:
    return add_job(db, where, job_state) if isinstance(job_state, JobState) else None


def _job_state(db: Engine, job: dict[str, Any] | None) -> JobState | str:
    return NO_JOB if job is None else JobState(job_row(db, job["id"])["state"])


# session state: {what the beat says: the state afterwards} (the session's own agent beating)
HEARTBEATS: dict[RobotState, dict[str, RobotState]] = {
    R.Available: {IDLE: R.Available, BUSY: R.Busy},
    R.Busy: {IDLE: R.Available, BUSY: R.Busy},
    R.Disconnected: {IDLE: R.Available, BUSY: R.Busy},  # it reports again: alive again
    R.Unknown: {IDLE: R.Available, BUSY: R.Busy},
}


def _heartbeat(db: Engine, url: str, start: RobotState, beat: str) -> RobotState | None:
    where = seed(db)
    add_session(db, where, start)
    in_transaction(
        url, lambda conn: robot_sessions.heartbeat(conn, where.tenant_id, where.robot_id, AGENT, beat == BUSY)
    )
    end = session_state(db, where)
    assert end is not None and event_types(db, where, str(where.robot_id)) == _events(start, end)
    return end


@pytest.mark.parametrize("start", rows(HEARTBEATS))
def test_heartbeat(db: Engine, database_url: str, start: RobotState) -> None:
    outcomes = {beat: _heartbeat(db, database_url, start, beat) for beat in HEARTBEATS[start]}
    assert outcomes == HEARTBEATS[start]


@pytest.mark.parametrize("session", ["another agent's", "none"])
def test_heartbeat_without_its_session_must_connect_again(
    db: Engine, database_url: str, session: str
) -> None:
    where = seed(db)
    if session != "none":
        add_session(db, where, R.Available, agent_id="agent-2")
    with pytest.raises(PodiumError) as gone:
        in_transaction(
            database_url,
            lambda conn: robot_sessions.heartbeat(conn, where.tenant_id, where.robot_id, AGENT, False),
        )
    assert gone.value.status == 409 and event_types(db, where) == []


HOLDS_JOB, NO_JOB_HELD = "holds a running job", "holds none"
# session state: {what the robot holds: the state after a busy refresh (a job was claimed or ended)}
REFRESHES: dict[RobotState, dict[str, RobotState]] = {
    R.Available: {HOLDS_JOB: R.Busy, NO_JOB_HELD: R.Available},
    R.Busy: {HOLDS_JOB: R.Busy, NO_JOB_HELD: R.Available},
    R.Unknown: {HOLDS_JOB: R.Busy, NO_JOB_HELD: R.Available},
    # only a connected robot is Busy or Available
    R.Disconnected: {HOLDS_JOB: R.Disconnected, NO_JOB_HELD: R.Disconnected},
}


def _refresh(db: Engine, url: str, start: RobotState, holds: str) -> RobotState | None:
    where = seed(db)
    add_session(db, where, start)
    if holds == HOLDS_JOB:
        add_job(db, where, JobState.Running)
    in_transaction(url, lambda conn: robot_sessions.refresh_busy(conn, where.tenant_id, where.robot_id))
    end = session_state(db, where)
    assert end is not None and event_types(db, where, str(where.robot_id)) == _events(start, end)
    return end


@pytest.mark.parametrize("start", rows(REFRESHES))
def test_refresh_busy(db: Engine, database_url: str, start: RobotState) -> None:
    outcomes = {holds: _refresh(db, database_url, start, holds) for holds in REFRESHES[start]}
    assert outcomes == REFRESHES[start]


# session state: {the job its robot holds: (session state, job state) after the agent says goodbye}
GOODBYES: dict[RobotState, dict[JobState | str, tuple[RobotState, JobState | str]]] = {
    R.Available: {NO_JOB: (R.Disconnected, NO_JOB)},
    R.Busy: {
        JobState.Running: (R.Disconnected, JobState.Faulted),
        JobState.Stopping: (R.Disconnected, JobState.Faulted),
        JobState.Terminating: (R.Disconnected, JobState.Faulted),
        JobState.Successful: (R.Disconnected, JobState.Successful),  # ended already: left as it is
    },
    R.Disconnected: {NO_JOB: (R.Disconnected, NO_JOB)},
    R.Unknown: {NO_JOB: (R.Disconnected, NO_JOB)},
}


def _goodbye(db: Engine, url: str, start: RobotState, holds: JobState | str) -> tuple[Any, Any]:
    where = seed(db)
    add_session(db, where, start)
    job = _job(db, where, holds)
    in_transaction(
        url, lambda conn: robot_sessions.close_session(conn, where.tenant_id, where.robot_id, AGENT)
    )
    after = _job_state(db, job)
    if after is JobState.Faulted and job is not None:
        assert "disconnected" in job_row(db, job["id"])["info"]
    return session_state(db, where), after


@pytest.mark.parametrize("start", rows(GOODBYES))
def test_close_session(db: Engine, database_url: str, start: RobotState) -> None:
    outcomes = {holds: _goodbye(db, database_url, start, holds) for holds in GOODBYES[start]}
    assert outcomes == GOODBYES[start]


NEW, SAME, OTHER = "no session yet", "same agent", "another agent"
# the robot's session: {the job it holds: (session state, job state) after the agent connects}
CONNECTS: dict[str, dict[JobState | str, tuple[RobotState, JobState | str]]] = {
    NEW: {NO_JOB: (R.Available, NO_JOB), JobState.Running: (R.Busy, JobState.Running)},
    # the agent reconnects: its job goes on
    SAME: {NO_JOB: (R.Available, NO_JOB), JobState.Running: (R.Busy, JobState.Running)},
    # a new agent: the one before died, the jobs it held cannot finish
    OTHER: {
        NO_JOB: (R.Available, NO_JOB),
        JobState.Running: (R.Available, JobState.Faulted),
        JobState.Stopping: (R.Available, JobState.Faulted),
    },
}


def _connect(db: Engine, url: str, session: str, holds: JobState | str) -> tuple[Any, Any]:
    where = seed(db)
    if session != NEW:
        add_session(db, where, R.Disconnected, agent_id=AGENT if session == SAME else "agent-0")
    job = _job(db, where, holds)
    robot = {"id": where.robot_id, "tenant_id": where.tenant_id}
    opened = in_transaction(
        url,
        lambda conn: robot_sessions.open_session(
            conn,
            robot,
            machine_id=None,
            machine_name=None,
            host_machine_name="host",
            agent_id=AGENT,
            capacity=2,
            version="test",
        ),
    )
    assert opened["agent_id"] == AGENT and opened["capacity"] == 2
    return session_state(db, where), _job_state(db, job)


@pytest.mark.parametrize("session", rows(CONNECTS))
def test_open_session(db: Engine, database_url: str, session: str) -> None:
    outcomes = {holds: _connect(db, database_url, session, holds) for holds in CONNECTS[session]}
    assert outcomes == CONNECTS[session]


SILENT, REPORTING = "silent", "reporting"
# session state: {(silent for longer than the timeout?, the job it holds): (session state, job state)
# after the silence sweep}
SILENCES: dict[RobotState, dict[tuple[str, JobState | str], tuple[RobotState, JobState | str]]] = {
    R.Available: {(SILENT, NO_JOB): (R.Disconnected, NO_JOB), (REPORTING, NO_JOB): (R.Available, NO_JOB)},
    R.Busy: {
        (SILENT, JobState.Running): (R.Disconnected, JobState.Faulted),
        (REPORTING, JobState.Running): (R.Busy, JobState.Running),
    },
    R.Unknown: {(SILENT, NO_JOB): (R.Disconnected, NO_JOB)},
    R.Disconnected: {(SILENT, NO_JOB): (R.Disconnected, NO_JOB)},
}


def _sweep(db: Engine, url: str, start: RobotState, silent: str, holds: JobState | str) -> tuple[Any, Any]:
    where = seed(db)
    session = add_session(db, where, start)
    job = _job(db, where, holds)
    if silent == SILENT:
        with db.begin() as conn:
            conn.execute(
                update(schema_robots.robot_sessions)
                .where(schema_robots.robot_sessions.c.id == session["id"])
                .values(reporting_time=utcnow() - dt.timedelta(minutes=10))
            )
    in_transaction(url, lambda conn: robot_sessions.disconnect_silent(conn, dt.timedelta(minutes=2)))
    after = _job_state(db, job)
    if after is JobState.Faulted and job is not None:
        assert "stopped reporting" in job_row(db, job["id"])["info"]
    return session_state(db, where), after


@pytest.mark.parametrize("start", rows(SILENCES))
def test_disconnect_silent(db: Engine, database_url: str, start: RobotState) -> None:
    outcomes = {
        (silent, holds): _sweep(db, database_url, start, silent, holds) for silent, holds in SILENCES[start]
    }
    assert outcomes == SILENCES[start]
