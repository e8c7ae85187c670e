"""A queue's JSON schemas are checked in bounded time and off the event loop: a pattern that makes a
backtracking engine explode (``^(a+)+$``) answers at once, other requests are served while a big bulk
add is validated, and a schema whose validation grows exponentially is cut at the deadline (400)."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine

from podium.db.schema_queues import queue_definitions
from podium.domain import queue_items as queue_items_domain
from podium.domain import queue_schemas
from tests.factories import create_queue
from tests.queue_helpers import ODATA, SVC, add_item, counts
from tests.support import Api, assert_error

EXPLODING = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}


def _schema_queue(api: Api, schema: dict[str, Any], name: str = "invoices") -> dict[str, Any]:
    return create_queue(api, name, SpecificDataJsonSchema=orjson.dumps(schema).decode())


def _bulk(api: Api, items: list[dict[str, Any]], queue: str = "invoices") -> Any:
    body = {"queueName": queue, "commitType": "ProcessAllIndependently", "queueItems": items}
    return api.post(f"{ODATA}/Queues/{SVC}.BulkAddQueueItems", body, folder="Shared")


def _timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def test_a_catastrophic_pattern_cannot_backtrack(api: Api, db: Engine) -> None:
    _schema_queue(api, EXPLODING)
    # Python's backtracking engine: 26 characters took 2.7 s (every other request waited), 28 four times
    # as long, 40 forever
    # (a bound on time that only a backtracking engine misses: RE2 answers in milliseconds)
    for length in (28, 40):
        answer, seconds = _timed(
            lambda n=length: add_item(api, status=400, SpecificContent={"code": "a" * (n - 1) + "!"})
        )
        assert seconds < 20, f"{length} characters: {seconds:.1f} s"
        assert "does not match" in assert_error(answer, 400)["message"]
    assert add_item(api, SpecificContent={"code": "a" * 40})["Status"] == "New"
    # a thousand of them in one bulk add: each refused, none waits
    answer, seconds = _timed(lambda: _bulk(api, [{"SpecificContent": {"code": "a" * 39 + "!"}}] * 1000))
    failed = api.ok(answer)["failedItems"]
    assert len(failed) == 1000 and {f["ErrorCode"] for f in failed} == {"QueueItemSchemaViolationException"}
    assert seconds < 30, seconds
    assert counts(db)[0] == 1


def test_pattern_properties_and_additional_properties_run_on_re2(api: Api) -> None:
    _schema_queue(
        api,
        {
            "type": "object",
            "patternProperties": {"^(a+)+$": {"type": "integer"}},
            "additionalProperties": False,
        },
    )
    answer, seconds = _timed(lambda: add_item(api, status=400, SpecificContent={"a" * 39 + "!": 1}))
    assert seconds < 20 and "do" in assert_error(answer, 400)["message"]
    assert add_item(api, SpecificContent={"a" * 40: 1})["Status"] == "New"
    assert_error(add_item(api, status=400, SpecificContent={"aaa": "not an integer"}), 400)


def test_unique_items_in_linear_time(api: Api) -> None:
    """jsonschema compared every pair of objects: 5,000 of them took tens of seconds."""
    _schema_queue(api, {"type": "object", "properties": {"lines": {"type": "array", "uniqueItems": True}}})
    lines = [{"line": n, "amount": n * 1.5} for n in range(5000)]
    _, seconds = _timed(lambda: add_item(api, SpecificContent={"lines": lines}))
    assert seconds < 20, seconds
    assert_error(
        add_item(api, status=400, SpecificContent={"lines": [*lines, {"amount": 1.5, "line": 1.0}]}), 400
    )
    assert add_item(api, SpecificContent={"lines": [1, True, "1", [1], {"a": 1}]})["Status"] == "New"
    assert_error(
        add_item(api, status=400, SpecificContent={"lines": [[1, {"a": 1}], [1.0, {"a": 1.0}]]}), 400
    )


@pytest.mark.parametrize(
    "pattern", ["^(?=a)b", r"(a)\1", "a{2000}"], ids=["lookaround", "backreference", "repetition"]
)
def test_patterns_re2_cannot_run_are_refused_when_set(api: Api, pattern: str) -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}}}
    body = {"Name": "q", "SpecificDataJsonSchema": orjson.dumps(schema).decode()}
    message = assert_error(api.post(f"{ODATA}/QueueDefinitions", body, folder="Shared"), 400)["message"]
    assert "SpecificDataJsonSchema" in message and "RE2" in message and pattern in message
    as_name = {"type": "object", "patternProperties": {pattern: {}}}
    body = {"Name": "q", "OutputDataJsonSchema": orjson.dumps(as_name).decode()}
    assert_error(api.post(f"{ODATA}/QueueDefinitions", body, folder="Shared"), 400)


def test_other_schemas_are_refused_or_kept(api: Api) -> None:
    combined = {"type": "object", "patternProperties": {"^x": {}}, "unevaluatedProperties": False}
    body = {"Name": "q", "AnalyticsDataJsonSchema": orjson.dumps(combined).decode()}
    assert (
        "unevaluatedProperties"
        in assert_error(api.post(f"{ODATA}/QueueDefinitions", body, folder="Shared"), 400)["message"]
    )
    # ECMA-262's \\uXXXX escapes (RE2 spells them \\x{XXXX}) and a property named "pattern" are fine
    queue = _schema_queue(
        api,
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": "^\\u00e9+$"},
                "pattern": {"type": "integer"},
            },
            "examples": [{"pattern": "(?=not a schema)"}],
        },
    )
    assert add_item(api, SpecificContent={"name": "éé", "pattern": 1})["Status"] == "New"
    assert_error(add_item(api, status=400, SpecificContent={"name": "e"}), 400)
    assert queue["SpecificDataJsonSchema"]


def test_a_stored_schema_re2_cannot_run_refuses_items(api: Api, db: Engine) -> None:
    """A schema saved before these checks existed is not run on a backtracking engine: its items are
    refused until the schema is set again."""
    queue = _schema_queue(api, {"type": "object"})
    lookaround = {"type": "object", "properties": {"code": {"pattern": "^(?!x)"}}}
    with db.begin() as conn:
        conn.execute(
            update(queue_definitions)
            .where(queue_definitions.c.id == queue["Id"])
            .values(specific_data_json_schema=orjson.dumps(lookaround).decode())
        )
    message = assert_error(add_item(api, status=400, SpecificContent={"code": "y"}), 400)["message"]
    assert "Set the schema again" in message
    assert counts(db)[0] == 0


def test_the_server_answers_while_a_bulk_add_is_validated(
    api: Api, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation runs off the event loop: while a bulk add's validation is held, other requests are
    answered (on the loop, /api/status/version would wait for the whole validation — here, forever)."""
    monkeypatch.setattr(queue_schemas, "DEADLINE_SECONDS", 120.0)
    _schema_queue(api, {"type": "object", "required": ["word"], "properties": {"word": {"type": "string"}}})
    entered, release = threading.Event(), threading.Event()
    real_validate = queue_items_domain.validate

    def held(*args: Any) -> None:
        entered.set()
        assert release.wait(60), "the test never released the validation"
        real_validate(*args)

    monkeypatch.setattr(queue_items_domain, "validate", held)
    items = [{"SpecificContent": {"word": f"w{n}"}} for n in range(100)]
    outcome: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: outcome.setdefault("answer", _bulk(api, items)))
    worker.start()
    try:
        assert entered.wait(60), "the bulk add never reached its validation"
        status: dict[str, Any] = {}

        def ask() -> None:
            status["answer"] = api.client.get("/api/status/version")

        asker = threading.Thread(target=ask)
        asker.start()
        asker.join(60)
        assert not asker.is_alive() and status["answer"].status_code == 200
        assert worker.is_alive()  # the validation was still held while the server answered
    finally:
        release.set()
        worker.join(120)
    assert api.ok(outcome["answer"])["success"] is True and counts(db)[0] == 100


def test_exponential_validation_is_cut_at_the_deadline(
    api: Api, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both branches of anyOf fail at the bottom of a nested array: 2^depth descents, each keyword of
    which checks the deadline."""
    monkeypatch.setattr(queue_schemas, "DEADLINE_SECONDS", 1.0)
    both = [
        {"type": "array", "items": {"$ref": "#/$defs/t"}},
        {"type": "array", "items": {"$ref": "#/$defs/t"}, "minItems": 1},
    ]
    _schema_queue(
        api, {"$defs": {"t": {"anyOf": both}}, "type": "object", "properties": {"v": {"$ref": "#/$defs/t"}}}
    )
    nested: Any = "x"
    for _ in range(40):
        nested = [nested]
    answer, seconds = _timed(lambda: add_item(api, status=400, SpecificContent={"v": nested}))
    assert "took longer than 1 s" in assert_error(answer, 400)["message"]
    assert seconds < 20, seconds
    assert api.ok(api.get("/api/status/version"))
    assert counts(db)[0] == 0
