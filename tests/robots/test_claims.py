"""Job claims (in process, both backends): a robot acknowledges the job it received with the claim's
token; a claim not acknowledged in time is withdrawn by the sweep (the job goes back to Pending, to
its own robot if it was started for one) and a late acknowledgement fails; a stop asked meanwhile
ends the job Stopped."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from podium.db.schema_robots import job_claims
from podium.db.types import utcnow
from tests.factories import seed_machine, start_jobs
from tests.robots.helpers import FOLDER, RobotClient, connect, job
from tests.support import Api, assert_error

STOP = "/odata/Jobs/UiPath.Server.Configuration.OData.StopJobs"


def _expire_claims(api: Api, db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(
            update(job_claims)
            .where(job_claims.c.expires_at.is_not(None))
            .values(expires_at=utcnow().replace(year=2000))
        )
    api.client.portal.call(api.client.app.state.services.run_now, "robot-sweep")  # type: ignore[attr-defined]


def _ack(robot: RobotClient, assignment: dict[str, str], token: str | None = None) -> object:
    return robot.report(assignment["key"], "Running", claim=token or assignment["claim"])


def test_acknowledged_claims_stay_unacknowledged_ones_return(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db, robots=2)
    first, second = connect(api, machine)
    start_jobs(api, 2)
    [kept] = first.next()["jobs"]
    [lost] = second.next()["jobs"]
    assert_error(_ack(first, kept, "0" * 36), 409)  # not this claim's token
    assert_error(second.report(kept["key"], "Running", claim=kept["claim"]), 409)  # not its claim
    assert api.ok(_ack(first, kept)) == {"state": "Running"}
    assert api.ok(_ack(first, kept)) == {"state": "Running"}  # acknowledging again is harmless
    assert_error(first.report(kept["key"], "Successful", claim=kept["claim"]), 400)

    _expire_claims(api, db)  # `lost` was never acknowledged: back to Pending, for any robot
    assert job(api, kept["id"])["State"] == "Running"
    returned = job(api, lost["id"])
    assert returned["State"] == "Pending" and returned["RobotId"] is None
    assert returned["StartTime"] is None and returned["HostMachineName"] is None
    assert_error(_ack(second, lost), 409)  # too late: the robot must not run it
    assert_error(second.report(lost["key"], "Successful"), 409)
    second.running.clear()
    [again] = second.next()["jobs"]
    assert again["id"] == lost["id"] and again["claim"] != lost["claim"]
    api.ok(second.report(again["key"], "Successful"))  # a report without a token acknowledges too
    api.ok(first.report(kept["key"], "Successful"))
    assert {job(api, j)["State"] for j in (kept["id"], lost["id"])} == {"Successful"}
    _expire_claims(api, db)  # the sweep also drops the claims of ended jobs
    with db.connect() as conn:
        assert conn.execute(select(job_claims.c.job_id)).all() == []


def test_a_job_started_for_a_robot_returns_to_it_or_stops(api: Api, db: Engine) -> None:
    machine = seed_machine(api, db, robots=2)
    first, second = connect(api, machine)
    [started] = start_jobs(api, Strategy="Specific", RobotIds=[first.robot_id])
    [lost] = first.next()["jobs"]
    _expire_claims(api, db)
    returned = job(api, started["Id"])
    assert returned["State"] == "Pending" and returned["RobotId"] == first.robot_id
    assert second.next()["jobs"] == []  # still the first robot's job
    first.running.clear()
    [again] = first.next()["jobs"]
    api.ok(api.post(STOP, {"jobIds": [started["Id"]], "strategy": "SoftStop"}, folder=FOLDER))
    _expire_claims(api, db)  # asked to stop before its robot ever acknowledged it
    stopped = job(api, started["Id"])
    assert stopped["State"] == "Stopped" and "before its robot received it" in stopped["Info"]
    assert_error(_ack(first, again), 409)
    assert_error(_ack(first, lost), 409)
