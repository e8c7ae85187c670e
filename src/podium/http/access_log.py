"""Logs without capabilities: a signed ``/api/BlobFiles/<token>`` URI is the right to read or write a
bucket file for as long as it lives (up to a week), so its token never reaches a log line.

``podium serve`` hands uvicorn ``log_config()``: uvicorn's own logging configuration with
``RedactBlobTokens`` on every handler (the access log prints each request's path). Being part of the
configuration, the filter is installed in every worker process too (``--workers N`` starts them afresh).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote

REDACTED = "<redacted>"
_BLOB_TOKEN = re.compile(r"(/api/BlobFiles/)[^?#\s\"]+", re.IGNORECASE)
FILTER_NAME = "redact_blob_tokens"


def redact(text: str) -> str:
    """``/api/BlobFiles/<token>`` → ``/api/BlobFiles/<redacted>`` (the query string stays); a path that
    only matches once percent-decoded (``/api/Blob%46iles/...`` routes to the same place) is shown
    decoded and redacted."""
    if _BLOB_TOKEN.search(text):
        return _BLOB_TOKEN.sub(rf"\g<1>{REDACTED}", text)
    decoded = unquote(text)
    if decoded != text and _BLOB_TOKEN.search(decoded):
        return _BLOB_TOKEN.sub(rf"\g<1>{REDACTED}", decoded)
    return text


class RedactBlobTokens(logging.Filter):
    """Redacts blob tokens in a record's message and arguments (uvicorn's access log passes the path as
    an argument); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                name: redact(value) if isinstance(value, str) else value
                for name, value in record.args.items()
            }
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration with ``RedactBlobTokens`` on each of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})[FILTER_NAME] = {"()": f"{__name__}.RedactBlobTokens"}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), FILTER_NAME]
    return config


def logs_requests(log_level: str) -> bool:
    """Whether uvicorn's access log is on: at ``info`` and below. Above, its lines would be dropped,
    but uvicorn still builds each one's arguments (the client's address, the quoted path): ~2 % of a
    small request's time."""
    return log_level.lower() in ("trace", "debug", "info")
