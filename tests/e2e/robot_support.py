"""End-to-end helpers for robots: ``podium robot`` processes, packages per the contract, seeding, waiting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_sdk_jobs import ADMIN_PASSWORD, podium_command
from tests.package_builders import nupkg

ODATA = "/odata"
NS = "UiPath.Server.Configuration.OData"
VENVS = Path.home() / ".cache" / "podium-e2e-venvs"  # shared: keyed by requirements, built once
FINAL = {"Successful", "Faulted", "Stopped"}
SERVER_ENV = {"PODIUM_HEARTBEAT_TIMEOUT": "5", "PODIUM_HEARTBEAT_INTERVAL": "1"}


UNREACHABLE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable")


def package_index_unreachable(requirement: str, where: Path) -> str | None:
    """Why pip cannot fetch ``requirement`` from the configured package index (no network: ``unshare
    -n``), or None when it can. A job whose package declares dependencies needs them installed."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--retries",
            "1",
            "--no-deps",
            "--dest",
            str(where),
            requirement,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 and any(word in output for word in UNREACHABLE):
        return output.strip().splitlines()[-1]
    return None


def python_package(
    package_id: str, code: str, function: str | None = "main", version: str = "1.0.0"
) -> bytes:
    """A ``python`` package (contract kind 2) without dependencies: ``main.py`` holding ``code``."""
    config: dict[str, Any] = {"type": "python", "entryPoint": "main.py", "dependencies": []}
    if function:
        config["function"] = function
    return nupkg(
        package_id,
        version,
        "python",
        files={"content/podium.json": json.dumps(config), "content/main.py": code},
    )


def robot_package(package_id: str, suite: str) -> bytes:
    config = {"type": "robotframework", "suite": "suite.robot", "dependencies": ["robotframework>=6"]}
    return nupkg(
        package_id,
        "1.0.0",
        "robotframework",
        files={"content/podium.json": json.dumps(config), "content/suite.robot": suite},
    )


class Orchestrator:
    """The admin's HTTP client on a running ``podium serve``."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=30)
        login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": ADMIN_PASSWORD}
        self.token = self.ok(self.http.post("/api/Account/Authenticate", json=login))["result"]
        self.http.headers.update({"Authorization": f"Bearer {self.token}", "X-UIPATH-FolderPath": "Shared"})

    @staticmethod
    def ok(response: httpx.Response, status: int = 200) -> Any:
        assert response.status_code == status, (
            f"{response.request.url}: {response.status_code} {response.text}"
        )
        return response.json() if response.content else None

    def machine(self, name: str, robots: int = 1) -> dict[str, Any]:
        machine: dict[str, Any] = self.ok(self.http.post(f"{ODATA}/Machines", json={"Name": name}), 201)
        for index in range(robots):
            body = {"Name": f"{name}-r{index}", "MachineId": machine["Id"], "Type": "Unattended"}
            self.ok(self.http.post(f"{ODATA}/Robots", json=body), 201)
        return machine

    def process(self, name: str, package: bytes) -> None:
        """Uploads the package and creates a release of it (no environment: the folder's robots run it)."""
        files = {"file": (f"{name}.nupkg", package, "application/octet-stream")}
        self.ok(self.http.post(f"{ODATA}/Processes/{NS}.UploadPackage", files=files))
        body = {"Name": name, "ProcessKey": name, "ProcessVersion": "1.0.0"}
        self.ok(self.http.post(f"{ODATA}/Releases", json=body), 201)

    def start(
        self, name: str, arguments: dict[str, Any] | None = None, count: int = 1, **info: Any
    ) -> list[int]:
        start = {
            "ReleaseName": name,
            "Strategy": "JobsCount",
            "JobsCount": count,
            "InputArguments": json.dumps(arguments or {}),
            **info,
        }
        answer = self.ok(self.http.post(f"{ODATA}/Jobs/{NS}.StartJobs", json={"startInfo": start}))
        return [job["Id"] for job in answer["value"]]

    def job(self, job_id: int) -> dict[str, Any]:
        job: dict[str, Any] = self.ok(self.http.get(f"{ODATA}/Jobs({job_id})"))
        return job

    def wait(self, job_id: int, states: set[str] = FINAL, seconds: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job["State"] in states:
                return job
            time.sleep(0.2)
        pytest.fail(f"job {job_id} did not reach {states} in {seconds} s: {self.job(job_id)}")

    def stop(self, job_id: int, strategy: str) -> None:
        self.ok(
            self.http.post(f"{ODATA}/Jobs/{NS}.StopJobs", json={"jobIds": [job_id], "strategy": strategy})
        )

    def logs(self, job_key: str) -> list[dict[str, Any]]:
        answer = self.ok(
            self.http.get(
                f"{ODATA}/RobotLogs", params={"$filter": f"JobKey eq '{job_key}'", "$orderby": "Id"}
            )
        )
        return list(answer["value"])


@contextmanager
def robot_agent(
    base: str, machine_key: str, work: Path, name: str = "robot"
) -> Iterator[subprocess.Popen[bytes]]:
    """``podium robot`` for the machine; ended with SIGTERM (or already killed by the test)."""
    work.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UIPATH_", "PODIUM_"))}
    command = [
        *podium_command(),
        "robot",
        "--url",
        base,
        "--machine-key",
        machine_key,
        "--cache-dir",
        str(work / "cache"),
        "--venv-dir",
        str(VENVS),
    ]
    with open(work / f"{name}.log", "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


def wait_sessions(
    orchestrator: Orchestrator, count: int, state: str = "Available", seconds: float = 30
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sessions = orchestrator.ok(orchestrator.http.get(f"{ODATA}/Sessions"))["value"]
        if sum(1 for s in sessions if s["State"] == state) >= count:
            return
        time.sleep(0.2)
    pytest.fail(f"{count} robots did not become {state}: {sessions}")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and ") Z " in stat.read_text())  # a zombie is dead
