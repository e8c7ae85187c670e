"""pytest-xdist schedules tests by id, so two tests of one id run as one, silently."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_id_is_unique() -> None:
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-n0", "tests"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert len(ids) > 5000
    assert [nodeid for nodeid, n in Counter(ids).items() if n > 1] == []
    # the fuzzer's operations among them, one test each
    fuzzed = [nodeid for nodeid in ids if nodeid.startswith("tests/test_fuzz_api.py::test_reads[GET /odata/")]
    assert len(fuzzed) > 100
