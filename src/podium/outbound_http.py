"""A small HTTP/1.1 POST client for webhook deliveries, over asyncio streams with keep-alive.

Webhook delivery sends many small POSTs and only needs the answer's status. httpx cost about as much
CPU per delivery as the rest of the delivery (database included) and ran in the API's event loop, so a
busy subscriber slowed the API (``benchmarks/webhooks.py``). This client writes the request in one go,
reads the status line and headers, skips the body (Content-Length, chunked, or until close), and keeps
the connection for the next request to the same origin unless the server closes it. No redirects are
followed (a 3xx is a failed delivery), the whole exchange has one timeout, and ``insecure`` turns the
certificate check off (``AllowInsecureSsl``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024  # an answer without length is read this far, then the connection dropped
MAX_IDLE = 4  # idle connections kept per origin (a subscriber has one request in flight)


class HttpError(Exception):
    """The exchange failed (connection, TLS, timeout, malformed answer)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    insecure: bool

    @property
    def origin(self) -> tuple[str, str, int, bool]:
        return self.scheme, self.host, self.port, self.insecure

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def target(url: str, insecure: bool) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HttpError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, insecure)


class _Link:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class PostClient:
    """Keep-alive POSTs; :meth:`post` answers the status code or raises :class:`HttpError`."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._idle: dict[tuple[str, str, int, bool], list[_Link]] = {}
        self._strict = ssl.create_default_context()
        self._insecure = ssl.create_default_context()
        self._insecure.check_hostname = False
        self._insecure.verify_mode = ssl.CERT_NONE

    async def post(self, url: str, body: bytes, headers: dict[str, str], insecure: bool = False) -> int:
        where = target(url, insecure)
        head = f"POST {where.path} HTTP/1.1\r\nHost: {where.host_header}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(where, request)
        except TimeoutError as error:
            raise HttpError(f"timed out after {self.timeout:g} s") from error
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            raise HttpError(f"{type(error).__name__}: {error}") from error

    async def _exchange(self, where: Target, request: bytes) -> int:
        idle = self._idle.setdefault(where.origin, [])
        while idle:  # a kept connection the server may have closed meanwhile: a fresh one if so
            link = idle.pop()
            try:
                return await self._send(where, link, request)
            except (OSError, asyncio.IncompleteReadError) as error:
                link.close()
                if isinstance(error, asyncio.IncompleteReadError) and error.partial:
                    raise
        context = None
        if where.scheme == "https":
            context = self._insecure if where.insecure else self._strict
        reader, writer = await asyncio.open_connection(
            where.host, where.port, ssl=context, server_hostname=where.host if context else None
        )
        return await self._send(where, _Link(reader, writer), request)

    async def _send(self, where: Target, link: _Link, request: bytes) -> int:
        link.writer.write(request)
        await link.writer.drain()
        reader = link.reader
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            raise HttpError("answer headers too long")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        try:
            status = int(rest[:3])
        except ValueError as error:
            raise HttpError(f"malformed status line: {lines[0][:80]!r}") from error
        fields: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip().lower()
        connection = fields.get("connection", "")
        keep = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        if status in (204, 304) or 100 <= status < 200:
            pass
        elif "chunked" in fields.get("transfer-encoding", ""):
            await _skip_chunked(reader)
        elif "content-length" in fields:
            await reader.readexactly(int(fields["content-length"]))
        else:  # until close, a bounded amount
            read = 0
            while (chunk := await reader.read(65536)) and read < MAX_BODY:
                read += len(chunk)
            keep = False
        idle = self._idle.setdefault(where.origin, [])
        if keep and len(idle) < MAX_IDLE:
            idle.append(link)
        else:
            link.close()
        return status

    async def close(self) -> None:
        for links in self._idle.values():
            for link in links:
                link.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await link.writer.wait_closed()
        self._idle.clear()


async def _skip_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return
        await reader.readexactly(size + 2)
