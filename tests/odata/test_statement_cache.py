"""Statements kept per filter template (odata/query.py) answer every request with its own values."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from podium.domain.enums import JobState
from podium.odata import query
from tests.factories import Seeder
from tests.support import Api, assert_error

# robot id -> states of its jobs
JOBS = {
    1: [JobState.Successful, JobState.Successful, JobState.Faulted],
    2: [JobState.Successful, JobState.Faulted, JobState.Faulted, JobState.Faulted],
    3: [JobState.Pending],
}


@pytest.fixture
def seeded(api: Api, db: Engine) -> Api:
    seeder = Seeder(db, api.tenant.tenant_id, api.tenant.shared_folder_id)
    seeder.release(1, "7b2f0a8e-0f7c-4f0b-9d0e-5f1a2c3b4d5e", "Invoices")
    next_id = 1
    for robot_id, states in JOBS.items():
        seeder.robot(robot_id, f"robot-{robot_id}")
        for state in states:
            seeder.job(next_id, robot_id=robot_id, release_id=1, state=int(state), info=f"job of {robot_id}")
            next_id += 1
    seeder.finish()
    return api


def jobs(api: Api, filter_text: str, **options: str) -> dict[str, Any]:
    params = "&".join(f"${name}={value}" for name, value in options.items())
    body: dict[str, Any] = api.ok(api.get(f"/odata/Jobs?$filter={filter_text}&{params}"))
    return body


def expected(robot_id: int, state: JobState) -> int:
    return sum(1 for found in JOBS.get(robot_id, []) if found is state)


def test_one_template_answers_each_request_with_its_values(seeded: Api) -> None:
    query._PAGES.clear()
    for robot_id, state in [
        (1, JobState.Successful),
        (2, JobState.Faulted),
        (2, JobState.Successful),
        (3, JobState.Faulted),
        (9, JobState.Successful),
        (1, JobState.Faulted),
    ]:
        body = jobs(seeded, f"Robot/Id eq {robot_id} and State eq '{state.name}'", top="10", count="true")
        assert body["@odata.count"] == expected(robot_id, state)
        assert len(body["value"]) == expected(robot_id, state)
        assert {job["State"] for job in body["value"]} <= {state.name}
        assert {job["Info"] for job in body["value"]} <= {f"job of {robot_id}"}
    assert len(query._PAGES) == 1  # every request above shared one statement


def test_enum_by_number_and_by_name_share_a_template(seeded: Api) -> None:
    by_name = jobs(seeded, "Robot/Id eq 2 and State eq 'Faulted'")
    by_number = jobs(seeded, f"Robot/Id eq 2 and State eq '{int(JobState.Faulted)}'")
    assert by_name["@odata.count"] == by_number["@odata.count"] == 3


def test_a_bad_literal_in_a_known_template_is_still_400(seeded: Api) -> None:
    jobs(seeded, "Robot/Id eq 1 and State eq 'Successful'")
    response = seeded.get("/odata/Jobs?$filter=Robot/Id eq 1 and State eq 'Sleeping'")
    assert_error(response, 400)
    response = seeded.get("/odata/Jobs?$filter=Robot/Id eq 99999999999999999999 and State eq 'Successful'")
    assert_error(response, 400)


def test_filters_whose_literals_shape_the_sql_are_not_reused_wrongly(seeded: Api) -> None:
    assert jobs(seeded, "contains(Info,'of 1')")["@odata.count"] == 3
    assert jobs(seeded, "contains(Info,'of 2')")["@odata.count"] == 4
    assert jobs(seeded, "substring(Info,7) eq '3'")["@odata.count"] == 1
    assert jobs(seeded, "substring(Info,4) eq '3'")["@odata.count"] == 0
    assert jobs(seeded, "Robot/Id eq null")["@odata.count"] == 0
    assert jobs(seeded, "Robot/Id ne null")["@odata.count"] == 8


def test_text_tests_share_a_template_with_their_own_patterns(seeded: Api) -> None:
    query._PAGES.clear()
    assert jobs(seeded, "indexof(Info,'of 1') ne -1")["@odata.count"] == 3
    assert jobs(seeded, "indexof(Info,'of 2') ne -1")["@odata.count"] == 4
    assert jobs(seeded, "indexof(Info,'of _') ne -1")["@odata.count"] == 0  # _ is no wildcard
    assert jobs(seeded, "indexof(Info,'of 2') eq -1")["@odata.count"] == 4  # "not found": another shape
    assert jobs(seeded, "indexof(Info,'of 2') eq 0")["@odata.count"] == 0
    assert jobs(seeded, "indexof(Info,'job') eq 0")["@odata.count"] == 8
    assert jobs(seeded, "contains(Info,'of 3')")["@odata.count"] == 1
    assert jobs(seeded, "contains(Info,'of %')")["@odata.count"] == 0
    assert jobs(seeded, "startswith(Info,'job of 3')")["@odata.count"] == 1
    assert jobs(seeded, "startswith(Info,'of 3')")["@odata.count"] == 0


def test_skip_and_top_are_part_of_the_statement(seeded: Api) -> None:
    first = jobs(seeded, "Robot/Id eq 2", top="2", orderby="Id")
    second = jobs(seeded, "Robot/Id eq 2", top="2", skip="2", orderby="Id")
    beyond = jobs(seeded, "Robot/Id eq 2", top="2", skip="10", orderby="Id")
    ids = [job["Id"] for job in first["value"]] + [job["Id"] for job in second["value"]]
    assert ids == sorted(ids) and len(set(ids)) == 4
    assert beyond["value"] == [] and beyond["@odata.count"] == 4


@pytest.mark.parametrize(
    "url",
    [
        "/odata/Jobs?$filter=Robot/Id eq 2 and State eq 'Faulted'&$top=10&$count=true",
        "/odata/Jobs?$filter=CreationTime gt 2017-01-01T00:00:00Z&$expand=Robot,Release&$orderby=Id desc",
        "/odata/Jobs?$select=Id,State,StartTime,Info&$filter=indexof(Info,'of 1') ne -1",
        "/odata/Jobs?$filter=Id eq 999&$count=true",
    ],
)
def test_a_statement_run_again_answers_as_the_first_time(seeded: Api, database_url: str, url: str) -> None:
    """From its second run a kept statement goes to the driver's cursor on PostgreSQL
    (``odata/driver_rows.py``): the same rows, types and count as through SQLAlchemy."""
    from podium.odata import driver_rows

    query._PAGES.clear()
    bodies = [seeded.ok(seeded.get(url)) for _ in range(3)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert "value" in bodies[0]
    if database_url.startswith("postgresql"):
        assert len(driver_rows._STATEMENTS) >= 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_drivers_data_errors_are_known_as_such(database_url: str) -> None:
    """A value PostgreSQL cannot evaluate raises, on the driver's cursor, an error of
    ``data_errors()`` (the list path answers it 400, as SQLAlchemy's DataError)."""
    import asyncio

    import sqlalchemy as sa

    from podium.db.engine import Database
    from podium.odata.driver_rows import DriverStatement, data_errors

    async def run(value: str) -> list[tuple[object, ...]]:
        db = Database(database_url)
        try:
            async with db.read() as conn:
                statement = sa.select(sa.cast(sa.bindparam("v", "0"), sa.Integer).label("n"))
                return await DriverStatement(statement, conn.dialect).rows(conn, {"v": value})
        finally:
            await db.dispose()

    assert asyncio.run(run("42")) == [(42,)]
    with pytest.raises(data_errors()):
        asyncio.run(run("forty-two"))
