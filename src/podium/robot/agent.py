"""The robot agent: connects the robots of its machine, keeps their heartbeats, long-polls for jobs,
runs each job in its own process and reports the result. Reconnects when Podium restarts."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import socket
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from platformdirs import user_cache_dir

from podium.robot import suspension
from podium.robot.cache import PackageCache
from podium.robot.messages import Assignment, Command
from podium.robot.protocol import Connection, Credentials, Protocol, RobotSession, SessionLost
from podium.robot.runner import JobProcess, JobSpec, Outcome, last_screenshot, runtime_shim

log = logging.getLogger("podium.robot")
LOG_BATCH = 100


def job_copy(content_dir: Path, work_dir: Path) -> Path:
    """The job's own copy of the package's files, its working directory: what the job (or the
    ``uipath`` runtime's ``__uipath`` folder) writes there stays out of the cache and other jobs."""
    target = work_dir / "content"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(content_dir, target, symlinks=False)
    return target


def default_cache_dir() -> Path:
    """The agent's cache when none is given: the user's cache folder (``~/.cache/podium/robot`` on Linux)."""
    return Path(user_cache_dir("podium", appauthor=False)) / "robot"


def absolute(path: Path | str) -> Path:
    """``path`` made absolute against the current directory (``~`` expanded): job processes run in
    folders of their own, so every path handed to them must not depend on the agent's directory."""
    return Path(os.path.abspath(Path(path).expanduser()))


@dataclass
class AgentOptions:
    url: str
    credentials: Credentials
    cache_dir: Path = field(default_factory=default_cache_dir)
    capacity: int = 1
    robot_name: str | None = None
    host: str = field(default_factory=socket.gethostname)
    venv_dir: Path | None = None  # shared virtual environments (default: under cache_dir)

    def __post_init__(self) -> None:
        self.cache_dir = absolute(self.cache_dir)
        if self.venv_dir is not None:
            self.venv_dir = absolute(self.venv_dir)


class RobotWorker:
    """One robot of the machine: its heartbeat, its long poll, its running jobs and their logs."""

    def __init__(self, agent: Agent, robot: RobotSession) -> None:
        self.agent = agent
        self.robot = robot
        self.processes: dict[str, JobProcess] = {}
        self.logs: list[dict[str, Any]] = []
        self.changed = asyncio.Event()  # a job ended: poll again with the free slot

    @property
    def protocol(self) -> Protocol:
        return self.agent.protocol

    def free(self) -> int:
        return max(0, self.robot.capacity - len(self.robot.running))

    def apply(self, commands: Sequence[Command]) -> None:
        for command in commands:
            process = self.processes.get(command.job_key)
            self.robot.running[command.job_key] = command.state
            if process is None:
                continue
            if command.action == "Kill":
                process.kill()
            else:
                process.request_stop()

    async def heartbeats(self, every: float) -> None:
        while True:
            self.apply(await self.protocol.heartbeat(self.robot))
            await asyncio.sleep(every)

    async def polls(self, wait: float) -> None:
        while True:
            self.changed.clear()
            poll = asyncio.ensure_future(self.protocol.next_jobs(self.robot, self.free(), wait))
            changed = asyncio.ensure_future(self.changed.wait())
            done, _ = await asyncio.wait({poll, changed}, return_when=asyncio.FIRST_COMPLETED)
            if poll not in done:  # a slot freed while polling with none free: poll again with it
                if self.free() and not poll.done():
                    poll.cancel()
                    continue
                await asyncio.wait({poll})
            changed.cancel()
            answer = poll.result()
            self.apply(answer.commands)
            for job in answer.jobs:
                self.robot.running[job.key] = "Running"
                self.agent.spawn(self.run(job))

    def log(self, job: Assignment, level: str, message: str) -> None:
        self.logs.append(
            {
                "message": message,
                "level": level,
                "jobKey": job.key,
                "timeStamp": dt.datetime.now(dt.UTC).isoformat(),
                "processName": job.release_name,
                "robotName": self.robot.name,
                "machineName": self.agent.options.host,
            }
        )

    async def flush_logs(self) -> None:
        while self.logs:
            batch, self.logs = self.logs[:LOG_BATCH], self.logs[LOG_BATCH:]
            await self.protocol.submit_logs(self.robot, batch)

    async def run(self, job: Assignment) -> None:
        key = job.key
        if not await self.protocol.acknowledge(self.robot, job):  # withdrawn: another robot runs it
            self.robot.running.pop(key, None)
            self.changed.set()
            return
        try:
            outcome = await self._execute(job)
        except Exception as error:  # preparing the job failed: it cannot run here
            log.exception("job %s could not run", key)
            outcome = Outcome("Faulted", info=f"The robot could not run the job: {error}")
        state = outcome.state
        self.log(job, "Info" if state in ("Successful", "Suspended") else "Error", f"Job {state.lower()}.")
        await self.flush_logs()
        if state == "Suspended":
            refused = await self.protocol.report(
                self.robot,
                key,
                state,
                None,
                outcome.info,
                resumeTriggers=outcome.triggers,
                runtimeState=suspension.encode(outcome.state_archive),
            )
            if refused is not None:  # it waits for what Podium cannot resume it on: it cannot go on
                await self.protocol.report(
                    self.robot, key, "Faulted", None, f"The job cannot wait: {refused}"
                )
        else:
            if state == "Faulted":
                await self.upload_screenshot(key)
            await self.protocol.report(self.robot, key, state, outcome.output, outcome.info)
        await asyncio.to_thread(shutil.rmtree, self.agent.options.cache_dir / "jobs" / key / "content", True)
        self.processes.pop(key, None)
        self.robot.running.pop(key, None)
        self.changed.set()

    async def upload_screenshot(self, key: str) -> None:
        """The newest screenshot the faulted job left in its screenshots folder (``runner.SCREENSHOTS``),
        uploaded before its result is reported (so that it is there once the job shows Faulted); a
        failed upload is logged, the report goes on."""
        process = self.processes.get(key)
        if process is None:  # the job never ran (its package could not be prepared)
            return
        screenshot = await asyncio.to_thread(last_screenshot, process.screenshots)
        if screenshot is not None:
            await self.protocol.upload_media(self.robot, key, screenshot)

    async def _execute(self, job: Assignment) -> Outcome:
        agent = self.agent
        try:
            prepared = await agent.cache.prepare(
                job.process_key, job.process_version, lambda target: self.protocol.download(job, target)
            )
        except subprocess.CalledProcessError as error:
            return Outcome(
                "Faulted", info=f"Installing the package's dependencies failed:\n{error.stderr or error}"
            )
        entry = job.entry_point_path or prepared.info.main_entry_point
        arguments = orjson.loads(job.input_arguments) if job.input_arguments else {}
        work_dir = agent.options.cache_dir / "jobs" / job.key
        spec = JobSpec(
            key=job.key,
            kind=prepared.info.kind,
            content_dir=await asyncio.to_thread(job_copy, prepared.content_dir, work_dir),
            entry_point=entry,
            python=prepared.python,
            input_arguments=arguments,
            environment=agent.job_environment(job),
            work_dir=work_dir,
            function=agent.function_of(prepared.content_dir),
            resume=job.resume,
        )
        process = JobProcess(spec, lambda level, text: self.log(job, level, text), agent.shim)
        self.processes[job.key] = process
        if self.robot.running.get(job.key) == "Terminating":
            return Outcome("Stopped", info="The job was killed before it started.")
        await process.start()
        started = f"resumed ({job.resume['version']})" if job.resume is not None else "started"
        self.log(job, "Info", f"Job {started} on {agent.options.host} ({prepared.info.kind} package).")
        if self.robot.running.get(job.key) == "Stopping":
            process.request_stop()
        return await process.wait()


class Agent:
    def __init__(self, options: AgentOptions) -> None:
        self.options = options
        self.agent_id = str(uuid.uuid4())
        self.protocol = Protocol(
            options.url,
            options.credentials,
            self.agent_id,
            options.host,
            options.capacity,
            options.robot_name,
        )
        self.cache = PackageCache(options.cache_dir, options.venv_dir)
        self.shim = runtime_shim(options.cache_dir)
        self.connection: Connection | None = None
        self.workers: list[RobotWorker] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def job_environment(self, job: Assignment) -> dict[str, str]:
        """What the job's process gets to call Podium (the official SDK reads these)."""
        assert self.connection is not None
        return {
            "UIPATH_URL": self.connection.orchestrator_url,
            "UIPATH_ACCESS_TOKEN": job.access_token,
            "UIPATH_JOB_KEY": job.key,
            "UIPATH_JOB_ID": str(job.id),
            "UIPATH_FOLDER_KEY": job.folder_key,
            "UIPATH_FOLDER_PATH": job.folder_path,
            "UIPATH_PROCESS_UUID": job.release_key,
            "UIPATH_PROCESS_VERSION": job.process_version,
            "UIPATH_ROBOT_KEY": job.robot_key,
            "UIPATH_TELEMETRY_ENABLED": "false",
            "PODIUM_URL": self.options.url,
        }

    @staticmethod
    def function_of(content_dir: Path) -> str | None:
        config = content_dir / "podium.json"
        if not config.exists():
            return None
        function = orjson.loads(config.read_bytes()).get("function")
        return function if isinstance(function, str) else None

    async def run(self) -> None:
        """Connects (again after any loss) and serves until cancelled."""
        delay = 1.0
        while True:
            try:
                self.connection = await self.protocol.connect()
                delay = 1.0
                log.info(
                    "connected robots %s to %s", [r.name for r in self.connection.robots], self.options.url
                )
                await self._serve(self.connection)
            except (SessionLost, httpx.TransportError, httpx.HTTPStatusError) as error:
                log.warning("connection to Podium lost (%s); reconnecting in %.0f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15)

    async def _serve(self, connection: Connection) -> None:
        previous = {w.robot.robot_id: w for w in self.workers}
        self.workers = []
        for robot in connection.robots:
            worker = RobotWorker(self, robot)
            if robot.robot_id in previous:  # reconnected: the same jobs keep running
                old = previous[robot.robot_id]
                worker.processes, robot.running = old.processes, old.robot.running
            self.workers.append(worker)
        loops = [asyncio.ensure_future(w.heartbeats(connection.heartbeat_seconds)) for w in self.workers]
        loops += [asyncio.ensure_future(w.polls(connection.long_poll_seconds)) for w in self.workers]
        loops.append(asyncio.ensure_future(self._flush_forever()))
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in loops:
                task.cancel()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            for worker in self.workers:
                await worker.flush_logs()

    async def shutdown(self) -> None:
        """Kills the running jobs (reported Faulted) and says goodbye."""
        for task in list(self._tasks):
            task.cancel()
        for worker in self.workers:
            for key, process in list(worker.processes.items()):
                process.kill()
                await self.protocol.report(
                    worker.robot, key, "Faulted", None, "The robot was shut down while the job was running."
                )
            await worker.flush_logs()
            await self.protocol.disconnect(worker.robot)
        await self.protocol.close()


async def serve(options: AgentOptions) -> None:
    agent = Agent(options)
    loop = asyncio.get_running_loop()
    main = asyncio.ensure_future(agent.run())
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, main.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await main
    await agent.shutdown()
