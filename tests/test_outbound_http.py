"""The webhook POST client (``outbound_http``) against real local sockets: keep-alive reuse, chunked
and unsized answers, a kept connection the server closed, a timeout, a refused connection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from podium.outbound_http import HttpError, PostClient


async def _server(answers: list[bytes], close_after: bool = False) -> tuple[asyncio.Server, list[Any]]:
    """A server answering each request with the next of ``answers``; notes (connection, body)."""
    seen: list[Any] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                seen.append((id(writer), await reader.readexactly(length)))
                writer.write(answers[len(seen) - 1])
                await writer.drain()
                if close_after:
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0), seen


def _url(server: asyncio.Server) -> str:
    return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook?x=1"


def test_keep_alive_chunked_and_unsized_answers() -> None:
    async def go() -> None:
        answers = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n",
        ]
        server, seen = await _server(answers)
        client = PostClient(5)
        try:
            statuses = [await client.post(_url(server), f"b{n}".encode(), {"X-A": "1"}) for n in range(3)]
        finally:
            await client.close()
            server.close()
        assert statuses == [200, 202, 500]
        assert [body for _, body in seen] == [b"b0", b"b1", b"b2"]
        assert len({conn for conn, _ in seen}) == 1  # one connection kept for the three

    asyncio.run(go())


def test_closed_kept_connection_is_replaced_and_unsized_answer_read_to_close() -> None:
    async def go() -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        server, seen = await _server([answer, answer], close_after=True)
        client = PostClient(5)
        try:
            assert await client.post(_url(server), b"1", {}) == 200
            await asyncio.sleep(0.1)  # the server has closed the kept connection
            assert await client.post(_url(server), b"2", {}) == 200
        finally:
            await client.close()
            server.close()
        assert len({conn for conn, _ in seen}) == 2
        unsized, _ = await _server([b"HTTP/1.0 204 No Content\r\n\r\n"], close_after=True)
        client = PostClient(5)
        try:
            assert await client.post(_url(unsized), b"x", {}) == 204
        finally:
            await client.close()
            unsized.close()

    asyncio.run(go())


def test_timeout_and_refused_connection_are_errors() -> None:
    async def go() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(5)
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        client = PostClient(0.3)
        try:
            with pytest.raises(HttpError, match="timed out"):
                await client.post(_url(server), b"x", {})
            port = server.sockets[0].getsockname()[1]
            server.close()
            await server.wait_closed()
            with pytest.raises(HttpError):
                await client.post(f"http://127.0.0.1:{port}/", b"x", {})
        finally:
            await client.close()

    asyncio.run(go())
