"""Parsing the OData resource path from the raw (still percent-encoded) URL path.

ASGI servers hand applications a decoded path, where ``assetName='a%2Fb'`` has become ``'a/b'`` and
a slash inside a key splits the path. The raw path is split on ``/`` first and each segment decoded
afterwards.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from podium.errors import invalid_odata


@dataclass
class ResourcePath:
    entity_set: str
    key: Any = None
    has_key: bool = False
    operation: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    count: bool = False  # /$count


_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_$][\w.$]*)(?:\((?P<args>.*)\))?$", re.DOTALL)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_resource_path(raw: str) -> ResourcePath:
    """``Jobs(5)/UiPath.Server.Configuration.OData.StopJob`` -> ResourcePath (raw: after ``/odata/``)."""
    segments = [unquote(s) for s in raw.split("/") if s != ""]
    if not segments or len(segments) > 2 or any("\x00" in s for s in segments):
        raise invalid_odata("The resource path is not valid.")
    first = _SEGMENT.match(segments[0])
    if first is None:
        raise invalid_odata("The resource path is not valid.")
    path = ResourcePath(entity_set=first.group("name"))
    if first.group("args") is not None:
        path.key = parse_key(first.group("args"))
        path.has_key = True
    if len(segments) == 2:
        if segments[1] == "$count":
            path.count = True
            return path
        second = _SEGMENT.match(segments[1])
        if second is None:
            raise invalid_odata("The resource path is not valid.")
        path.operation = second.group("name")
        if second.group("args") is not None:
            path.params = parse_params(second.group("args"))
    return path


def parse_key(text: str) -> Any:
    """A key: ``5``, ``'name'``, a bare GUID, or ``Id=5``."""
    text = text.strip()
    if "=" in text and not text.startswith("'"):
        params = parse_params(text)
        if len(params) != 1:
            raise invalid_odata("Composite keys are not supported.")
        return next(iter(params.values()))
    return parse_literal(text)


def parse_params(text: str) -> dict[str, Any]:
    """``robotId=5,assetName='x,y'`` -> {"robotId": 5, "assetName": "x,y"}; commas inside quotes kept."""
    params: dict[str, Any] = {}
    for part in _split_top_level(text):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip().isidentifier():
            raise invalid_odata(f"The parameter '{part.strip()}' is not valid.")
        params[name.strip()] = parse_literal(value.strip())
    return params


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    in_quote = False
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "'":
            if in_quote and i + 1 < len(text) and text[i + 1] == "'":
                current.append("''")
                i += 2
                continue
            in_quote = not in_quote
        elif not in_quote and char in "([":
            depth += 1
        elif not in_quote and char in ")]":
            depth -= 1
        if char == "," and not in_quote and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if in_quote:
        raise invalid_odata("Unterminated string literal in the resource path.")
    parts.append("".join(current))
    return parts


def parse_literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'")
    lowered = text.lower()
    if lowered == "null":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"-?\d+", text):
        if len(text) > 20 or not -(2**63) <= int(text) < 2**63:
            raise invalid_odata(f"The literal '{text}' is out of the range of Edm.Int64.")
        return int(text)
    if _GUID.match(text):
        return str(uuid.UUID(text))
    if text.startswith("[") and text.endswith("]"):
        return [parse_literal(p.strip()) for p in _split_top_level(text[1:-1]) if p.strip()]
    raise invalid_odata(f"The literal '{text}' is not valid.")
