"""Helpers for code running inside a Podium job (standard library only): stop requests, and waits that
suspend the job until a task, another job, a time or a payload (below).

``should_stop()`` tells a job that a SoftStop was asked, so it can finish cleanly. The robot agent
creates the file named by ``PODIUM_STOP_FILE`` when the job is asked to stop: code in any language
can test for that file. (``GET /api/robot/jobs/current/stop`` with the job's ``UIPATH_ACCESS_TOKEN``
answers the same from the server.)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.request
from typing import NoReturn


def should_stop() -> bool:
    """True once the job was asked to stop (SoftStop) or is being killed."""
    path = os.environ.get("PODIUM_STOP_FILE")
    return bool(path) and os.path.exists(path)  # type: ignore[arg-type]


def job_key() -> str | None:
    """The key of the job this process runs (``UIPATH_JOB_KEY``)."""
    return os.environ.get("UIPATH_JOB_KEY")


# -- waiting: the job suspends (its robot is free meanwhile) and runs again when the wait is met -------
#
# A job's function that calls ``wait_for_task``, ``wait_for_job``, ``invoke_process``, ``wait_until`` or
# ``wait_for_payload`` for something not yet there ends its run: the robot reports the job Suspended
# with what it waits for. When that is met the job is Resumed and its function runs again FROM THE
# START with the same input; each wait met before answers at once with what met it (the task's data,
# the job's output, the payload), in the order the waits are made (or by their ``name``). Code before
# a wait therefore runs again on resume: keep it free of side effects, or let ``invoke_process``
# start the other job (it starts it once).

SUSPEND_EXIT_CODE = 75  # the process's exit status when it suspends (EX_TEMPFAIL)
_made = 0  # waits made so far in this run


class JobFailed(RuntimeError):
    """The job waited for ended Faulted or Stopped (``state`` and ``info`` say how)."""

    def __init__(self, job_key: str, state: str, info: str | None) -> None:
        super().__init__(f"The job {job_key} ended {state}: {info or 'no details'}")
        self.job_key, self.state, self.info = job_key, state, info


def _met() -> dict[str, object]:
    """What met the waits of earlier runs of this job, by wait name (``PODIUM_RESUME_FILE``)."""
    path = os.environ.get("PODIUM_RESUME_FILE")
    if not path or not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        loaded = json.load(handle)
    return loaded if isinstance(loaded, dict) else {}


def _name(name: str | None) -> str:
    global _made
    _made += 1
    return name or f"wait-{_made}"


def _suspend(trigger: dict[str, object]) -> NoReturn:
    path = os.environ.get("PODIUM_SUSPEND_FILE")
    if not path:
        raise RuntimeError("podium.runtime waits only inside a job run by a Podium robot.")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"resumeTriggers": [trigger]}, handle)
    raise SystemExit(SUSPEND_EXIT_CODE)


def _wait(name: str, trigger: dict[str, object]) -> object:
    met = _met()
    if name in met:
        return met[name]
    _suspend({**trigger, "interruptId": name})


def wait_for_task(task: int | str, *, name: str | None = None) -> dict[str, object]:
    """Waits until the Action Center task (its id, or its key) is completed; answers its data (the
    action the person chose is in it as ``Action``)."""
    wait = _name(name)
    named = {"itemId": task} if isinstance(task, int) else {"itemKey": str(task)}
    value = _wait(wait, {"triggerType": "Task", **named})
    return value if isinstance(value, dict) else {}


def _job_output(job_key: str, value: object) -> dict[str, object]:
    outcome = value if isinstance(value, dict) else {}
    if outcome.get("state") != "Successful":
        info, key = outcome.get("info"), outcome.get("key")
        raise JobFailed(
            key if isinstance(key, str) else job_key,
            str(outcome.get("state")),
            info if isinstance(info, str) else None,
        )
    output = outcome.get("output")
    return output if isinstance(output, dict) else {}


def wait_for_job(job_key: str, *, name: str | None = None) -> dict[str, object]:
    """Waits until the job ``job_key`` ends; answers its output arguments (JobFailed unless it ended
    Successful)."""
    return _job_output(job_key, _wait(_name(name), {"triggerType": "Job", "itemKey": job_key}))


def invoke_process(
    release_name: str, input_arguments: dict[str, object] | None = None, *, name: str | None = None
) -> dict[str, object]:
    """Starts a job of the process (release) ``release_name`` and waits for it (once: a run resumed
    after it does not start it again); answers its output arguments."""
    wait = _name(name)
    met = _met()
    if wait in met:
        return _job_output(release_name, met[wait])
    key = _start_job(release_name, input_arguments or {})
    _suspend({"interruptId": wait, "triggerType": "Job", "itemKey": key})


def _start_job(release_name: str, input_arguments: dict[str, object]) -> str:
    """StartJobs as the job itself (its ``UIPATH_ACCESS_TOKEN``); the new job's key."""
    info = {"ReleaseName": release_name, "InputArguments": json.dumps(input_arguments)}
    request = urllib.request.Request(
        f"{os.environ['UIPATH_URL']}/orchestrator_/odata/Jobs/UiPath.Server.Configuration.OData.StartJobs",
        data=json.dumps({"startInfo": info}).encode(),
        headers={
            "Authorization": f"Bearer {os.environ['UIPATH_ACCESS_TOKEN']}",
            "Content-Type": "application/json",
            "X-UIPATH-FolderPath": os.environ.get("UIPATH_FOLDER_PATH", ""),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        started = json.load(answer)
    return str(started["value"][0]["Key"])


def wait_until(moment: dt.datetime, *, name: str | None = None) -> None:
    """Waits until ``moment`` (a naive time is UTC)."""
    utc = dt.timezone.utc  # noqa: UP017 (job interpreters may be older than 3.11)
    when = (moment if moment.tzinfo else moment.replace(tzinfo=utc)).astimezone(utc)
    _wait(_name(name), {"triggerType": "Timer", "resumeTime": when.isoformat()})


def wait_for_payload(inbox_id: str, *, name: str | None = None) -> object:
    """Waits for a payload delivered to ``inbox_id`` (``POST /api/JobTriggers/DeliverPayload/{inbox_id}``
    with ``{"payload": …}``, e.g. the SDK's ``jobs.resume(inbox_id=…, payload=…)``); answers it."""
    value = _wait(_name(name), {"triggerType": "Api", "apiResume": {"inboxId": inbox_id}})
    return value.get("payload", value) if isinstance(value, dict) else value
