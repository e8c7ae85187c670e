"""The README's commands on a fresh machine: Podium installed without extras into a new virtualenv.

The package is built once (``pip wheel --no-deps`` from a copy of ``pyproject.toml``, ``README.md`` and
``src``, so that nothing is written into the checkout) and installed with its dependencies, as a person
installs it, into a virtualenv made with ``python -m venv`` (no system site packages). Then ``podium
--help``, every module of the package imported, ``podium serve`` answering, and ``podium robot`` started
without ``--cache-dir`` (its default cache folder is absolute; it reaches the server and is refused).

This test needs the package index (the dependencies are downloaded); off CI it is skipped when the index
cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
INSTALL_SECONDS = 600
STARTUP_SECONDS = 60
# pip's words when the index cannot be reached (no network): then the test is skipped, except on CI
UNREACHABLE = ("NewConnectionError", "Temporary failure in name resolution", "Network is unreachable")

# Imports every module of the installed package (the Alembic scripts run in a migration context only:
# ``podium serve`` runs them).
IMPORT_ALL = """
import importlib, pkgutil, podium
names = [m.name for m in pkgutil.walk_packages(podium.__path__, "podium.")
         if not m.name.startswith("podium.db.migrations")]
for name in names:
    importlib.import_module(name)
print(len(names), "modules of", podium.__file__)
"""


@dataclass
class Fresh:
    bin: Path
    home: Path  # the working folder and cache folder of the commands
    env: dict[str, str]

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.home, env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )


def _pip(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        # one retry: without network pip falls back to the other configured indexes at once instead
        # of backing off for seconds per package
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--retries", "1", *argv],
        capture_output=True,
        text=True,
        timeout=INSTALL_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if not os.environ.get("CI") and any(word in output for word in UNREACHABLE):
            pytest.skip(f"the package index cannot be reached (pip: {output.strip().splitlines()[-1]})")
        pytest.fail(f"pip {' '.join(argv)} failed ({done.returncode}):\n{output}")
    return done


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fresh]:
    base = tmp_path_factory.mktemp("fresh-install")
    checkout = base / "checkout"
    shutil.copytree(
        ROOT / "src", checkout / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, checkout / name)
    started = time.monotonic()
    _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(base / "wheels"), str(checkout))
    [wheel] = (base / "wheels").glob("podium-*.whl")
    built = time.monotonic()
    venv = base / "venv"
    # no pip inside: this test's pip installs into it (``--python``), which saves ensurepip's seconds
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    _pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-compile", str(wheel))
    installed = time.monotonic()
    print(f"fresh install: wheel {built - started:.1f} s, venv and dependencies {installed - built:.1f} s")
    home = base / "home"
    home.mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PODIUM_") and name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")})
    yield Fresh(venv / "bin", home, env)


def test_help_and_every_module_imports(fresh: Fresh) -> None:
    top = fresh.run(str(fresh.bin / "podium"), "--help")
    assert top.returncode == 0, top.stderr
    assert "serve" in top.stdout and "robot" in top.stdout
    robot = fresh.run(str(fresh.bin / "podium"), "robot", "--help")
    assert robot.returncode == 0, robot.stderr
    assert "--cache-dir" in robot.stdout
    imports = fresh.run(str(fresh.bin / "python"), "-c", IMPORT_ALL)
    assert imports.returncode == 0, imports.stderr
    assert str(fresh.bin.parent) in imports.stdout  # the installed package, not the checkout


def test_serve_answers_quietly_and_robot_starts(fresh: Fresh) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = fresh.home / "serve.log"
    argv = [str(fresh.bin / "podium"), "serve", "--data-dir", "data", "--port", str(port)]
    with open(log_path, "w") as log:
        server = subprocess.Popen(argv, cwd=fresh.home, env=fresh.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert server.poll() is None, f"podium serve exited:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"podium serve did not answer:\n{log_path.read_text()}"
            try:
                if httpx.get(f"{base}/api/status/version", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        # no --cache-dir, a key Podium does not know: the agent starts, connects and is refused
        robot = fresh.run(str(fresh.bin / "podium"), "robot", "--url", base, "--machine-key", "no-such-key")
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log_path.read_text()
    assert f"Podium data folder: {fresh.home / 'data'}" in output
    assert f"Podium listening on {base}" in output
    assert "Generated password for 'admin' (shown once): " in output
    assert "Generated password for host user 'admin', tenancy 'Host' (shown once): " in output
    assert "alembic.runtime.plugins" not in output, output
    assert " INFO alembic" not in output, output
    robot_output = robot.stdout + robot.stderr
    assert "ModuleNotFoundError" not in robot_output, robot_output
    assert f"Podium robot cache folder: {fresh.home / '.cache' / 'podium' / 'robot'}" in robot_output
    assert robot.returncode != 0 and "refused" in robot_output, robot_output
