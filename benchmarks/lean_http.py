"""A lean HTTP/1.1 keep-alive client for the benchmarks, over asyncio streams.

httpx costs the client about a millisecond of CPU a request, which on this 2-core machine lands in the
measured latency (the client, the server and PostgreSQL share the cores). This client sends a prebuilt
request and reads the answer by Content-Length (or chunked), nothing more, so that what a benchmark
prints is the server's time. One connection serves one request at a time; open several for concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlencode, urlsplit


class LeanConnection:
    """One keep-alive connection to ``base_url`` (http only)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        fixed = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in fixed.items()).encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> LeanConnection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()
            self._writer = self._reader = None

    def build(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> bytes:
        """The request's bytes (``headers``: besides the connection's own); build once and send many
        times when nothing changes."""
        target = f"{path}?{urlencode(params)}" if params else path
        head = f"{method} {target} HTTP/1.1\r\n".encode() + self._fixed
        if headers:
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode()
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        return head + b"\r\n" + (body or b"")

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Sends prebuilt request bytes; returns the status and the body."""
        if self._writer is None or self._reader is None:
            await self.open()
        assert self._writer is not None and self._reader is not None
        self._writer.write(request)
        try:
            head = await self._reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            # the server closes a keep-alive connection idle longer than its timeout (uvicorn: 5 s),
            # which happens between a benchmark's phases: send again once on a new connection
            if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                raise
            await self.close()
            await self.open()
            assert self._writer is not None and self._reader is not None
            self._writer.write(request)
            head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length: int | None = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._read_chunked()
        return status, await self._reader.readexactly(length or 0)

    async def request(
        self, method: str, path: str, params: dict[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, bytes]:
        return await self.send(self.build(method, path, params, body))

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)
