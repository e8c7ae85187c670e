"""The agent's package cache: downloaded packages, their extracted content, and virtual environments.

Packages are kept by id and version (downloaded once). A package that declares dependencies runs in
a virtual environment built for that set of dependencies, cached and reused by every package (and
version) that declares the same set. The environment sees the agent's own packages after its own
(a ``.pth`` file), so what the agent already has (e.g. the ``uipath`` SDK) is not downloaded again.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import shutil
import sys
import sysconfig
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from podium.packages import PackageInfo, extract_package, read_package

Downloader = Callable[[Path], Awaitable[None]]


@dataclass(frozen=True)
class Prepared:
    info: PackageInfo
    content_dir: Path
    python: str


class PackageCache:
    def __init__(self, root: Path, venvs: Path | None = None) -> None:
        self.root = root
        self.venvs = venvs or root / "venvs"
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    async def prepare(self, package_id: str, version: str, download: Downloader) -> Prepared:
        """The package ready to run: downloaded (once), extracted (once), its environment built."""
        safe = f"{package_id}/{version}".replace("..", "_")
        async with self._lock(safe):
            nupkg = self.root / "packages" / f"{safe}.nupkg"
            if not nupkg.exists():
                nupkg.parent.mkdir(parents=True, exist_ok=True)
                partial = nupkg.with_suffix(f".{uuid.uuid4().hex}.part")
                await download(partial)
                os.replace(partial, nupkg)
            info = await asyncio.to_thread(read_package, nupkg)
            target = self.root / "extracted" / safe
            if not (target / ".ready").exists():
                shutil.rmtree(target, ignore_errors=True)
                await asyncio.to_thread(extract_package, nupkg, target)
                (target / ".ready").write_text("")
        python = await self.environment(self._requirements(info))
        return Prepared(info, target / "content", python)

    @staticmethod
    def _requirements(info: PackageInfo) -> list[str]:
        wanted = list(info.dependencies)
        if info.kind == "robotframework" and not any(d.lower().startswith("robotframework") for d in wanted):
            wanted.append("robotframework")
        return sorted(set(wanted))

    async def environment(self, requirements: list[str]) -> str:
        """The interpreter for these requirements: the agent's own when there are none to add."""
        if not requirements:
            return sys.executable
        digest = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:16]
        target = self.venvs / digest
        async with self._lock(digest):
            if not (target / ".ready").exists():
                await asyncio.to_thread(self._build, target, requirements)
        return str(target / "bin" / "python")

    @staticmethod
    def _build(target: Path, requirements: list[str]) -> None:
        """Creates the environment under a file lock (agents on one machine may share the cache)."""
        import subprocess

        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.parent / f"{target.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (target / ".ready").exists():
                return
            shutil.rmtree(target, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
            python = target / "bin" / "python"
            purelib = subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            Path(purelib, "podium-agent.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "--python",
                    str(python),
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    *requirements,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            (target / ".ready").write_text("\n".join(requirements))
