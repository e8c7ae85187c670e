"""Crash recovery: the SERVER process killed with SIGKILL in the middle of queue work (PostgreSQL).

1. Consumers: ``CONSUMERS`` robots run StartTransaction/SetTransactionResult over a queue of ``ITEMS``
   items; after some progress, at a moment when the server holds an open transaction, ``podium serve``
   is killed with SIGKILL and started again on the same database. The robots retry on connection errors
   (the even ones retry their SetTransactionResult, the odd ones give their item up, as a robot whose
   job failed with the server does); one more robot takes an item just before the kill and gives it up
   when the dead server does not answer, so the abandon sweep (shortened timeouts) has at least one
   item to recover, besides those whose StartTransaction answer the kill cut off. Asserted from the
   database and the robots' records: every item ends in exactly one final state, no item is handed out
   twice or succeeds twice, none is lost, retry chains are complete, and each item's history is one
   walk of the state machine that ends in its status.
2. BulkAddQueueItems (AllOrNothing, unique references) of ``BATCH_SIZE`` items in a loop; the server is
   killed while a batch's transaction has written rows (not in its COMMIT). Read directly from the
   table: while batches are added, and after the restart, every batch is all there or not there at
   all, each item with its one Create event; the interrupted batch is sent again (it is added, or
   refused whole as a duplicate) and at the end every batch is there exactly once.

Sizes for longer runs by hand: ``PODIUM_CRASH_TEST_ITEMS`` (200), ``PODIUM_CRASH_TEST_CONSUMERS`` (8),
``PODIUM_CRASH_TEST_KILLS`` (1, kills per test), ``PODIUM_CRASH_TEST_BATCH_SIZE`` (2000),
``PODIUM_CRASH_TEST_BATCHES`` (3, batches after the last kill).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url

from podium.db.schema_queues import queue_item_events, queue_items
from podium.domain.queue_enums import QueueItemEventAction as A
from podium.domain.queue_enums import QueueItemStatus as S
from podium.domain.queue_item_states import ALLOWED
from tests.conftest import sync_engine
from tests.e2e.queue_servers import admin_token, prepare_database, robot_tokens
from tests.e2e.servers import ok, podium_process
from tests.support import SIGNING_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]
ITEMS = int(os.environ.get("PODIUM_CRASH_TEST_ITEMS", "200"))
CONSUMERS = int(os.environ.get("PODIUM_CRASH_TEST_CONSUMERS", "8"))
KILLS = int(os.environ.get("PODIUM_CRASH_TEST_KILLS", "1"))
BATCH_SIZE = int(os.environ.get("PODIUM_CRASH_TEST_BATCH_SIZE", "2000"))
BATCHES = int(os.environ.get("PODIUM_CRASH_TEST_BATCHES", "3"))
ABANDON_SECONDS = 4  # longer than a server restart, so that most held items are reported, not abandoned
RETRIES = 2
WORK_SECONDS = 0.03  # a robot's work on an item: up to this long between start and result
DEADLINE_SECONDS = 120
SVC = "/odata/Queues/UiPathODataSvc"
# a bulk add's statements after its rows are written, inside its transaction: items, history, event
WRITING = ("COPY queue_items", "INSERT INTO queue_item_events", "INSERT INTO events")
FINALS = {S.Successful, S.Failed, S.Retried, S.Abandoned}


class Server:
    """One ``podium serve`` at a time on the test database, killed and started again; clients read
    ``base`` on each attempt (a restarted server listens on a port of its own)."""

    def __init__(self, database_url: str, data_dir: Path, **settings: str) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.settings = settings
        self.starts = 0
        self.base = ""
        self._stack = ExitStack()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.starts += 1
        served = podium_process(
            self.database_url,
            self.data_dir,
            signing_key=SIGNING_KEY,
            log_name=f"server-{self.starts}.log",
            **self.settings,
        )
        self.base, self._process = self._stack.enter_context(served)

    def kill(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        assert self._process.wait(timeout=10) == -signal.SIGKILL
        self._stack.close()

    def stop(self) -> None:
        self._stack.close()


def named(database_url: str, name: str) -> str:
    """The URL with an ``application_name``: the server's connections are told from others' by it."""
    url = make_url(database_url).update_query_dict({"application_name": name})
    return url.render_as_string(hide_password=False)


def wait_for(condition: Callable[[], bool], what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {DEADLINE_SECONDS} s: {what}")
        time.sleep(every)


def server_in_transaction(engine: Engine, name: str, queries: tuple[str, ...] = ("",)) -> bool:
    """Whether a connection of the server is inside a transaction whose last statement starts with one
    of ``queries`` (not its COMMIT)."""
    like = " OR ".join(f"query LIKE :q{n}" for n in range(len(queries)))
    statement = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND xact_start IS NOT NULL"
        f" AND state IN ('active', 'idle in transaction') AND query NOT LIKE 'COMMIT%' AND ({like})"
    )
    params = {"name": name, **{f"q{n}": f"{query}%" for n, query in enumerate(queries)}}
    with engine.connect() as conn:
        return bool(conn.execute(statement, params).scalar_one())


def create_queue(server: Server, token: str, name: str, items: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    body = {
        "Name": name,
        "MaxNumberOfRetries": RETRIES,
        "AcceptAutomaticallyRetry": True,
        "EnforceUniqueReference": True,
    }
    ok(httpx.post(f"{server.base}/odata/QueueDefinitions", json=body, headers=headers, timeout=30), 201)
    if items:
        batch = [{"Reference": f"item-{n}", "SpecificContent": {"n": n}} for n in range(items)]
        added = httpx.post(
            f"{server.base}{SVC}.BulkAddQueueItems",
            json={"queueName": name, "commitType": "AllOrNothing", "queueItems": batch},
            headers=headers,
            timeout=60,
        )
        assert ok(added)["success"] is True


# 1. Consumers ------------------------------------------------------------------------------------------


@dataclass
class Consumer:
    """A robot: takes items until ``stop``; on a connection error retries the call on the current
    server (or, with ``gives_up``, drops the item whose result it could not report)."""

    robot_id: int
    token: str
    server: Server
    seed: int
    stop: threading.Event
    gives_up: bool
    started: list[int] = field(default_factory=list)
    reported: dict[int, str] = field(default_factory=dict)  # item id -> outcome, answered 200
    unsure: dict[int, str] = field(default_factory=dict)  # interrupted, then refused: outcome unknown
    dropped: dict[int, str] = field(default_factory=dict)  # interrupted and given up
    interruptions: int = 0
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        try:
            self._run()
        except Exception as error:  # reported by the test
            self.errors.append(repr(error))

    def _run(self) -> None:
        rng = random.Random(self.seed)
        headers = {"Authorization": f"Bearer {self.token}", "X-UIPATH-FolderPath": "Shared"}
        with httpx.Client(headers=headers, timeout=60) as http:
            while not self.stop.is_set():
                answer, _ = self._post(
                    http, f"{SVC}.StartTransaction", {"transactionData": {"Name": "crash"}}
                )
                if answer is None or answer.status_code != 200:
                    self.errors.append(f"start: {answer and answer.status_code} {answer and answer.text}")
                    return
                item = answer.json()
                if item is None:  # empty for now: items held when the server died come back later
                    time.sleep(0.1)
                    continue
                item_id = int(item["Id"])
                self.started.append(item_id)
                if item["RobotId"] != self.robot_id or item["Status"] != "InProgress":
                    self.errors.append(f"handed {item_id} as {item['Status']} for robot {item['RobotId']}")
                time.sleep(rng.uniform(0, WORK_SECONDS))
                outcome = rng.choices(["success", "application", "business"], [70, 20, 10])[0]
                self._report(http, item_id, outcome)

    def _report(self, http: httpx.Client, item_id: int, outcome: str) -> None:
        body: dict[str, Any] = {"IsSuccessful": outcome == "success", "Output": {"by": self.robot_id}}
        if outcome != "success":
            kind = "ApplicationException" if outcome == "application" else "BusinessException"
            body["ProcessingException"] = {"Type": kind, "Reason": "random"}
        path = f"/odata/Queues({item_id})/UiPathODataSvc.SetTransactionResult"
        answer, interrupted = self._post(http, path, {"transactionResult": body})
        if answer is None:
            self.dropped[item_id] = outcome
        elif answer.status_code == 200:
            self.reported[item_id] = outcome
        elif interrupted and answer.status_code in (400, 409):  # applied before the kill, or abandoned
            self.unsure[item_id] = outcome
        else:
            self.errors.append(f"result of {item_id}: {answer.status_code} {answer.text}")

    def _post(self, http: httpx.Client, path: str, body: Any) -> tuple[httpx.Response | None, bool]:
        """The answer (None: given up) and whether a connection error came first."""
        interrupted = False
        while True:
            try:
                return http.post(self.server.base + path, json=body), interrupted
            except httpx.TransportError:
                interrupted = True
                self.interruptions += 1
                if self.gives_up and "SetTransactionResult" in path:
                    return None, True
                time.sleep(0.05)


def hold_an_item(server: Server, token: str) -> tuple[int, Callable[[str], None]]:
    """A robot that takes an item and, after the kill, tries to report it to the dead server and gives it
    up: the item stays InProgress until the abandon sweep. Returns the item and that report."""
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    start = {"transactionData": {"Name": "crash"}}
    item = ok(httpx.post(f"{server.base}{SVC}.StartTransaction", json=start, headers=headers, timeout=30))
    item_id = int(item["Id"])

    def report_to(base: str) -> None:
        body = {"transactionResult": {"IsSuccessful": True}}
        with pytest.raises(httpx.TransportError):
            path = f"/odata/Queues({item_id})/UiPathODataSvc.SetTransactionResult"
            httpx.post(base + path, json=body, headers=headers, timeout=5)

    return item_id, report_to


def test_queue_consumers_survive_a_server_kill(database_url: str, tmp_path: Path) -> None:
    name = f"podium-crash-{uuid.uuid4().hex[:12]}"
    prepare_database(database_url)
    settings = {"queue_abandon_timeout": str(ABANDON_SECONDS), "queue_abandon_sweep": "1"}
    server = Server(named(database_url, name), tmp_path / "data", **settings)
    engine = sync_engine(database_url)
    stop = threading.Event()
    server.start()
    try:
        token = admin_token(server.base)
        create_queue(server, token, "crash", ITEMS)
        made = robot_tokens(server.base, token, database_url, CONSUMERS + 1)
        consumers = [
            Consumer(robot_id, robot_token, server, seed=n, stop=stop, gives_up=n % 2 == 1)
            for n, (robot_id, _key, robot_token) in enumerate(made[1:])
        ]
        threads = [threading.Thread(target=consumer.run, daemon=True) for consumer in consumers]
        for thread in threads:
            thread.start()

        def progress() -> int:  # fails the test at once on an unexpected answer
            assert [error for consumer in consumers for error in consumer.errors] == []
            return sum(len(consumer.reported) for consumer in consumers)

        for kill in range(KILLS):
            enough = (kill + 1) * ITEMS // (KILLS + 2)
            wait_for(lambda enough=enough: progress() >= enough, "progress before the kill")
            if kill == 0:  # taken just before the kill: InProgress when the server dies
                held_item, report_held = hold_an_item(server, made[0][2])
            wait_for(lambda: server_in_transaction(engine, name), "a transaction of the server", 0.002)
            done_at_kill = progress()
            dead = server.base
            server.kill()
            if kill == 0:
                report_held(dead)
            server.start()
            assert done_at_kill < ITEMS, "the kill came after the work: make PODIUM_CRASH_TEST_ITEMS larger"

        def settled() -> bool:
            with engine.connect() as conn:
                open_items = select(func.count()).where(
                    queue_items.c.status.in_([int(S.New), int(S.InProgress)])
                )
                return conn.execute(open_items).scalar_one() == 0

        wait_for(settled, "every item final (held ones abandoned by the sweep)")
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        summary = check_consumers(engine, consumers, held_item, made[0][0])
        print(f"consumers across {KILLS} kill(s): {summary}")
    finally:
        stop.set()
        server.stop()
        engine.dispose()


def check_consumers(
    engine: Engine, consumers: list[Consumer], held_item: int, held_robot: int
) -> dict[str, int]:
    assert [error for consumer in consumers for error in consumer.errors] == []
    assert sum(consumer.interruptions for consumer in consumers) > 0, "no robot noticed the kill"
    with engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(select(queue_items))}
        history: dict[int, list[Any]] = defaultdict(list)
        for event in conn.execute(select(queue_item_events).order_by(queue_item_events.c.id)):
            history[event.queue_item_id].append(event)
    started = [item_id for consumer in consumers for item_id in consumer.started]
    # no item handed out twice, to two robots or to one
    assert len(started) == len(set(started)) and held_item not in started
    for item_id, row in rows.items():
        check_history(row, history[item_id])
    abandoned = {
        item_id for item_id, events in history.items() if int(S.Abandoned) in [e.status for e in events]
    }
    # an item nobody was seen taking was handed out in an answer the kill cut off: abandoned by the sweep
    ghosts = set(rows) - set(started) - {held_item}
    assert all(S(rows[item_id].status) is not S.New for item_id in rows)
    assert ghosts <= abandoned, sorted(ghosts - abandoned)
    assert held_item in abandoned and S(rows[held_item].status) is S.Retried
    assert rows[held_item].robot_id == held_robot
    for consumer in consumers:
        for item_id, outcome in consumer.reported.items():
            row = rows[item_id]
            assert row.robot_id == consumer.robot_id and item_id not in abandoned, item_id
            assert S(row.status) is expected(outcome, row.retry_number), (item_id, outcome, S(row.status))
        for item_id, outcome in {**consumer.unsure, **consumer.dropped}.items():
            row = rows[item_id]
            applied = item_id not in abandoned and S(row.status) is expected(outcome, row.retry_number)
            assert applied or item_id in abandoned, (item_id, outcome, S(row.status))
        told = {**consumer.reported, **consumer.unsure, **consumer.dropped}
        assert set(consumer.started) == set(told), "a robot stopped holding an item"
    check_chains(rows)
    return {
        "items": len(rows),
        "reported": sum(len(consumer.reported) for consumer in consumers),
        "interrupted then refused": sum(len(consumer.unsure) for consumer in consumers),
        "given up": sum(len(consumer.dropped) for consumer in consumers),
        "answers lost": len(ghosts),
        "abandoned": len(abandoned),
        "connection errors": sum(consumer.interruptions for consumer in consumers),
    }


def expected(outcome: str, retry_number: int) -> S:
    if outcome == "success":
        return S.Successful
    if outcome == "business":
        return S.Failed
    return S.Retried if retry_number < RETRIES else S.Failed


def check_history(row: Any, events: list[Any]) -> None:
    """The item's history is one walk of the state machine from New to its status: created (or added
    as a retry) once, started once, each later status recorded once."""
    statuses = [S(event.status) for event in events]
    actions = [A(event.action) for event in events]
    assert statuses and statuses[0] is S.New, (row.id, statuses)
    assert actions[0] is (A.Create if row.ancestor_id is None else A.Retry), (row.id, actions)
    assert all(action is A.Status for action in actions[1:]), (row.id, actions)
    assert all(after in ALLOWED[before] for before, after in pairwise(statuses)), (row.id, statuses)
    assert statuses[-1] is S(row.status), (row.id, statuses, S(row.status))
    assert statuses.count(S.InProgress) == 1, (row.id, statuses)


def check_chains(rows: dict[int, Any]) -> None:
    """Every item final; each Retried item has exactly one successor (same reference and content,
    RetryNumber + 1), others none; every reference once at the root; each chain ends in one final
    state and succeeds at most once."""
    assert all(S(row.status) in FINALS for row in rows.values())
    successors: dict[int, list[Any]] = defaultdict(list)
    for row in rows.values():
        if row.ancestor_id is not None:
            successors[row.ancestor_id].append(row)
    roots = [row for row in rows.values() if row.ancestor_id is None]
    assert sorted(row.reference for row in roots) == sorted(f"item-{n}" for n in range(ITEMS))
    for row in rows.values():
        children = successors.get(row.id, [])
        if S(row.status) is S.Retried:
            assert len(children) == 1, row.id
            child = children[0]
            assert (child.reference, child.specific_content, child.retry_number) == (
                row.reference,
                row.specific_content,
                row.retry_number + 1,
            )
        else:
            assert children == [], row.id
    for root in roots:
        chain = [root]
        while S(chain[-1].status) is S.Retried:
            chain.append(successors[chain[-1].id][0])
        assert S(chain[-1].status) in (S.Successful, S.Failed, S.Abandoned), root.reference
        assert [S(row.status) for row in chain].count(S.Successful) <= 1, root.reference
    assert (
        Counter(row.reference for row in rows.values() if S(row.status) is S.Successful).most_common(1)[0][1]
        == 1
    )


# 2. BulkAddQueueItems ----------------------------------------------------------------------------------


@dataclass
class BulkAdder:
    """Adds batch after batch (AllOrNothing); after a connection error waits for ``resume`` and sends
    the same batch again."""

    token: str
    server: Server
    resume: threading.Event
    acknowledged: list[int] = field(default_factory=list)
    interrupted: list[int] = field(default_factory=list)
    refused_again: list[int] = field(default_factory=list)  # sent again and refused: it was there
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def through(self) -> int:
        """Batches answered; fails the test at once on an unexpected answer."""
        assert self.errors == []
        return len(self.acknowledged) + len(self.refused_again)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "X-UIPATH-FolderPath": "Shared"}
        batch = 0
        try:
            with httpx.Client(headers=headers, timeout=120) as http:
                while not self.stop.is_set():
                    self._add(http, batch)
                    batch += 1
        except Exception as error:  # reported by the test
            self.errors.append(repr(error))

    def _add(self, http: httpx.Client, batch: int) -> None:
        items = [
            {"Reference": f"b{batch}-{n}", "SpecificContent": {"b": batch, "n": n}} for n in range(BATCH_SIZE)
        ]
        body = {"queueName": "bulk", "commitType": "AllOrNothing", "queueItems": items}
        again = False
        while True:
            try:
                answer = http.post(f"{self.server.base}{SVC}.BulkAddQueueItems", json=body)
            except httpx.TransportError:
                self.interrupted.append(batch)
                self.resume.wait(DEADLINE_SECONDS)
                again = True
                continue
            if answer.status_code == 200 and answer.json()["success"] is True:
                self.acknowledged.append(batch)
            elif again and answer.status_code == 409 and "DuplicateReference" in answer.text:
                self.refused_again.append(batch)
            else:
                self.errors.append(f"batch {batch}: {answer.status_code} {answer.text[:500]}")
                self.stop.set()
            return


def batch_counts(engine: Engine) -> dict[int, int]:
    """Items per batch, read from the table (references ``b<batch>-<n>``): no reference twice, and each
    item with exactly one Create event (the test's schema holds this queue only)."""
    with engine.connect() as conn:
        items = conn.execute(select(queue_items.c.id, queue_items.c.reference)).all()
        created = conn.execute(
            select(queue_item_events.c.queue_item_id).where(queue_item_events.c.action == int(A.Create))
        ).scalars()
        events = Counter(created)
    duplicates = [
        reference for reference, count in Counter(row.reference for row in items).items() if count > 1
    ]
    assert duplicates == []
    assert events == Counter(row.id for row in items), "an item without its Create event, or one twice"
    return dict(Counter(int(row.reference.split("-")[0][1:]) for row in items))


def added(adder: BulkAdder, engine: Engine, count: int) -> bool:
    """Whether ``count`` batches are through; meanwhile the table never shows part of a batch (one
    snapshot: a whole number of batches, only one being added at a time)."""
    with engine.connect() as conn:
        items = conn.execute(select(func.count()).select_from(queue_items)).scalar_one()
    assert items % BATCH_SIZE == 0, f"{items} items: part of a batch is visible"
    return adder.through() >= count


def test_bulk_add_is_all_or_nothing_across_a_server_kill(database_url: str, tmp_path: Path) -> None:
    name = f"podium-crash-{uuid.uuid4().hex[:12]}"
    prepare_database(database_url)
    server = Server(named(database_url, name), tmp_path / "data")
    engine = sync_engine(database_url)
    resume = threading.Event()
    server.start()
    adder: BulkAdder | None = None
    try:
        token = admin_token(server.base)
        create_queue(server, token, "bulk", 0)
        adder = BulkAdder(token, server, resume)
        thread = threading.Thread(target=adder.run, daemon=True)
        thread.start()
        for kill in range(KILLS):
            through = adder.through()
            wait_for(lambda through=through: added(adder, engine, through + 1), "a batch added")
            resume.clear()
            wait_for(lambda: server_in_transaction(engine, name, WRITING), "a batch being written", 0.002)
            server.kill()
            server.start()
            wait_for(lambda kill=kill: len(adder.interrupted) > kill, "the adder noticing the kill")
            counts = batch_counts(engine)
            assert all(count == BATCH_SIZE for count in counts.values()), counts  # whole batches only
            assert set(adder.acknowledged) <= set(counts)
            resume.set()
        through = adder.through()
        wait_for(lambda: added(adder, engine, through + BATCHES), "more batches")
        adder.stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive() and adder.errors == []
        counts = batch_counts(engine)
        # every batch sent is there, whole and once: the interrupted ones added when sent again, or
        # refused whole then because their first sending had been committed
        assert counts == {batch: BATCH_SIZE for batch in range(len(counts))}
        assert sorted(adder.acknowledged + adder.refused_again) == list(range(len(counts)))
        assert set(adder.refused_again) <= set(adder.interrupted)
        print(
            f"bulk adds across {KILLS} kill(s): {len(counts)} batches of {BATCH_SIZE}; interrupted:"
            f" {sorted(set(adder.interrupted))}, of which committed before the kill: {adder.refused_again}"
        )
    finally:
        resume.set()
        if adder is not None:
            adder.stop.set()
        server.stop()
        engine.dispose()
