"""JSON schemas of a queue definition: checking a schema when it is set, and content against it.

A queue may define ``SpecificDataJsonSchema``, ``OutputDataJsonSchema`` and
``AnalyticsDataJsonSchema``; items whose content, output or analytics do not validate are refused.
Validators are compiled once per schema text (a queue's schema rarely changes, items arrive in
thousands).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from jsonschema import exceptions as schema_errors
from jsonschema import validators
from jsonschema.protocols import Validator

from podium.errors import ErrorCode, PodiumError, bad_request

MAX_SCHEMA_CHARS = 100_000


class ItemError(PodiumError):
    """A refused queue item; ``failure`` is the FailedQueueItemDto ErrorCode name for bulk answers."""

    def __init__(
        self, message: str, failure: str, status: int = 400, code: int = ErrorCode.VALIDATION
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.failure = failure


def check_schema_definition(text: str | None, name: str) -> None:
    """400 unless ``text`` is a JSON object that is a valid JSON schema (or empty)."""
    if text is None or text == "":
        return
    if len(text) > MAX_SCHEMA_CHARS:
        raise bad_request(f"{name} must be at most {MAX_SCHEMA_CHARS} characters long.")
    try:
        schema = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise bad_request(f"{name} is not valid JSON.") from None
    if not isinstance(schema, dict):
        raise bad_request(f"{name} must be a JSON object (a JSON schema).")
    try:
        validators.validator_for(schema).check_schema(schema)
    except schema_errors.SchemaError as error:
        raise bad_request(f"{name} is not a valid JSON schema: {error.message}") from None


@lru_cache(maxsize=256)
def _validator(text: str) -> Validator:
    schema = orjson.loads(text)
    cls = validators.validator_for(schema)
    validator: Validator = cls(schema)
    return validator


def validate(schema_text: str | None, value: Any, what: str) -> None:
    """Refuses ``value`` (already parsed JSON) when the queue's schema for ``what`` rejects it."""
    if not schema_text:
        return
    error = schema_errors.best_match(_validator(schema_text).iter_errors(value))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        detail = f" at '{where}'" if where else ""
        raise ItemError(
            f"The {what} does not match the queue's JSON schema{detail}: {error.message}",
            "QueueItemSchemaViolationException",
        )
