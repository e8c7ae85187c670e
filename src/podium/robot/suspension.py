"""A job's state between its runs: packed when it suspends, restored when it resumes.

The state is a folder: for ``uipath pack`` packages the ``uipath`` runtime's own (``__uipath``: its
resume triggers, its checkpoints), for Python packages ``podium.runtime``'s (``waits.json``: what met
each wait so far, by wait name). It travels as a tar.gz with the Suspended report and comes back with
the resumed job (``Assignment.resume``), so a job resumes on any robot and nothing is lost when the
robot that ran it is gone meanwhile.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

WAITS_FILE = "waits.json"
MAX_ARCHIVE = 8 * 1024 * 1024  # as Podium accepts


def pack(folder: Path, skip: set[str]) -> bytes | None:
    """The folder's files (but ``skip``, names at its top) as a tar.gz; None when there are none."""
    if not folder.is_dir():
        return None
    buffer = io.BytesIO()
    count = 0
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if relative.parts[0] in skip or not path.is_file() or path.is_symlink():
                continue
            archive.add(path, arcname=str(relative), recursive=False)
            count += 1
    data = buffer.getvalue()
    if len(data) > MAX_ARCHIVE:
        raise ValueError(f"the job's state folder packs to {len(data)} bytes, more than {MAX_ARCHIVE}")
    return data if count else None


def restore(folder: Path, resume: dict[str, Any], *, waits: bool) -> None:
    """The folder as the job's last run left it; with ``waits`` (podium.runtime), what met the waits
    of this resume added to ``waits.json``."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    state = resume.get("state")
    if state:
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(state)), mode="r:gz") as archive:
            archive.extractall(folder, filter="data")  # no absolute paths, links out or devices
    if waits:
        path = folder / WAITS_FILE
        met = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        met.update(resume.get("values") or {})
        path.write_text(json.dumps(met), encoding="utf-8")


def requested(path: Path) -> list[dict[str, Any]] | None:
    """The resume triggers ``podium.runtime`` wrote when its process suspended, if it did."""
    try:
        written = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    triggers = written.get("resumeTriggers") if isinstance(written, dict) else None
    return triggers if isinstance(triggers, list) and triggers else None


def encode(archive: bytes | None) -> str | None:
    return None if archive is None else base64.b64encode(archive).decode()
