"""Helpers for code running inside a Podium job (standard library only).

``should_stop()`` tells a job that a SoftStop was asked, so it can finish cleanly. The robot agent
creates the file named by ``PODIUM_STOP_FILE`` when the job is asked to stop: code in any language
can test for that file. (``GET /api/robot/jobs/current/stop`` with the job's ``UIPATH_ACCESS_TOKEN``
answers the same from the server.)
"""

from __future__ import annotations

import os


def should_stop() -> bool:
    """True once the job was asked to stop (SoftStop) or is being killed."""
    path = os.environ.get("PODIUM_STOP_FILE")
    return bool(path) and os.path.exists(path)  # type: ignore[arg-type]


def job_key() -> str | None:
    """The key of the job this process runs (``UIPATH_JOB_KEY``)."""
    return os.environ.get("UIPATH_JOB_KEY")
