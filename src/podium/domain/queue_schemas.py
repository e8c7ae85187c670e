"""JSON schemas of a queue definition: checking a schema when it is set, and content against it.

A queue may define ``SpecificDataJsonSchema``, ``OutputDataJsonSchema`` and
``AnalyticsDataJsonSchema``; items whose content, output or analytics do not validate are refused.
Validators are compiled once per schema text (a queue's schema rarely changes, items arrive in
thousands).

Validation is bounded in time, whatever the schema and the content:

* regular expressions (``pattern``, ``patternProperties`` and the ``additionalProperties`` that
  depends on them) run on RE2, a linear-time engine: ``"^(a+)+$"`` cannot backtrack. A pattern RE2
  cannot run (backreferences, lookaround) is refused when the schema is set (400), and so is
  ``unevaluatedProperties`` next to ``patternProperties`` (jsonschema would run those patterns on
  Python's backtracking engine). ``uniqueItems`` is checked in linear time.
* :func:`off_loop` runs a validation in a worker thread with a deadline (:data:`DEADLINE_SECONDS`):
  the event loop keeps serving other requests meanwhile, and every keyword that descends into
  subschemas checks the deadline, so an exponential schema (nested ``anyOf`` over ``$ref``) is refused
  with a 400 when it passes. A queue without a schema does not pay for the thread.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

import orjson
import re2  # type: ignore[import-untyped]
from jsonschema import exceptions as schema_errors
from jsonschema import validators
from jsonschema.protocols import Validator

from podium.errors import ErrorCode, PodiumError, bad_request

MAX_SCHEMA_CHARS = 100_000
DEADLINE_SECONDS = 5.0  # of one request's validations (a bulk add's thousands of items included)
VALIDATION_THREADS = 4
T = TypeVar("T")


class ItemError(PodiumError):
    """A refused queue item; ``failure`` is the FailedQueueItemDto ErrorCode name for bulk answers."""

    def __init__(
        self, message: str, failure: str, status: int = 400, code: int = ErrorCode.VALIDATION
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.failure = failure


class ValidationTimeout(Exception):
    """The deadline of :func:`off_loop` passed during a validation."""


# -- regular expressions: RE2 -------------------------------------------------------------------------
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is our 400, not a line on stderr


_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)  # one escape: \uXXXX, or any other


def _re2_syntax(pattern: str) -> str:
    """ECMA-262's ``\\uXXXX`` (common in JSON schemas, unknown to RE2) as RE2's ``\\x{XXXX}``; other
    escapes (``\\\\u0041`` is a backslash and ``u0041``) are kept."""
    if "\\u" not in pattern:
        return pattern
    return _ESCAPE.sub(lambda m: f"\\x{{{m[1]}}}" if m[1] else m[0], pattern)


try:  # the binding under the wrapper: ``Match`` alone costs ~3 µs, the wrapper's ``search`` ~10 µs
    _UNANCHORED: Any = re2._re2.RE2.Anchor.UNANCHORED
except AttributeError:  # pragma: no cover - another layout of the wheel: the wrapper's search
    _UNANCHORED = None
_NO_MATCH = (-1, -1)


class _Pattern:
    """A pattern compiled by RE2 that answers whether it occurs in a text (JSON Schema's unanchored
    ``pattern``)."""

    def __init__(self, pattern: str) -> None:
        self._compiled = re2.compile(_re2_syntax(pattern), _RE2_OPTIONS)
        self._raw = getattr(self._compiled, "_regexp", None) if _UNANCHORED is not None else None

    def found_in(self, text: str) -> bool:
        if self._raw is None:  # pragma: no cover - see _UNANCHORED
            return self._compiled.search(text) is not None
        encoded = text.encode()
        return bool(self._raw.Match(_UNANCHORED, encoded, 0, len(encoded))[0] != _NO_MATCH)


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> _Pattern:
    """The compiled pattern; ValueError with RE2's reason when RE2 cannot run it."""
    try:
        return _Pattern(pattern)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(text) from None


def _search(pattern: str, text: str) -> bool:
    return _regex(pattern).found_in(text)


# -- the schema check at SET time ---------------------------------------------------------------------
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})


def _patterns_and_keywords(schema: Any) -> tuple[list[str], set[str]]:
    """Every regular expression of the schema (``pattern`` values, ``patternProperties`` names) and every
    keyword it uses, found without recursion (a schema may nest deeper than Python's stack)."""
    patterns: list[str] = []
    keywords: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                continue
            if key == "pattern" and isinstance(value, str):
                patterns.append(value)
                continue
            keywords.add(key)
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                if key == "patternProperties":
                    patterns.extend(str(name) for name in value)
                stack.extend(value.values())
            else:
                stack.append(value)
    return patterns, keywords


def unsupported(schema: Any) -> str | None:
    """Why the schema cannot be validated in bounded time here, or None when it can."""
    patterns, keywords = _patterns_and_keywords(schema)
    for pattern in patterns:
        try:
            _regex(pattern)
        except ValueError as error:
            return (
                f"the pattern '{pattern[:200]}' is not supported ({error}): patterns run on a linear-time"
                " engine (RE2), without backreferences or lookaround"
            )
    if "unevaluatedProperties" in keywords and "patternProperties" in keywords:
        return "unevaluatedProperties cannot be combined with patternProperties"
    return None


def check_schema_definition(text: str | None, name: str) -> None:
    """400 unless ``text`` is a JSON object that is a valid JSON schema (or empty) that validates in
    bounded time (see :func:`unsupported`)."""
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
    except RecursionError:
        raise bad_request(f"{name} is nested too deeply.") from None
    problem = unsupported(schema)
    if problem is not None:
        raise bad_request(f"{name} cannot be used: {problem}.")


# -- the keywords, bounded ----------------------------------------------------------------------------
_local = threading.local()  # ``deadline``: of the validation running in this thread (off_loop)

Keyword = Callable[[Any, Any, Any, Any], Any]


def _check_deadline() -> None:
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise ValidationTimeout


def _on_time(keyword: Keyword) -> Keyword:
    def checked(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        _check_deadline()
        return keyword(validator, value, instance, schema)

    return checked


def _pattern(validator: Any, pattern: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield schema_errors.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _additional(instance: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """The instance's properties neither ``properties`` nor ``patternProperties`` cover."""
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    return [
        name
        for name in instance
        if name not in properties and not any(_search(pattern, name) for pattern in patterns)
    ]


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's ``additionalProperties`` (same messages), with RE2 for ``patternProperties``."""
    if not validator.is_type(instance, "object"):
        return
    extras = set(_additional(instance, schema))
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            joined = ", ".join(repr(each) for each in sorted(extras))
            patterns = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield schema_errors.ValidationError(f"{joined} {verb} not match any of the regexes: {patterns}")
        else:
            listed = ", ".join(repr(each) for each in sorted(extras, key=str))
            verb = "was" if len(extras) == 1 else "were"
            yield schema_errors.ValidationError(
                f"Additional properties are not allowed ({listed} {verb} unexpected)"
            )


def _identity(value: Any) -> Any:
    """A hashable value equal for JSON-equal values (``1`` and ``1.0``; not ``true`` and ``1``)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, dict):
        return ("o", frozenset((name, _identity(item)) for name, item in value.items()))
    if isinstance(value, list):
        return ("a", tuple(_identity(item) for item in value))
    if isinstance(value, int | float):
        return ("n", value)
    return ("s", value)


def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's ``uniqueItems`` in linear time (its own compares every pair of objects)."""
    if unique and validator.is_type(instance, "array"):
        seen = {_identity(item) for item in instance}
        if len(seen) != len(instance):
            yield schema_errors.ValidationError(f"{instance!r} has non-unique elements")


# keywords that do not descend into subschemas: their work is bounded by the instance they look at
# (the bounded ones below included), so they need not check the deadline
LEAF_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "format",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxContains",
        "minContains",
        "maxProperties",
        "minProperties",
        "required",
        "dependentRequired",
        "description",
        "title",
        "$comment",
    }
)
_BOUNDED: dict[str, Keyword] = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
    "uniqueItems": _unique_items,
}


@lru_cache(maxsize=16)
def _bounded_class(cls: type[Validator]) -> type[Validator]:
    """The draft's validator with the bounded keywords, every keyword that descends into subschemas
    checking the deadline (exponential work goes through them)."""
    drafts: Mapping[str, Keyword] = cls.VALIDATORS
    keywords: dict[str, Keyword] = {}
    for name, keyword in drafts.items():
        implementation = _BOUNDED.get(name) or keyword
        keywords[name] = implementation if name in LEAF_KEYWORDS else _on_time(implementation)
    extended: type[Validator] = validators.extend(cls, keywords)  # type: ignore[no-untyped-call]
    return extended


@lru_cache(maxsize=256)
def _validator(text: str) -> tuple[Validator | None, str | None]:
    """The validator of a schema text, or why it cannot be used (a schema stored before the checks of
    :func:`unsupported` existed)."""
    schema = orjson.loads(text)
    problem = unsupported(schema)
    if problem is not None:
        return None, problem
    validator: Validator = _bounded_class(validators.validator_for(schema))(schema)
    return validator, None


def validate(schema_text: str | None, value: Any, what: str) -> None:
    """Refuses ``value`` (already parsed JSON) when the queue's schema for ``what`` rejects it. Runs
    anywhere; the deadline applies inside :func:`off_loop`."""
    if not schema_text:
        return
    validator, problem = _validator(schema_text)
    if validator is None:
        raise ItemError(
            f"The queue's JSON schema for {what} cannot be applied: {problem}. Set the schema again.",
            "QueueItemSchemaViolationException",
        )
    try:
        error = schema_errors.best_match(validator.iter_errors(value))
    except RecursionError:
        raise ItemError(f"The {what} is nested too deeply to be validated.", "InvalidArgument") from None
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path)
        detail = f" at '{where}'" if where else ""
        raise ItemError(
            f"The {what} does not match the queue's JSON schema{detail}: {error.message}",
            "QueueItemSchemaViolationException",
        )


# -- off the event loop, with a deadline --------------------------------------------------------------
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(VALIDATION_THREADS, thread_name_prefix="podium-schema")
        return _pool


def _run_until(deadline: float, work: Callable[[], T]) -> T:
    _local.deadline = deadline
    try:
        return work()
    finally:
        _local.deadline = None


def too_slow() -> PodiumError:
    return bad_request(
        f"Validating the request against the queue's JSON schema took longer than {DEADLINE_SECONDS:g} s;"
        " send fewer or smaller items, or simplify the schema."
    )


async def off_loop(work: Callable[[], T]) -> T:
    """``work()`` (which validates against queue schemas) in a worker thread: the event loop serves other
    requests meanwhile. Past :data:`DEADLINE_SECONDS` the request is refused (400); the thread stops at
    the next keyword it checks."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    running = asyncio.get_running_loop().run_in_executor(_threads(), _run_until, deadline, work)
    try:
        # a keyword stuck in one long call (none is known) still cannot hold the request
        return await asyncio.wait_for(running, DEADLINE_SECONDS + 1.0)
    except (ValidationTimeout, TimeoutError):
        raise too_slow() from None
