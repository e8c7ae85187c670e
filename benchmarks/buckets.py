#!/usr/bin/env python
"""Benchmark: a 1 GB file into and out of a bucket on Podium's local storage, against ``cp``.

Run by hand (it is not a test)::

    /root/.cache/podium-venv/bin/python benchmarks/buckets.py                  # 1024 MiB in ./bench-buckets-*
    /root/.cache/podium-venv/bin/python benchmarks/buckets.py --size-mb 256 --dir /some/disk

What it does, all on one disk (``--dir``; a fresh folder in it, removed at the end):

1. Writes a source file of ``--size-mb`` MiB (incompressible bytes) and times ``cp`` of it to a copy.
2. Starts ``podium serve`` (SQLite in the same folder; tables from the metadata, stamped at the newest
   migration) on a free port; logs in; creates a bucket.
3. Upload: GetWriteUri, then one PUT of the file streamed in 1 MiB chunks (no credentials, as the SDK).
   Download: GetReadUri, then one GET streamed to a file on the same disk. Each is checked by SHA-256.
4. While each transfer runs, samples the server's VmRSS from /proc/<pid>/status every 20 ms; prints
   throughput in MB/s (10^6 bytes/s) next to ``cp``'s, the ratio, the server's RSS before/peak/growth and
   its VmHWM, and the targets: throughput >= 0.5 x cp, RSS growth < 50 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

CHUNK = 1024 * 1024
PASSWORD = "bench-admin-password-1"
NS = "UiPath.Server.Configuration.OData"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class RssSampler:
    """Peak VmRSS of a process while a transfer runs (a thread sampling /proc every 20 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self._stop = pid, 0, threading.Event()
        self.before_kb = status_kb(pid, "VmRSS")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))


def write_source(path: Path, size_mb: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(CHUNK)
    with open(path, "wb") as handle:
        for index in range(size_mb):
            chunk = block[index % CHUNK :] + block[: index % CHUNK]
            digest.update(chunk)
            handle.write(chunk)
    return digest.hexdigest()


def prepare_database(url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from podium.db.migrate import alembic_config
    from podium.db.tables import metadata

    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    command.stamp(alembic_config(url), "head")


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    data = work / "data"
    data.mkdir()
    url = f"sqlite:///{data / 'podium.db'}"
    prepare_database(url)
    port = free_port()
    script = Path(sys.executable).with_name("podium")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "podium.cli"]
    env = {**os.environ, "PODIUM_ADMIN_PASSWORD": PASSWORD, "PODIUM_MAX_BLOB_BYTES": str(64 * 1024**3)}
    env.pop("PODIUM_DATABASE_URL", None)
    log = open(work / "server.log", "wb")  # noqa: SIM115 (lives as long as the server)
    process = subprocess.Popen(
        [
            *command,
            "serve",
            "--data-dir",
            str(data),
            "--database-url",
            url,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/status/version", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("podium serve did not start:\n" + (work / "server.log").read_text())


def chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def upload(client: str, uri: str, source: Path) -> None:
    """One PUT of the file without credentials, as the SDK sends it (RequiresAuth false)."""
    if client == "curl":
        status = subprocess.run(
            [
                "curl",
                "-sS",
                "-T",
                str(source),
                "-H",
                "Content-Type: application/octet-stream",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                uri,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert status == "201", status
        return
    headers = {"Content-Type": "application/octet-stream"}
    response = httpx.put(uri, content=chunks(source), headers=headers, timeout=600)
    assert response.status_code == 201, response.text


def download(client: str, uri: str, target: Path) -> None:
    if client == "curl":
        subprocess.run(["curl", "-sS", "--fail", "-o", str(target), uri], check=True)
        return
    with httpx.stream("GET", uri, timeout=600) as response, open(target, "wb") as out:
        assert response.status_code == 200
        for chunk in response.iter_bytes(CHUNK):
            out.write(chunk)


def mbps(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def run(work: Path, size_mb: int, client: str) -> None:
    source, copy = work / "source.bin", work / "copy.bin"
    print(f"work folder: {work} (source, cp copy, Podium's data and the download on one disk)")
    print(f"HTTP client: {client}")
    expected = write_source(source, size_mb)
    size = size_mb * CHUNK
    started = time.perf_counter()
    subprocess.run(["cp", str(source), str(copy)], check=True)
    cp_seconds = time.perf_counter() - started
    copy.unlink()
    process, base = start_server(work)
    try:
        with httpx.Client(base_url=base, timeout=600) as http:
            login = {"tenancyName": "Default", "usernameOrEmailAddress": "admin", "password": PASSWORD}
            token = http.post("/api/Account/Authenticate", json=login).json()["result"]
            http.headers.update({"Authorization": f"Bearer {token}", "X-UIPATH-FolderPath": "Shared"})
            bucket = http.post("/odata/Buckets", json={"Name": "bench"}).json()
            path = {"path": "bench/source.bin"}
            write = http.get(f"/odata/Buckets({bucket['Id']})/{NS}.GetWriteUri", params=path).json()["Uri"]
            read = http.get(f"/odata/Buckets({bucket['Id']})/{NS}.GetReadUri", params=path)  # not yet there
            assert read.status_code == 404
            target = work / "downloaded.bin"
            with RssSampler(process.pid) as up_rss:
                started = time.perf_counter()
                upload(client, write, source)
                up_seconds = time.perf_counter() - started
            read_uri = http.get(f"/odata/Buckets({bucket['Id']})/{NS}.GetReadUri", params=path).json()["Uri"]
            with RssSampler(process.pid) as down_rss:
                started = time.perf_counter()
                download(client, read_uri, target)
                down_seconds = time.perf_counter() - started
            assert sha256(target) == expected, "download differs from the source"
            hwm_kb = status_kb(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(timeout=30)
    report(size, cp_seconds, up_seconds, down_seconds, up_rss, down_rss, hwm_kb)


def report(
    size: int, cp_s: float, up_s: float, down_s: float, up: RssSampler, down: RssSampler, hwm: int
) -> None:
    cp_rate = mbps(size, cp_s)
    print(f"file: {size / 1e6:.0f} MB ({size // CHUNK} MiB)")
    print(f"cp:        {cp_s:7.2f} s  {cp_rate:8.1f} MB/s")
    for label, seconds, rss in (("upload", up_s, up), ("download", down_s, down)):
        rate = mbps(size, seconds)
        growth = (rss.peak_kb - rss.before_kb) / 1024
        print(
            f"{label + ':':10} {seconds:7.2f} s  {rate:8.1f} MB/s  = {rate / cp_rate:.2f} x cp   "
            f"server RSS {rss.before_kb / 1024:.1f} -> peak {rss.peak_kb / 1024:.1f} MiB "
            f"(growth {growth:.1f} MiB)"
        )
    print(f"server VmHWM (peak RSS of the whole run): {hwm / 1024:.1f} MiB")
    worst_ratio = min(mbps(size, up_s), mbps(size, down_s)) / cp_rate
    worst_growth = max(up.peak_kb - up.before_kb, down.peak_kb - down.before_kb) / 1024
    print(
        f"target throughput >= 0.5 x cp: {'met' if worst_ratio >= 0.5 else 'MISSED'} "
        f"(worst {worst_ratio:.2f} x)"
    )
    print(
        f"target RSS growth < 50 MB: {'met' if worst_growth * 1.048576 < 50 else 'MISSED'} "
        f"(worst {worst_growth:.1f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--dir", default=".", help="a folder on the disk to measure (default: here)")
    parser.add_argument(
        "--client",
        choices=("curl", "httpx"),
        default="curl" if shutil.which("curl") else "httpx",
        help="HTTP client for the transfers (default curl: a C client, so the figures are Podium's)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-buckets-", dir=args.dir)).resolve()
    try:
        run(work, args.size_mb, args.client)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
