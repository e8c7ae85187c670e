"""``podium serve`` sets its start-up heap aside from the garbage collector (``http/heap.py``); apps
built by other processes (this test suite) leave the collector as it is."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from podium.app import create_app
from podium.config import Settings
from podium.http import heap
from tests.support import SIGNING_KEY


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """The test process's collector as it was: nothing left frozen, CPython's thresholds back."""
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


class _Node:
    def __init__(self) -> None:
        self.partner: _Node | None = None


def test_settle_freezes_the_heap_and_collects_the_young_less_often(collector_restored: None) -> None:
    older = gc.get_threshold()
    heap.settle()
    assert gc.get_freeze_count() > 1000  # the modules, the app's model: everything alive now
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, older[1], older[2])
    # what is made afterwards is still collected, cycles included
    first, second = _Node(), _Node()
    first.partner, second.partner = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None


@pytest.mark.parametrize("settle_heap", [False, True])
def test_only_a_served_app_settles_its_heap(
    database_url: str, tmp_path: Path, settle_heap: bool, collector_restored: None
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key=SIGNING_KEY)
    with TestClient(create_app(settings, settle_heap=settle_heap)) as client:
        assert client.get("/odata/$metadata").status_code == 200
        frozen = gc.get_freeze_count()
        threshold = gc.get_threshold()[0]
    if settle_heap:
        assert frozen > 1000 and threshold == heap.YOUNG_THRESHOLD
    else:
        assert frozen == 0 and threshold != heap.YOUNG_THRESHOLD


@pytest.mark.parametrize("workers", [1, 2])
def test_podium_serve_settles_the_heap_of_each_worker(
    empty_database_url: str,
    tmp_path: Path,
    workers: int,
    monkeypatch: pytest.MonkeyPatch,
    collector_restored: None,
) -> None:
    """What ``podium serve`` hands uvicorn (its app, or the factory its workers call) settles once started."""
    import uvicorn

    from podium import cli
    from podium.app import app_from_environment

    handed: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_options: handed.append(app))
    # serve sets PODIUM_DATA_DIR and PODIUM_DATABASE_URL for its workers: in a copy of the environment,
    # dropped after the test (later tests' commands must not find this test's database)
    monkeypatch.setattr(os, "environ", os.environ.copy())
    umask = os.umask(0o022)  # serve sets the server's umask
    try:
        cli.main(
            [
                "serve",
                "--data-dir",
                str(tmp_path),
                "--database-url",
                empty_database_url,
                "--workers",
                str(workers),
            ]
        )
    finally:
        os.umask(umask)
    [app] = handed
    if workers > 1:
        assert app == "podium.app:app_from_environment"
        app = app_from_environment()
    with TestClient(app):
        assert gc.get_freeze_count() > 1000 and gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
