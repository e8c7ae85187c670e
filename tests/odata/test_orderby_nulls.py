"""``$orderby`` puts null lowest on both databases, as SQL Server (Orchestrator) and SQLite do: first
ascending, last descending. PostgreSQL's own default is the other way round, so on PostgreSQL a column
that may be null (or any column reached through a navigation, an outer join) is ordered with NULLS
FIRST/LAST; a NOT NULL column of the list's own table keeps the plain form its indexes serve."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from podium.api.jobs import JOBS
from podium.domain.enums import JobState
from podium.odata.query import EntityQuery
from podium.odata.registry import registry
from tests.factories import Seeder
from tests.support import Api

DONE = int(JobState.Successful)


def _seed(api: Api, db: Engine) -> None:
    """Jobs 1-4: job 2 has no robot, jobs 2 and 3 no end (and no Info)."""
    seed = Seeder(db, api.tenant.tenant_id, api.tenant.shared_folder_id)
    seed.environment(1, "Env")
    seed.release(1, "00000000-0000-0000-0000-000000000001", "Release", environment_id=1)
    seed.robot(749, "Beta")
    seed.robot(750, "Alpha")
    seed.job(1, robot_id=749, release_id=1, state=DONE, end="2018-01-02T00:00:00Z", info="b")
    seed.job(2, robot_id=None, release_id=1, state=DONE)
    seed.job(3, robot_id=750, release_id=1, state=DONE)
    seed.job(4, robot_id=750, release_id=1, state=DONE, end="2018-01-01T00:00:00Z", info="a")
    seed.finish()


@pytest.mark.parametrize(
    ("orderby", "ids"),
    [
        ("EndTime", [2, 3, 4, 1]),
        ("EndTime desc", [1, 4, 2, 3]),  # the key breaks ties, ascending
        ("Info desc, Id desc", [1, 4, 3, 2]),
        ("Robot/Name", [2, 3, 4, 1]),
        ("Robot/Name desc", [1, 3, 4, 2]),
        ("Robot/Id desc", [3, 4, 1, 2]),  # the job's own robot_id column, nullable
        ("CreationTime desc, Id desc", [4, 3, 2, 1]),
    ],
)
def test_null_sorts_lowest(api: Api, db: Engine, orderby: str, ids: list[int]) -> None:
    _seed(api, db)
    body = api.ok(api.get("/odata/Jobs", params={"$orderby": orderby}))
    assert [row["Id"] for row in body["value"]] == ids


def test_not_null_columns_keep_the_plain_order() -> None:
    query = EntityQuery(registry, JOBS, "postgresql")
    rendered = [
        str(clause.compile(dialect=postgresql.dialect()))
        for clause in query.order_by("CreationTime desc, EndTime, Robot/Name desc")
    ]
    assert rendered == [
        "jobs.creation_time DESC",
        "jobs.end_time ASC NULLS FIRST",
        "j0.name DESC NULLS LAST",
        "jobs.id ASC",
    ]
