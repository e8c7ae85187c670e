"""Query options over computed rows (``odata/computed.py``): the filter compiler's own semantics on
rows a handler built in Python, then $orderby, $skip/$top, $count and $select."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import pytest

from podium.errors import PodiumError
from podium.odata.computed import RowType, query_rows
from podium.odata.model import Edm, Field
from podium.odata.options import ExpandItem, QueryOptions


class Colour(enum.IntEnum):
    Red = 1
    Green = 2


ROW = RowType(
    "ThingDto",
    [
        Field("Name", Edm.STRING),
        Field("Size", Edm.INT64),
        Field("Active", Edm.BOOLEAN),
        Field("Seen", Edm.DATETIME),
        Field("Colour", Edm.ENUM, enum=Colour),
        Field("Tags", Edm.UNTYPED),
        Field("Secret", Edm.STRING, write_only=True),
    ],
)
MAY_FIRST = dt.datetime(2023, 5, 1, tzinfo=dt.UTC)
ROWS: list[dict[str, Any]] = [
    {"Name": "beta", "Size": 3, "Active": True, "Seen": "2024-01-02T10:00:00Z", "Colour": "Red", "Tags": []},
    {"Name": "alpha", "Size": 10, "Active": False, "Seen": None, "Colour": "Green", "Tags": ["a"]},
    {"Name": "Gamma_1", "Size": None, "Active": True, "Seen": "2024-03-01T00:00:00.5Z", "Colour": None},
    {"Name": None, "Size": 3, "Active": None, "Seen": MAY_FIRST, "Colour": "Red"},
]


def names(**options: Any) -> list[str | None]:
    return [row["Name"] for row in query_rows(ROW, ROWS, QueryOptions(**options)).rows]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Size eq 3", ["beta", None]),
        ("Size gt 3", ["alpha"]),
        ("Size ne 3", ["alpha", "Gamma_1"]),  # null ne 3 is true
        ("not (Size eq 3)", ["alpha", "Gamma_1"]),
        ("Size eq null", ["Gamma_1"]),
        ("Name eq null", [None]),
        ("contains(Name,'a')", ["beta", "alpha", "Gamma_1"]),
        ("startswith(Name,'g')", []),  # case-sensitive, as on the database
        ("contains(Name,'_')", ["Gamma_1"]),  # '_' is a character, not a wildcard
        ("tolower(Name) eq 'gamma_1'", ["Gamma_1"]),
        ("Active", ["beta", "Gamma_1"]),
        ("Active eq false", ["alpha"]),
        ("Colour eq 'Red'", ["beta", None]),
        ("Colour eq 2", ["alpha"]),
        ("Seen gt 2024-01-01T00:00:00Z", ["beta", "Gamma_1"]),
        ("Seen lt 2024-01-02T10:00:00.001Z and year(Seen) ge 2024", ["beta"]),
        ("Size in (3, 10) and Name ne 'beta'", ["alpha", None]),
        ("length(Name) eq 5", ["alpha"]),
    ],
)
def test_filter_means_what_it_means_on_a_table(text: str, expected: list[str | None]) -> None:
    assert names(filter=text) == expected


def test_orderby_then_the_lists_own_order() -> None:
    # null sorts lowest (first ascending, last descending), as on SQL Server; ties keep the list's order
    assert names(orderby="Size desc") == ["alpha", "beta", None, "Gamma_1"]
    assert names(orderby="Size") == ["Gamma_1", "beta", None, "alpha"]
    assert names(orderby="Colour, Name desc") == ["Gamma_1", "beta", None, "alpha"]


def test_paging_count_and_select() -> None:
    page = query_rows(ROW, ROWS, QueryOptions(filter="Size eq 3", skip=1, top=5, select=["Size", "Name"]))
    assert page.rows == [{"Size": 3, "Name": None}] and page.count == 2
    assert query_rows(ROW, ROWS, QueryOptions(top=1, count=False)) == query_rows(
        ROW, ROWS[:1], QueryOptions(count=False)
    )
    assert query_rows(ROW, ROWS, QueryOptions(top=0)).rows == []
    assert query_rows(ROW, ROWS, QueryOptions()).count == 4
    assert query_rows(ROW, [], QueryOptions(filter="Size eq 1", orderby="Name")).rows == []
    assert query_rows(ROW, ROWS, QueryOptions()).rows == ROWS


@pytest.mark.parametrize(
    "options",
    [
        {"filter": "Nope eq 1"},
        {"filter": "Tags eq 'a'"},  # a JSON value
        {"filter": "Secret eq 'x'"},  # write-only
        {"filter": "Thing/Name eq 'x'"},
        {"filter": "Size eq 'big'"},
        {"filter": "Colour eq 'Blue'"},
        {"filter": "Size eq"},
        {"orderby": "Nope"},
        {"select": ["Nope"]},
        {"select": ["name"]},  # names are case-sensitive, as on the stored sets
        {"expand": [ExpandItem("Thing")]},
    ],
)
def test_bad_options_are_400(options: dict[str, Any]) -> None:
    with pytest.raises(PodiumError) as raised:
        query_rows(ROW, ROWS, QueryOptions(**options))
    assert raised.value.status == 400
