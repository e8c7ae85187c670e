"""Exactly once under load: concurrent robots over HTTP through one queue, with random failures,
automatic retries, and a robot killed in the middle of a transaction.

Sizes (defaults keep CI short; the issue's full figure is 32 consumers and 20,000 items):
``PODIUM_QUEUE_TEST_CONSUMERS`` (8), ``PODIUM_QUEUE_TEST_ITEMS`` (600), ``PODIUM_QUEUE_TEST_PG_SERVERS`` (2;
SQLite always runs one server process). Asserted from the robots' records and the database: every
item ends in exactly one final state, none is handed to two robots, none is lost, every retry chain
is complete, and the killed robot's item is abandoned after the (shortened) timeout and retried.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from podium.db.schema_queues import queue_item_events, queue_items
from podium.domain.queue_enums import QueueItemStatus as S
from tests.conftest import sync_engine
from tests.e2e.queue_servers import admin_token, podium_servers, robot_tokens
from tests.e2e.test_sdk_jobs import ok

pytestmark = pytest.mark.e2e
CONSUMERS = int(os.environ.get("PODIUM_QUEUE_TEST_CONSUMERS", "8"))
ITEMS = int(os.environ.get("PODIUM_QUEUE_TEST_ITEMS", "600"))
PG_SERVERS = int(os.environ.get("PODIUM_QUEUE_TEST_PG_SERVERS", "2"))
ABANDON_SECONDS = 8
RETRIES = 2
SVC = "/odata/Queues/UiPathODataSvc"
KILLED_ROBOT = """
import sys, time, httpx
base, token = sys.argv[1], sys.argv[2]
headers = {"Authorization": "Bearer " + token, "X-UIPATH-FolderPath": "Shared"}
answer = httpx.post(base + "/odata/Queues/UiPathODataSvc.StartTransaction",
                    json={"transactionData": {"Name": "load"}}, headers=headers, timeout=30)
print(answer.json()["Id"], flush=True)
time.sleep(600)
"""


@dataclass
class Robot:
    robot_id: int
    token: str
    base: str
    seed: int
    taken: list[tuple[int, str, int]] = field(default_factory=list)  # (item id, outcome, result status)
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        rng = random.Random(self.seed)
        headers = {"Authorization": f"Bearer {self.token}", "X-UIPATH-FolderPath": "Shared"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=60) as http:
            while True:
                answer = http.post(f"{SVC}.StartTransaction", json={"transactionData": {"Name": "load"}})
                if answer.status_code != 200:
                    self.errors.append(f"start {answer.status_code} {answer.text}")
                    return
                item = answer.json()
                if item is None:
                    return
                if item["RobotId"] != self.robot_id or item["Status"] != "InProgress":
                    self.errors.append(f"handed {item['Id']} as {item['Status']} for robot {item['RobotId']}")
                outcome = rng.choices(["success", "application", "business"], [70, 20, 10])[0]
                body: dict[str, Any] = {"IsSuccessful": outcome == "success", "Output": {"by": self.robot_id}}
                if outcome != "success":
                    kind = "ApplicationException" if outcome == "application" else "BusinessException"
                    body["ProcessingException"] = {"Type": kind, "Reason": "random"}
                done = http.post(
                    f"/odata/Queues({item['Id']})/UiPathODataSvc.SetTransactionResult",
                    json={"transactionResult": body},
                )
                self.taken.append((int(item["Id"]), outcome, done.status_code))


def _setup(base: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        body = {
            "Name": "load",
            "MaxNumberOfRetries": RETRIES,
            "AcceptAutomaticallyRetry": True,
            "EnforceUniqueReference": True,
        }
        ok(http.post("/odata/QueueDefinitions", json=body), 201)
        for start in range(0, ITEMS, 1000):
            batch = [
                {
                    "Reference": f"item-{n}",
                    "SpecificContent": {"n": n},
                    "Priority": ("High", "Normal", "Low")[n % 3],
                }
                for n in range(start, min(start + 1000, ITEMS))
            ]
            answer = ok(
                http.post(
                    f"{SVC}.BulkAddQueueItems",
                    json={"queueName": "load", "commitType": "AllOrNothing", "queueItems": batch},
                )
            )
            assert answer["success"] is True


def _kill_a_robot_mid_transaction(base: str, token: str) -> int:
    process = subprocess.Popen([sys.executable, "-c", KILLED_ROBOT, base, token], stdout=subprocess.PIPE)
    assert process.stdout is not None
    item_id = int(process.stdout.readline())
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return item_id


def _drain(robots: list[Robot]) -> None:
    threads = [threading.Thread(target=robot.run) for robot in robots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=1800)
    assert not any(thread.is_alive() for thread in threads)


def test_concurrent_consumers_exactly_once(database_url: str, tmp_path: Path) -> None:
    servers = PG_SERVERS if database_url.startswith("postgresql") else 1
    settings = {"queue_abandon_timeout": str(ABANDON_SECONDS), "queue_abandon_sweep": "1"}
    with podium_servers(database_url, tmp_path / "data", servers, **settings) as bases:
        token = admin_token(bases[0])
        _setup(bases[0], token)
        made = robot_tokens(bases[0], token, database_url, CONSUMERS + 1)
        killed_robot, workers = made[0], made[1:]
        killed_item = _kill_a_robot_mid_transaction(bases[-1], killed_robot[2])
        robots = [
            Robot(rid, tok, bases[n % len(bases)], seed=n) for n, (rid, _key, tok) in enumerate(workers)
        ]
        _drain(robots)
        # the killed robot's item is abandoned after the timeout and its retry becomes available
        engine = sync_engine(database_url)
        deadline = time.monotonic() + ABANDON_SECONDS + 60
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                status = conn.execute(
                    select(queue_items.c.status).where(queue_items.c.id == killed_item)
                ).scalar()
            if status != S.InProgress:
                break
            time.sleep(0.5)
        _drain(robots)
        try:
            _check(engine, robots, killed_item, killed_robot[0])
        finally:
            engine.dispose()


def _check(engine: Any, robots: list[Robot], killed_item: int, killed_robot: int) -> None:
    assert [error for robot in robots for error in robot.errors] == []
    with engine.connect() as conn:
        rows = {row.id: row for row in conn.execute(select(queue_items))}
        starts = Counter(
            row.queue_item_id
            for row in conn.execute(
                select(queue_item_events.c.queue_item_id).where(
                    queue_item_events.c.status == int(S.InProgress)
                )
            )
        )
        total = conn.execute(select(func.count()).select_from(queue_items)).scalar_one()
    claims = [
        (robot.robot_id, item_id, outcome, status)
        for robot in robots
        for item_id, outcome, status in robot.taken
    ]
    claimed_ids = [item_id for _robot, item_id, _outcome, _status in claims]
    # none handed to two robots (nor twice to one): by the robots' records and by the server's history
    assert len(claimed_ids) == len(set(claimed_ids))
    assert killed_item not in claimed_ids
    assert set(claimed_ids) | {killed_item} == set(rows) and len(rows) == total
    assert all(count == 1 for count in starts.values()) and set(starts) == set(rows)
    for robot_id, item_id, outcome, status in claims:
        row = rows[item_id]
        assert row.robot_id == robot_id
        if status != 200:  # only possible if the robot outlived the abandon timeout
            assert S(row.status) in (S.Abandoned, S.Retried), (item_id, status)
            continue
        expected = {
            "success": S.Successful,
            "business": S.Failed,
            "application": S.Retried if row.retry_number < RETRIES else S.Failed,
        }[outcome]
        assert S(row.status) is expected, (item_id, outcome, S(row.status))
    # the killed robot's item: abandoned, then retried (its successor processed by another robot)
    assert rows[killed_item].robot_id == killed_robot and S(rows[killed_item].status) is S.Retried
    _check_chains(rows)


def _check_chains(rows: dict[int, Any]) -> None:
    """Every item is final; each Retried item has exactly one successor (same key, reference, content,
    RetryNumber + 1); every original reference is there once; none is lost."""
    finals = {S.Successful, S.Failed, S.Retried, S.Abandoned}
    assert all(S(row.status) in finals for row in rows.values())
    successors: dict[int, list[Any]] = {}
    for row in rows.values():
        if row.ancestor_id is not None:
            successors.setdefault(row.ancestor_id, []).append(row)
    originals = [row for row in rows.values() if row.ancestor_id is None]
    assert sorted(row.reference for row in originals) == sorted(f"item-{n}" for n in range(ITEMS))
    for row in rows.values():
        children = successors.get(row.id, [])
        if S(row.status) is S.Retried:
            assert len(children) == 1, row.id
            child = children[0]
            assert S(rows[row.id].status) is S.Retried
            assert (child.key, child.reference, child.specific_content, child.retry_number) == (
                row.key,
                row.reference,
                row.specific_content,
                row.retry_number + 1,
            )
        else:
            assert children == [], row.id
    for row in originals:  # walk each chain to its end: a final state that is not Retried
        current = row
        while S(current.status) is S.Retried:
            current = successors[current.id][0]
        assert S(current.status) in (S.Successful, S.Failed, S.Abandoned)
