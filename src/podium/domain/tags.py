"""Tags (``TagDto``: ``Name``, ``DisplayName``, ``Value``, ``DisplayValue``) that Orchestrator lets
clients put on assets, buckets, machines, processes, queues and triggers: JSON text in each entity's
``tags`` column (``'[]'`` by default), answered as sent (display names default to the names).

Each entity set declares the field with :func:`podium.odata.declare.tag_list`; the generic write path
turns a body's ``Tags`` into the column's text with :func:`to_json`, so a body without ``Tags`` leaves
them as they are."""

from __future__ import annotations

from typing import Any

import orjson

from podium.inputs import json_list, json_object, optional_text, text

MAX_TAGS = 100
MAX_TAG_TEXT = 512


def to_json(sent: Any) -> str:
    """A body's ``Tags`` (a list of TagDto; null is none) as stored JSON; 400 when malformed."""
    cleaned = []
    for index, raw in enumerate(json_list(sent or [], "Tags", max_items=MAX_TAGS)):
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
