"""``db/batches.py``: calls of one key that meet in the event loop share one run; each still gets its own
answer or error, in order, and a call cancelled before its run is left out of it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from podium.db.batches import Batches


class Recorder:
    """A ``run`` that records each batch it is given, answers ``value * 10`` and fails on negatives."""

    def __init__(self, pause: float = 0.01) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.pause = pause

    async def __call__(self, key: str, values: list[int]) -> list[int]:
        self.batches.append((key, list(values)))
        await asyncio.sleep(self.pause)  # the statement in the database
        if any(value < 0 for value in values):
            raise ValueError(f"negative in {values}")
        return [value * 10 for value in values]


def idle(batches: Batches[Any, Any, Any]) -> bool:
    """No key of any loop is busy."""
    return all(not batches.busy for batches in batches._loops.values())


def run(scenario: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return asyncio.run(scenario())


def test_a_lone_call_runs_at_once_alone() -> None:
    record = Recorder()
    batches = Batches(record)

    async def scenario() -> int:
        return await batches.submit("q", 4)

    assert run(scenario) == 40
    assert record.batches == [("q", [4])]
    assert idle(batches)  # no key left busy


def test_calls_that_meet_share_runs_and_get_their_own_answers_in_order() -> None:
    record = Recorder()
    batches = Batches(record)

    async def scenario() -> list[int]:
        first = await asyncio.gather(*(batches.submit("q", n) for n in range(5)))
        # while a run of "q" is in the database, later calls wait and go together in the next one
        running = asyncio.ensure_future(batches.submit("q", 100))
        await asyncio.sleep(0.002)
        later = await asyncio.gather(running, *(batches.submit("q", n) for n in (101, 102, 103)))
        return [*first, *later]

    assert run(scenario) == [0, 10, 20, 30, 40, 1000, 1010, 1020, 1030]
    assert record.batches == [("q", [0, 1, 2, 3, 4]), ("q", [100]), ("q", [101, 102, 103])]


def test_keys_do_not_mix() -> None:
    record = Recorder()
    batches = Batches(record)

    async def scenario() -> list[int]:
        return await asyncio.gather(*(batches.submit(key, n) for n, key in enumerate("abab")))

    assert run(scenario) == [0, 10, 20, 30]
    assert sorted(record.batches) == [("a", [0, 2]), ("b", [1, 3])]


def test_at_most_most_calls_a_run() -> None:
    record = Recorder()
    batches = Batches(record, most=3)

    async def scenario() -> list[int]:
        return await asyncio.gather(*(batches.submit("q", n) for n in range(7)))

    assert run(scenario) == [n * 10 for n in range(7)]
    assert [values for _, values in record.batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_failing_batch_runs_each_call_alone_so_only_the_bad_one_fails() -> None:
    record = Recorder()
    batches = Batches(record)

    async def scenario() -> list[Any]:
        return await asyncio.gather(*(batches.submit("q", n) for n in (1, -2, 3)), return_exceptions=True)

    one, bad, three = run(scenario)
    assert (one, three) == (10, 30)
    assert isinstance(bad, ValueError) and str(bad) == "negative in [-2]"
    assert [values for _, values in record.batches] == [[1, -2, 3], [1], [-2], [3]]


def test_a_lone_failing_call_gets_its_error() -> None:
    batches = Batches(Recorder())

    async def scenario() -> None:
        await batches.submit("q", -1)

    with pytest.raises(ValueError, match=r"negative in \[-1\]"):
        run(scenario)
    assert idle(batches)


def test_a_call_cancelled_while_it_waits_is_not_run() -> None:
    record = Recorder()
    batches = Batches(record)

    async def scenario() -> list[Any]:
        running = asyncio.ensure_future(batches.submit("q", 1))
        await asyncio.sleep(0.002)  # 1 is in the database
        waiting = [asyncio.ensure_future(batches.submit("q", n)) for n in (2, 3, 4)]
        await asyncio.sleep(0)
        waiting[1].cancel()
        return await asyncio.gather(running, *waiting, return_exceptions=True)

    one, two, three, four = run(scenario)
    assert (one, two, four) == (10, 20, 40) and isinstance(three, asyncio.CancelledError)
    assert [values for _, values in record.batches] == [[1], [2, 4]]
    assert idle(batches)


def test_a_first_call_cancelled_before_its_run_is_not_run_and_the_others_are() -> None:
    record = Recorder()
    batches = Batches(record)

    async def scenario() -> list[Any]:
        calls = [asyncio.ensure_future(batches.submit("q", n)) for n in (1, 2, 3)]
        await asyncio.sleep(0)  # each has started; the first yields once before its run
        calls[0].cancel()
        return await asyncio.gather(*calls, return_exceptions=True)

    one, two, three = run(scenario)
    assert isinstance(one, asyncio.CancelledError) and (two, three) == (20, 30)
    assert [values for _, values in record.batches] == [[2, 3]]
    assert idle(batches)


def test_a_call_cancelled_while_its_batch_runs_leaves_the_others_answered() -> None:
    record = Recorder(pause=0.02)
    batches = Batches(record)

    async def scenario() -> list[Any]:
        calls = [asyncio.ensure_future(batches.submit("q", n)) for n in (1, 2, 3)]
        await asyncio.sleep(0.005)  # the batch [1, 2, 3] is in the database
        calls[2].cancel()
        return await asyncio.gather(*calls, return_exceptions=True)

    one, two, three = run(scenario)
    assert (one, two) == (10, 20) and isinstance(three, asyncio.CancelledError)
    assert [values for _, values in record.batches] == [[1, 2, 3]]  # it ran: its result is dropped


def test_each_event_loop_has_its_own_batches() -> None:
    record = Recorder()
    batches = Batches(record)

    async def scenario() -> list[int]:
        return list(await asyncio.gather(batches.submit("q", 1), batches.submit("q", 2)))

    assert run(scenario) == [10, 20]
    assert run(scenario) == [10, 20]  # a second loop: nothing of the first one's left in the way
    assert [values for _, values in record.batches] == [[1, 2], [1, 2]]


def test_a_lone_call_lingers_only_on_a_key_whose_last_statements_served_several() -> None:
    record = Recorder(pause=0.001)
    batches = Batches(record, linger=0.05)

    async def later(value: int) -> int:
        await asyncio.sleep(0.01)
        return await batches.submit("q", value)

    async def scenario() -> list[int]:
        # a quiet key: the first call does not wait for one 10 ms later
        answers = list(await asyncio.gather(batches.submit("q", 1), later(2)))
        # two calls together: the key is crowded, so the next lone call waits for one 10 ms later
        answers += await asyncio.gather(batches.submit("q", 3), batches.submit("q", 4))
        answers += await asyncio.gather(batches.submit("q", 5), later(6))
        return answers

    assert run(scenario) == [10, 20, 30, 40, 50, 60]
    assert [values for _, values in record.batches] == [[1], [2], [3, 4], [5, 6]]
