"""A small HTTP/1.1 POST client for webhook deliveries: ``h11`` over asyncio streams, with keep-alive.

Webhook delivery sends many small POSTs and only needs the answer's status. httpx cost about as much
CPU per delivery as the rest of the delivery (database included) and ran in the API's event loop, so a
busy subscriber slowed the API (``benchmarks/webhooks.py``). This client keeps httpx's protocol engine,
``h11``, for every HTTP/1.1 rule (request framing, status line, headers, Content-Length, chunked,
read-until-close, whether the connection can be reused) and drops the layers above it that cost the
CPU: the transport is a plain asyncio stream per connection, written in one go, and the answer's body is
read and thrown away (at most :data:`MAX_BODY`, then the connection is dropped). A connection is kept for
the next request to the same origin when h11 says both sides may go on. No redirects are followed (a 3xx
is a failed delivery), the whole exchange has one timeout, and ``insecure`` turns the certificate check
off (``AllowInsecureSsl``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

MAX_HEAD = 64 * 1024  # status line and headers of an answer
MAX_BODY = 1024 * 1024  # an answer's body is read this far, then the connection dropped
MAX_IDLE = 4  # idle connections kept per origin (a subscriber has one request in flight)
READ_SIZE = 65536


class HttpError(Exception):
    """The exchange failed (connection, TLS, timeout, malformed answer)."""


class _Stale(Exception):
    """A kept connection the server closed before answering anything: try a fresh one."""


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
    """One connection and its h11 state machine (reused across request/answer cycles)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        self.used = False  # has answered a request before: may have been closed while idle

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
        fields = [("Host", where.host_header), *headers.items(), ("Content-Length", str(len(body)))]
        try:
            request = h11.Request(method="POST", target=where.path, headers=fields)
        except h11.LocalProtocolError as error:
            raise HttpError(f"invalid request: {error}") from error
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(where, request, body)
        except TimeoutError as error:
            raise HttpError(f"timed out after {self.timeout:g} s") from error
        except h11.ProtocolError as error:
            raise HttpError(f"malformed answer: {error}") from error
        except (OSError, ssl.SSLError) as error:
            raise HttpError(f"{type(error).__name__}: {error}") from error

    async def _exchange(self, where: Target, request: h11.Request, body: bytes) -> int:
        idle = self._idle.setdefault(where.origin, [])
        while idle:  # a kept connection the server may have closed meanwhile: a fresh one if so
            with contextlib.suppress(_Stale):
                return await self._send(where, idle.pop(), request, body)
        context = None
        if where.scheme == "https":
            context = self._insecure if where.insecure else self._strict
        reader, writer = await asyncio.open_connection(
            where.host, where.port, ssl=context, server_hostname=where.host if context else None
        )
        return await self._send(where, _Link(reader, writer), request, body)

    async def _send(self, where: Target, link: _Link, request: h11.Request, body: bytes) -> int:
        """One request and its answer on ``link``; the link is kept or closed, whatever happens."""
        kept = False
        try:
            status = await self._cycle(link, request, body)
            conn = link.h11
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                idle = self._idle.setdefault(where.origin, [])
                if len(idle) < MAX_IDLE:
                    conn.start_next_cycle()
                    link.used = kept = True
                    idle.append(link)
            return status
        finally:
            if not kept:
                link.close()

    async def _cycle(self, link: _Link, request: h11.Request, body: bytes) -> int:
        conn, reader = link.h11, link.reader
        link.writer.write(conn.send(request) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
        answered = False  # any byte of the answer received
        try:
            await link.writer.drain()
            status, read = 0, 0
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = await reader.read(READ_SIZE)
                    answered = answered or bool(data)
                    conn.receive_data(data)  # b"": the server closed (h11 decides if that ends the answer)
                elif isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    read += len(event.data)
                    if read > MAX_BODY:  # enough: the connection is dropped with the rest
                        return status
                elif isinstance(event, h11.EndOfMessage):
                    return status
                elif isinstance(event, h11.ConnectionClosed):
                    raise h11.RemoteProtocolError("connection closed before the answer ended")
                # InformationalResponse (1xx): the final answer follows
        except (h11.RemoteProtocolError, OSError) as error:
            if link.used and not answered:
                raise _Stale from error
            raise

    async def close(self) -> None:
        for links in self._idle.values():
            for link in links:
                link.close()
                with contextlib.suppress(OSError, ssl.SSLError):
                    await link.writer.wait_closed()
        self._idle.clear()
