"""Runs one job in its own process (its own process group), for the three kinds of package.

The process's output lines are handed to ``on_line`` (level, text); a SoftStop creates the stop file
(``PODIUM_STOP_FILE``) the job can watch; a Kill ends the whole process tree at once.

A job may end its run Suspended (``job_state``): a ``uipath pack`` process when the ``uipath``
runtime's result says ``"status": "suspended"`` (its resume triggers and its state folder
``__uipath`` are handed back; the resumed run is ``uipath run <entry> --resume`` in that folder
restored), a Python package when ``podium.runtime`` wrote ``PODIUM_SUSPEND_FILE`` (what met its waits
so far is its state; the resumed run reads them from ``PODIUM_RESUME_FILE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.robot import suspension, uipath_run

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
RUNTIME_SHIM = Path(__file__).resolve().parents[1] / "runtime.py"
MAX_LINE = 10_000
LEVEL_PREFIXES = {
    "TRACE": "Trace",
    "DEBUG": "Debug",
    "INFO": "Info",
    "WARNING": "Warn",
    "WARN": "Warn",
    "ERROR": "Error",
    "CRITICAL": "Fatal",
    "FATAL": "Fatal",
}
SECRET_VARIABLES = ("PODIUM_MACHINE_KEY", "PODIUM_CLIENT_SECRET", "UNATTENDED_USER_ACCESS_TOKEN")
# where a job leaves screenshots, relative to its working directory (PODIUM_SCREENSHOTS_DIR names it): the
# newest one is uploaded as the job's execution media when the job faults
SCREENSHOTS = Path(".podium") / "screenshots"
SCREENSHOT_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class JobSpec:
    key: str
    kind: str  # "python" | "robotframework" | "uipath-python"
    content_dir: Path
    entry_point: str
    python: str
    input_arguments: dict[str, Any]
    environment: dict[str, str]
    work_dir: Path
    function: str | None = None
    resume: dict[str, Any] | None = None  # Assignment.resume: a resumed run


@dataclass
class Outcome:
    state: str  # Successful | Faulted | Stopped | Suspended
    output: dict[str, Any] | None = None
    info: str | None = None
    stderr_tail: list[str] = field(default_factory=list)
    triggers: list[dict[str, Any]] | None = None  # Suspended: what the job waits for
    state_archive: bytes | None = None  # Suspended: the state its resumed run starts from


def line_level(text: str, stream: str) -> tuple[str, str]:
    """The log level of an output line: a leading level name (``WARNING:root:…``, ``ERROR …``) wins;
    otherwise Info for stdout and Error for stderr."""
    head = text.lstrip()[:9].upper()
    for prefix, level in LEVEL_PREFIXES.items():
        if head.startswith(prefix) and text.lstrip()[len(prefix) : len(prefix) + 1] in (":", " ", "]", "|"):
            return level, text
    return ("Error" if stream == "stderr" else "Info"), text


def last_screenshot(folder: Path) -> Path | None:
    """The newest PNG or JPEG file directly in ``folder`` (by modification time, then name), if any."""
    if not folder.is_dir():
        return None
    found = [
        (path.stat().st_mtime_ns, path.name, path)
        for path in folder.iterdir()
        if path.suffix.lower() in SCREENSHOT_SUFFIXES and path.is_file() and not path.is_symlink()
    ]
    return max(found)[2] if found else None


def job_environment(spec_env: dict[str, str], shim_dir: Path) -> dict[str, str]:
    """The agent's environment without its secrets or stray UiPath settings, plus the job's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UIPATH_") and k not in SECRET_VARIABLES}
    env.update(spec_env)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(shim_dir)) if p)
    return env


def runtime_shim(root: Path) -> Path:
    """A folder holding ``podium/runtime.py`` only, so job code can ``import podium.runtime``."""
    target = root / "runtime-shim"
    package = target / "podium"
    if not (package / "runtime.py").exists():
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        (package / "runtime.py").write_text(RUNTIME_SHIM.read_text())
    return target


def command(spec: JobSpec, files: dict[str, Path]) -> list[str]:
    entry = str(spec.content_dir / spec.entry_point)
    if spec.kind == "python":
        return [spec.python, str(BOOTSTRAP)] if spec.function else [spec.python, entry]
    if spec.kind == "robotframework":
        variables: list[str] = []
        for name, value in spec.input_arguments.items():
            text = value if isinstance(value, str) else json.dumps(value)
            variables += ["--variable", f"{name}:{text}"]
        variables += ["--variable", f"PODIUM_OUTPUT_FILE:{files['output']}"]
        return [
            spec.python,
            "-m",
            "robot",
            "--outputdir",
            str(spec.work_dir / "robot"),
            "--consolecolors",
            "off",
            *variables,
            entry,
        ]
    if spec.kind == "uipath-python":
        if spec.resume is not None:  # the runtime finds what it waited for itself, from its state
            return uipath_run.resume_command(spec.python, spec.entry_point, files["output"])
        return uipath_run.command(spec.python, spec.entry_point, files["input"], files["output"])
    raise ValueError(f"unknown package kind {spec.kind!r}")


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc), even those that left its process group."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").exists() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL to the process group and to every descendant."""
    below = descendants(pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    for child in below:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(child, signal.SIGKILL)


class JobProcess:
    def __init__(self, spec: JobSpec, on_line: Callable[[str, str], None], shim_dir: Path) -> None:
        self.spec = spec
        self.on_line = on_line
        self.shim_dir = shim_dir
        spec.work_dir.mkdir(parents=True, exist_ok=True)
        self.uipath_files = uipath_run.runtime_files(spec.content_dir)
        self.files = {
            name: spec.work_dir / f"{name}.json" for name in ("input", "output", "error", "suspend")
        }
        # where the job's state lives between runs: the uipath runtime's folder, or podium.runtime's
        self.state_dir = (
            self.uipath_files.log.parent if spec.kind == "uipath-python" else spec.work_dir / "podium-state"
        )
        self.stop_file = spec.work_dir / "stop"
        self.screenshots = spec.content_dir / SCREENSHOTS
        self.stop_asked = False
        self.killed = False
        self.process: asyncio.subprocess.Process | None = None
        self._tail: list[tuple[str, str]] = []  # the last output lines (stream, text)

    def _env(self) -> dict[str, str]:
        env = dict(self.spec.environment)
        payload = json.dumps(self.spec.input_arguments)
        env.update(
            PODIUM_INPUT=payload,
            PODIUM_INPUT_FILE=str(self.files["input"]),
            PODIUM_OUTPUT_FILE=str(self.files["output"]),
            PODIUM_ERROR_FILE=str(self.files["error"]),
            PODIUM_STOP_FILE=str(self.stop_file),
            PODIUM_ENTRY_FILE=str(self.spec.content_dir / self.spec.entry_point),
            PODIUM_SUSPEND_FILE=str(self.files["suspend"]),
            PODIUM_RESUME_FILE=str(self.state_dir / suspension.WAITS_FILE),
            PODIUM_SCREENSHOTS_DIR=str(self.screenshots),
        )
        if self.spec.function:
            env["PODIUM_FUNCTION"] = self.spec.function
        if self.spec.kind == "uipath-python":
            env = {**uipath_run.ENVIRONMENT, **env}
        return job_environment(env, self.shim_dir)

    async def start(self) -> None:
        self.files["input"].write_text(json.dumps(self.spec.input_arguments))
        self.files["suspend"].unlink(missing_ok=True)
        if self.spec.resume is not None:
            suspension.restore(self.state_dir, self.spec.resume, waits=self.spec.kind != "uipath-python")
        self.process = await asyncio.create_subprocess_exec(
            *command(self.spec, self.files),
            cwd=str(self.spec.content_dir),
            env=self._env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a Kill ends the whole tree
        )

    def request_stop(self) -> None:
        self.stop_asked = True
        self.stop_file.write_text("stop")

    def kill(self) -> None:
        self.killed = True
        self.stop_file.write_text("kill")
        if self.process is not None and self.process.returncode is None:
            kill_tree(self.process.pid)

    async def _pump(self, stream: asyncio.StreamReader | None, name: str) -> None:
        if stream is None:
            return
        while True:
            raw = await stream.readline()
            if not raw:
                return
            text = raw.decode("utf-8", "replace").rstrip("\r\n")[:MAX_LINE]
            self._tail = [*self._tail[-199:], (name, text)]
            if text.strip():
                self.on_line(*line_level(text, name))

    async def _follow(self, path: Path, ended: asyncio.Event) -> None:
        """Log records the job's process appends to ``path`` (``uipath run`` in a job), until it ends."""
        records, offset = uipath_run.LogRecords(), 0
        while True:
            finished = ended.is_set()
            try:
                with open(path, "rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read()
            except FileNotFoundError:
                chunk = b""
            offset += len(chunk)
            found = records.feed(chunk.decode("utf-8", "replace"))
            if finished or not chunk:  # quiet (or over): the record held back is complete
                found += records.flush(final=finished)
            for level, message in found:
                self._tail = [*self._tail[-199:], ("log", message)]
                self.on_line(level, message[:MAX_LINE])
            if finished:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ended.wait(), timeout=0.25)

    async def wait(self) -> Outcome:
        assert self.process is not None
        ended = asyncio.Event()
        follow = None
        if self.spec.kind == "uipath-python":
            follow = asyncio.ensure_future(self._follow(self.uipath_files.log, ended))
        await asyncio.gather(
            self._pump(self.process.stdout, "stdout"), self._pump(self.process.stderr, "stderr")
        )
        code = await self.process.wait()
        ended.set()
        if follow is not None:
            await follow
        if self.killed or (self.stop_asked and code != 0 and code < 0):
            return Outcome("Stopped", info="The job was stopped.")
        suspended = self._suspended(code)
        if suspended is not None:
            return suspended
        if code != 0:
            return Outcome("Faulted", info=self._fault_info(code))
        output = self._read_json(self.files["output"])
        return Outcome("Stopped" if self.stop_asked else "Successful", output=output)

    def _suspended(self, code: int) -> Outcome | None:
        """The Suspended outcome when the job's process asked to wait, else None."""
        if self.spec.kind == "uipath-python":
            triggers = uipath_run.suspension(self.uipath_files.result) if code == 0 else None
            skip = {self.uipath_files.log.name, self.uipath_files.result.name}
        else:
            triggers = suspension.requested(self.files["suspend"])
            skip = set()
        if triggers is None:
            return None
        archive = suspension.pack(self.state_dir, skip)
        waiting = ", ".join(str(t.get("triggerType", "Api")) for t in triggers)
        return Outcome("Suspended", info=f"Waiting for: {waiting}.", triggers=triggers, state_archive=archive)

    @staticmethod
    def _read_json(path: Path) -> dict[str, Any] | None:
        if not path.exists() or not path.read_text().strip():
            return {}
        value = json.loads(path.read_text())
        return value if isinstance(value, dict) else {"result": value}

    def _fault_info(self, code: int) -> str:
        """The exception's message and traceback (Python), else the last lines of output."""
        error = self.files["error"]
        if error.exists():
            detail = json.loads(error.read_text())
            return f"{detail['message']}\n{detail['traceback']}".strip()
        if self.spec.kind == "uipath-python":
            reported = uipath_run.fault(self.uipath_files.result)
            if reported:
                return reported
        lines = [text for stream, text in self._tail if stream == "stderr"] or [t for _, t in self._tail]
        message = next((t for t in reversed(lines) if t.strip() and not t.startswith((" ", "\t"))), "")
        tail = "\n".join(t for _, t in self._tail[-60:]).strip()
        first = message or f"The process exited with code {code}."
        return f"{first}\n{tail}".strip()
