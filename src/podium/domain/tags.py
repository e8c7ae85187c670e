"""Tags (``TagDto``: ``Name``, ``DisplayName``, ``Value``, ``DisplayValue``) that Orchestrator lets
clients put on assets, buckets, machines, processes, queues and triggers: JSON text in each entity's
``tags`` column (``'[]'`` by default), answered as sent (display names default to the names).

Each entity set declares the field with :func:`podium.odata.declare.tag_list` (read-only for the generic
layer) and calls :func:`apply` in its ``before_write`` hook, so that a body's ``Tags`` is checked and
kept and a body without ``Tags`` leaves them as they are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from podium.inputs import json_list, json_object, optional_text, text

MAX_TAGS = 100
MAX_TAG_TEXT = 512


def parse(body: Mapping[str, Any]) -> str | None:
    """``Tags`` of the body as stored JSON; None when the body does not set them; 400 when malformed."""
    if "Tags" not in body:
        return None
    cleaned = []
    for index, raw in enumerate(json_list(body["Tags"] or [], "Tags", max_items=MAX_TAGS)):
        tag = json_object(raw, f"Tags[{index}]")
        name = text(tag.get("Name"), f"Tags[{index}].Name", max_length=MAX_TAG_TEXT)
        value = optional_text(tag.get("Value"), f"Tags[{index}].Value", max_length=MAX_TAG_TEXT)
        shown = optional_text(tag.get("DisplayName"), f"Tags[{index}].DisplayName", max_length=MAX_TAG_TEXT)
        shown_value = optional_text(
            tag.get("DisplayValue"), f"Tags[{index}].DisplayValue", max_length=MAX_TAG_TEXT
        )
        cleaned.append(
            {"Name": name, "DisplayName": shown or name, "Value": value, "DisplayValue": shown_value or value}
        )
    return orjson.dumps(cleaned).decode()


def apply(values: dict[str, Any], body: Mapping[str, Any]) -> None:
    """Keeps the body's ``Tags`` in ``values`` (the row's columns to write) when the body has them."""
    tags = parse(body)
    if tags is not None:
        values["tags"] = tags
