"""Running a ``uipath pack`` package the way ``uipath run <entry point>`` runs it (docs/packages.md).

In a job (``UIPATH_JOB_KEY`` set) the ``uipath`` runtime does not print the job's output: it writes the
log records to ``<runtime dir>/execution.log`` (``[time][LEVEL] message``) and the result envelope
(``{"output", "status", "error": {"title", "detail"}}``) to ``<runtime dir>/output.json``; the runtime
dir is ``__uipath`` under the working directory unless ``uipath.json`` ``runtime.dir`` says otherwise.
The runner follows the log file (the lines become robot logs) and reads the envelope for a fault or
a suspension: ``"status": "suspended"`` with the ``resumeTriggers`` the runtime created (a task it
created, a job it started, a time, an inbox id) and stored in its state (``__uipath/state.db`` or
the runtime's own storage); ``uipath run`` still exits 0. Orchestrator's robot resumes it with
``uipath run <entry> --resume`` in the same folder, and so does Podium's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The package's own ``uipath`` console script, whichever version its environment holds.
LAUNCHER = (
    "import sys; from importlib.metadata import entry_points; "
    "(script,) = entry_points(group='console_scripts', name='uipath'); "
    "sys.argv[0] = 'uipath'; sys.exit(script.load()())"
)
# The uipath runtime's settings for a job's process: no span export to UiPath's LLMOps service
# (Podium does not serve it), no colour codes in the lines that become logs.
ENVIRONMENT = {"UIPATH_TRACING_ENABLED": "false", "NO_COLOR": "1"}
RECORD = re.compile(r"^\[(?P<time>[^\]]{10,40})\]\[(?P<level>[A-Z]+)\] ?(?P<message>.*)$")
LEVELS = {
    "NOTSET": "Trace",
    "DEBUG": "Debug",
    "INFO": "Info",
    "WARNING": "Warn",
    "WARN": "Warn",
    "ERROR": "Error",
    "CRITICAL": "Fatal",
    "FATAL": "Fatal",
}


@dataclass(frozen=True)
class RuntimeFiles:
    log: Path
    result: Path


def command(python: str, entry_point: str, input_file: Path, output_file: Path) -> list[str]:
    return [
        python,
        "-c",
        LAUNCHER,
        "run",
        entry_point,
        "--input-file",
        str(input_file),
        "--output-file",
        str(output_file),
    ]


def resume_command(python: str, entry_point: str, output_file: Path) -> list[str]:
    """``uipath run <entry> --resume``: no input, so the runtime builds its resume input itself from the
    triggers it stored when it suspended (reading what met them from Podium through the SDK)."""
    return [python, "-c", LAUNCHER, "run", entry_point, "--resume", "--output-file", str(output_file)]


def suspension(result: Path) -> list[dict[str, Any]] | None:
    """The resume triggers of a result envelope whose status is ``suspended`` (``resumeTriggers``, or
    the single ``resume`` of older runtimes); None for any other result."""
    try:
        envelope = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(envelope, dict) or str(envelope.get("status")).lower() != "suspended":
        return None
    triggers = envelope.get("resumeTriggers") or ([envelope["resume"]] if envelope.get("resume") else [])
    return [t for t in triggers if isinstance(t, dict)] or None


def runtime_files(content_dir: Path) -> RuntimeFiles:
    """Where ``uipath run`` writes the job's log and result, per ``uipath.json`` ``runtime``."""
    runtime: dict[str, Any] = {}
    config = content_dir / "uipath.json"
    try:
        loaded = json.loads(config.read_text(encoding="utf-8"))
        if isinstance(loaded, dict) and isinstance(loaded.get("runtime"), dict):
            runtime = loaded["runtime"]
    except (OSError, ValueError):
        pass
    folder = content_dir / str(runtime.get("dir") or "__uipath")
    return RuntimeFiles(
        log=folder / str(runtime.get("logsFile") or "execution.log"),
        result=folder / str(runtime.get("outputFile") or "output.json"),
    )


def fault(result: Path) -> str | None:
    """``title - detail`` of a faulted result envelope (as ``uipath run`` prints it), if there is one."""
    try:
        envelope = json.loads(result.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    error = envelope.get("error") if isinstance(envelope, dict) else None
    if not isinstance(error, dict):
        return None
    title, detail = error.get("title"), error.get("detail")
    text = " - ".join(str(part) for part in (title, detail) if part)
    return text or None


class LogRecords:
    """Turns the text appended to ``execution.log`` into (level, message) records; a line without the
    ``[time][LEVEL]`` prefix continues the record before it (a traceback)."""

    def __init__(self) -> None:
        self._partial = ""  # an unfinished last line
        self._record: tuple[str, list[str]] | None = None

    def feed(self, text: str) -> list[tuple[str, str]]:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        done: list[tuple[str, str]] = []
        for line in lines:
            line = line.rstrip("\r")
            match = RECORD.match(line)
            if match is not None:
                done += self.flush()
                self._record = (LEVELS.get(match["level"], "Info"), [match["message"]])
            elif self._record is not None:
                self._record[1].append(line)
            elif line.strip():
                done.append(("Info", line))
        return done

    def flush(self, final: bool = False) -> list[tuple[str, str]]:
        """The record held back (it may still grow) and, at the end, an unfinished last line."""
        if final and self._partial:
            tail, self._partial = self._partial, ""
            done = self.feed(tail + "\n")
        else:
            done = []
        if self._record is None:
            return done
        level, lines = self._record
        self._record = None
        message = "\n".join(lines).rstrip()
        return [*done, (level, message)] if message else done
