"""What the agent reads from ``uipath run`` in a job: the records of ``execution.log`` (as the uipath
2.14.44 runtime writes them, fed in arbitrary chunks), the runtime's file names, the fault envelope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.robot.uipath_run import LogRecords, fault, runtime_files

LOG = (
    "[2026-11-23 14:17:50,052][INFO] printed line\n"
    "[2026-11-23 14:17:50,052][WARNING] a warning\n"
    "[2026-11-23 14:17:50,060][ERROR] failed\n"
    "Traceback (most recent call last):\n"
    '  File "main.py", line 3, in main\n'
    "ValueError: zero\n"
    "[2026-11-23 14:17:50,061][CRITICAL] the end"
)
RECORDS = [
    ("Info", "printed line"),
    ("Warn", "a warning"),
    (
        "Error",
        'failed\nTraceback (most recent call last):\n  File "main.py", line 3, in main\nValueError: zero',
    ),
    ("Fatal", "the end"),
]


@pytest.mark.parametrize("size", [1, 7, 50, len(LOG)])
def test_records_survive_any_chunking(size: int) -> None:
    records = LogRecords()
    found = []
    for start in range(0, len(LOG), size):
        found += records.feed(LOG[start : start + size])
    found += records.flush(final=True)
    assert found == RECORDS


def test_a_quiet_moment_releases_the_record_held_back() -> None:
    records = LogRecords()  # a quiet moment releases the record held back, not an unfinished line
    assert records.feed("[2026-11-23 14:17:50,052][INFO] one\n[2026-11-23 14:17:50,052][IN") == []
    assert records.flush() == [("Info", "one")]
    assert records.feed("FO] two\n") == [] and records.flush(final=True) == [("Info", "two")]


def test_runtime_files_and_fault(tmp_path: Path) -> None:
    assert runtime_files(tmp_path).log == tmp_path / "__uipath" / "execution.log"
    (tmp_path / "uipath.json").write_text(json.dumps({"runtime": {"dir": "run", "outputFile": "r.json"}}))
    files = runtime_files(tmp_path)
    assert (files.log, files.result) == (tmp_path / "run" / "execution.log", tmp_path / "run" / "r.json")
    assert fault(files.result) is None  # no envelope
    envelope = {
        "output": {},
        "status": "faulted",
        "error": {"code": "Python.INPUT_INVALID_JSON", "title": "Invalid input", "detail": "bad 'main'"},
    }
    files.result.parent.mkdir()
    files.result.write_text(json.dumps(envelope))
    assert fault(files.result) == "Invalid input - bad 'main'"
