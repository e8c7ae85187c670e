"""``podium.runtime``'s waits inside one run of a job, without a robot: the first wait not met yet
writes the suspension and exits with 75; the waits met before (``PODIUM_RESUME_FILE``) answer at once,
a failed job as ``JobFailed`` naming that job (also for ``invoke_process``, which knows only the
release's name). The whole round trip on a robot is tests/e2e/test_runtime_waits.py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from podium import runtime


@pytest.fixture
def job_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    suspend, resume = tmp_path / "suspend.json", tmp_path / "waits.json"
    monkeypatch.setenv("PODIUM_SUSPEND_FILE", str(suspend))
    monkeypatch.setenv("PODIUM_RESUME_FILE", str(resume))
    monkeypatch.setattr(runtime, "_made", 0)
    return suspend, resume


def test_the_first_wait_not_met_suspends_the_run(job_files: tuple[Path, Path]) -> None:
    suspend, resume = job_files
    resume.write_text(json.dumps({"wait-1": {"word": "hi", "Action": "Approve"}}))
    assert runtime.wait_for_task(7) == {"word": "hi", "Action": "Approve"}
    with pytest.raises(SystemExit) as exited:
        runtime.wait_until(dt.datetime(2030, 1, 2, 3, 4, 5))  # naive: UTC
    assert exited.value.code == runtime.SUSPEND_EXIT_CODE
    assert json.loads(suspend.read_text()) == {
        "resumeTriggers": [
            {"triggerType": "Timer", "resumeTime": "2030-01-02T03:04:05+00:00", "interruptId": "wait-2"}
        ]
    }


def test_a_job_that_failed_raises_job_failed_naming_it(job_files: tuple[Path, Path]) -> None:
    _suspend, resume = job_files
    faulted = {
        "key": "c0ffee00-0000-4000-8000-000000000001",
        "state": "Faulted",
        "output": None,
        "info": "boom",
    }
    resume.write_text(json.dumps({"child": faulted, "waited": {**faulted, "state": "Stopped", "info": None}}))
    with pytest.raises(runtime.JobFailed) as failed:
        runtime.invoke_process("child-release", {"word": "x"}, name="child")
    assert str(failed.value) == f"The job {faulted['key']} ended Faulted: boom"
    assert (failed.value.job_key, failed.value.state, failed.value.info) == (
        faulted["key"],
        "Faulted",
        "boom",
    )
    with pytest.raises(runtime.JobFailed, match="ended Stopped: no details"):
        runtime.wait_for_job(faulted["key"], name="waited")


def test_waits_outside_a_job_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODIUM_SUSPEND_FILE", raising=False)
    monkeypatch.delenv("PODIUM_RESUME_FILE", raising=False)
    with pytest.raises(RuntimeError, match="only inside a job"):
        runtime.wait_for_payload("inbox")
