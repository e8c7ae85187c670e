"""``Nav/Property eq <value>`` on a property unique in the tenant (``Robot/Name``) finds the row by a
subquery instead of a join (``EntityQuery.key_lookup``): the same answers as the join, in the caller's
tenant only, on both databases."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import pytest
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, func
from sqlalchemy.engine import Engine

from podium.api.jobs import JOBS
from podium.db import schema
from podium.domain.enums import JobState
from podium.odata import query as query_module
from podium.odata.options import QueryOptions
from podium.odata.query import EntityQuery, unique_in_tenant
from podium.odata.registry import registry
from tests.factories import Seeder
from tests.support import Api, create_tenant_sync

FAULTED = int(JobState.Faulted)


def _seed(api: Api, db: Engine, database_url: str) -> None:
    """Tenant Default: DocBot's job 1, OtherBot's job 2, job 3 without a robot. Tenant Second: its own
    DocBot (another robot) with job 4."""
    here = Seeder(db, api.tenant.tenant_id, api.tenant.shared_folder_id)
    here.environment(1, "Env")
    here.release(1, "00000000-0000-0000-0000-000000000001", "Release", environment_id=1)
    here.robot(749, "DocBot")
    here.robot(750, "OtherBot")
    here.job(1, robot_id=749, release_id=1, state=FAULTED)
    here.job(2, robot_id=750, release_id=1, state=FAULTED)
    here.job(3, robot_id=None, release_id=1, state=FAULTED)
    second = create_tenant_sync(database_url, "Second")
    there = Seeder(db, second.tenant_id, second.shared_folder_id)
    there.environment(2, "Env")
    there.release(2, "00000000-0000-0000-0000-000000000002", "Release", environment_id=2)
    there.robot(900, "DocBot")
    there.job(4, robot_id=900, release_id=2, state=FAULTED)
    here.finish()


def _ids(api: Api, query: str) -> tuple[list[int], Any]:
    body = api.ok(api.get(f"/odata/Jobs?$count=true&{query}"))
    return [row["Id"] for row in body["value"]], body["@odata.count"]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("$filter=Robot/Name eq 'DocBot'", [1]),  # not tenant Second's DocBot (job 4)
        ("$filter='DocBot' eq Robot/Name", [1]),
        ("$filter=Robot/Name eq 'OtherBot'", [2]),  # the same template again, another value
        ("$filter=Robot/Name eq 'Nobody'", []),
        ("$filter=Robot/Name eq null", [3]),
        ("$filter=Robot/Name ne 'DocBot'", [2, 3]),
        ("$filter=Robot/Name eq 'DocBot' or Robot/Name eq 'OtherBot'", [1, 2]),
        ("$filter=not (Robot/Name eq 'DocBot')", [2, 3]),  # job 3 has no robot: OData's null eq 'x' is false
        ("$filter=Robot/Name eq 'DocBot' and State eq 'Faulted'&$expand=Robot", [1]),
        ("$filter=Robot/Name eq 'DocBot'&$orderby=Robot/Name desc", [1]),
        ("$filter=Robot/Username eq null and Robot/Name eq 'OtherBot'", [2]),  # a join beside
    ],
)
def test_robot_name_filters_answer_as_the_join(
    api: Api, db: Engine, database_url: str, query: str, ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(api, db, database_url)
    assert _ids(api, query) == (ids, len(ids))
    assert _ids(api, query) == (ids, len(ids))  # from the kept statement
    # the join's answer, with no key lookup (and no statement kept from before)
    monkeypatch.setattr(EntityQuery, "key_lookup", lambda _self, _path: None)
    monkeypatch.setattr(query_module, "_PAGES", OrderedDict())
    assert _ids(api, query) == (ids, len(ids))


def test_expanded_robot_is_the_one_found(api: Api, db: Engine, database_url: str) -> None:
    _seed(api, db, database_url)
    body = api.ok(api.get("/odata/Jobs?$filter=Robot/Name eq 'DocBot'&$expand=Robot&$select=Id"))
    assert [(row["Id"], row["Robot"]["Id"], row["Robot"]["Name"]) for row in body["value"]] == [
        (1, 749, "DocBot")
    ]


def _statement(tenant_id: int | None, text: str) -> str:
    builder = EntityQuery(registry, JOBS, "postgresql", tenant_id=tenant_id)
    query, _count, _shape, _params = builder.page(QueryOptions(filter=text, count=True), [])
    return str(query)


def test_a_query_of_one_tenant_finds_the_robot_without_a_join() -> None:
    found = _statement(7, "Robot/Name eq 'DocBot'")
    assert "JOIN" not in found
    assert "jobs.robot_id = (SELECT key_robot.id" in found
    assert "key_robot.tenant_id = " in found
    # not a key, or no tenant: the join as before
    assert "LEFT OUTER JOIN robots" in _statement(7, "Robot/Username eq 'x'")
    assert "LEFT OUTER JOIN robots" in _statement(None, "Robot/Name eq 'DocBot'")


def test_unique_in_tenant_reads_the_schema() -> None:
    assert unique_in_tenant(schema.robots, "name")  # (tenant_id, name)
    assert unique_in_tenant(schema.robots, "key")  # key alone
    assert not unique_in_tenant(schema.robots, "username")
    assert not unique_in_tenant(schema.releases, "name")  # unique in a folder only
    table = Table(
        "things",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("tenant_id", Integer),
        Column("code", String),
        Column("label", String),
        Column("alias", String),
        Index("partial", "tenant_id", "code", unique=True, postgresql_where=Column("code") != ""),
        Index("expression", "tenant_id", "label", func.lower(Column("alias")), unique=True),
        Index("plain", "alias", unique=False),
    )
    assert unique_in_tenant(table, "id")
    assert not unique_in_tenant(table, "code")  # partial
    assert not unique_in_tenant(table, "label")  # with an expression
    assert not unique_in_tenant(table, "alias")
