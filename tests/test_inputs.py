"""The input readers: every accepted and refused shape, one case a row."""

from __future__ import annotations

import enum
from typing import Any

import pytest

from podium import inputs
from podium.errors import PodiumError


class Color(enum.IntEnum):
    Red = 0
    Green = 1


REFUSED: list[tuple[str, Any]] = [
    ("entity_id", True),
    ("entity_id", 0),
    ("entity_id", -3),
    ("entity_id", 2**63),
    ("entity_id", "7"),
    ("entity_id", 7.0),
    ("integer", 2**31),
    ("integer", -1),
    ("integer", False),
    ("id_list", [1, True]),
    ("id_list", []),
    ("id_list", "1,2"),
    ("id_list", [2**63]),
    ("text", ""),
    ("text", "a\x00b"),
    ("text", "x" * 257),
    ("text", 5),
    ("boolean", 1),
    ("json_object", [1]),
    ("json_list", {"a": 1}),
]


@pytest.mark.parametrize(("reader", "value"), REFUSED, ids=[f"{r}-{v!r:.20}" for r, v in REFUSED])
def test_refused_values_are_400s_naming_the_field(reader: str, value: Any) -> None:
    with pytest.raises(PodiumError) as caught:
        getattr(inputs, reader)(value, "Field")
    assert caught.value.status == 400 and "Field" in caught.value.message


ACCEPTED: list[tuple[str, Any, Any]] = [
    ("entity_id", 2**63 - 1, 2**63 - 1),
    ("integer", 0, 0),
    ("id_list", [3, 1, 3], [3, 1]),
    ("text", "Shared", "Shared"),
    ("boolean", False, False),
    ("json_object", {"a": 1}, {"a": 1}),
]


@pytest.mark.parametrize(("reader", "value", "expected"), ACCEPTED)
def test_accepted_values_come_back_checked(reader: str, value: Any, expected: Any) -> None:
    assert getattr(inputs, reader)(value, "Field") == expected


def test_an_empty_id_list_only_where_allowed() -> None:
    assert inputs.id_list(None, "ids", allow_empty=True) == []
    with pytest.raises(PodiumError):
        inputs.id_list(None, "ids")


@pytest.mark.parametrize("value", ["green", "GREEN", 1, "1"])
def test_enums_by_name_in_any_case_by_number_or_number_text(value: Any) -> None:
    assert inputs.choice(value, "Color", Color) is Color.Green


@pytest.mark.parametrize("value", ["blue", 7, "7", None, True])
def test_unknown_enum_values_list_the_names(value: Any) -> None:
    with pytest.raises(PodiumError) as caught:
        inputs.choice(value, "Color", Color)
    assert "Red, Green" in caught.value.message


@pytest.mark.parametrize(("value", "expected"), [("42", 42), ("'42'", 42), (" 7 ", 7), (9, 9)])
def test_ids_given_as_url_text(value: object, expected: int) -> None:
    assert inputs.url_id(value, "id") == expected


@pytest.mark.parametrize("value", ["0", "-1", "4x", "9" * 20, "", None, "٣"])
def test_url_text_that_is_no_id_is_refused(value: object) -> None:
    with pytest.raises(PodiumError):
        inputs.url_id(value, "id")
