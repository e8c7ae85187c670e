"""``http/coalesced_writes.py``: a response's head and body leave in one write, nothing is held past the
loop step that wrote it, and closing or aborting does what the transport underneath would do."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from podium.http.coalesced_writes import JOINED_UP_TO, CoalescingTransport, HttpProtocol
from tests.buckets_support import free_port


class Recorded(asyncio.Transport):
    """The transport underneath: what it was asked to do, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", None))

    def abort(self) -> None:
        self.calls.append(("abort", None))

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False


def _run(scenario: Any) -> Any:
    return asyncio.run(scenario())


def test_a_second_write_leaves_at_once_with_the_held_one() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        under = Recorded()
        transport = CoalescingTransport(under, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        assert under.calls == [] and transport.get_write_buffer_size() == 19
        transport.write(b"{}")
        assert under.calls == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}")]
        await asyncio.sleep(0)
        return under.calls

    assert _run(scenario) == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}")]  # sent once


def test_a_lone_write_leaves_at_the_end_of_the_step() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        under = Recorded()
        transport = CoalescingTransport(under, asyncio.get_running_loop())
        transport.write(b"head")
        transport.write(b"")  # nothing to send: holds nothing more
        transport.write(b"body")
        transport.write(b"tail")  # a third write of the same step
        assert under.calls == [("write", b"headbody")]
        await asyncio.sleep(0)
        return under.calls

    assert _run(scenario) == [("write", b"headbody"), ("write", b"tail")]


def test_a_large_chunk_is_not_copied_to_join_it() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        under = Recorded()
        transport = CoalescingTransport(under, asyncio.get_running_loop())
        transport.write(b"head")
        transport.write(b"x" * (JOINED_UP_TO + 1))
        return under.calls

    assert [len(data) for _, data in _run(scenario)] == [4, JOINED_UP_TO + 1]


def test_close_sends_what_is_held_and_abort_drops_it() -> None:
    async def scenario() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        closed, aborted = Recorded(), Recorded()
        loop = asyncio.get_running_loop()
        first, second = CoalescingTransport(closed, loop), CoalescingTransport(aborted, loop)
        first.write(b"last words")
        first.close()
        second.write(b"never sent")
        second.abort()
        await asyncio.sleep(0)
        return closed.calls, aborted.calls

    closed, aborted = _run(scenario)
    assert closed == [("write", b"last words"), ("close", None)]
    assert aborted == [("abort", None)]


async def _small(_request: Request) -> Response:
    return Response(b'{"value":[]}', media_type="application/json")


async def _streamed(_request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        for number in range(3):
            await asyncio.sleep(0.01)
            yield f"chunk {number};".encode()

    return StreamingResponse(chunks(), media_type="text/plain")


async def _empty(_request: Request) -> Response:
    return Response(status_code=204)


@pytest.mark.e2e
def test_responses_over_a_real_socket_through_the_protocol() -> None:
    """uvicorn with ``HttpProtocol``, as ``podium serve`` runs: small, streamed, empty and HEAD answers,
    several on one keep-alive connection."""
    app = Starlette(
        routes=[
            Route("/small", _small, methods=["GET", "HEAD"]),
            Route("/streamed", _streamed),
            Route("/empty", _empty),
        ]
    )

    port = free_port()

    async def scenario() -> None:
        config = uvicorn.Config(app, port=port, http=HttpProtocol, log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                for _ in range(3):
                    small = await client.get("/small")
                    assert (small.status_code, small.content) == (200, b'{"value":[]}')
                    assert small.headers["content-length"] == "12"
                head = await client.head("/small")
                assert head.status_code == 200 and head.content == b""
                streamed = await client.get("/streamed")
                assert streamed.text == "chunk 0;chunk 1;chunk 2;"
                assert streamed.headers["transfer-encoding"] == "chunked"
                empty = await client.get("/empty")
                assert empty.status_code == 204 and empty.content == b""
                again = await client.get("/small")  # the connection still answers
                assert again.status_code == 200
        finally:
            server.should_exit = True
            await serving

    asyncio.run(scenario())


def test_a_complete_response_without_a_body_leaves_at_once() -> None:
    """uvicorn calls ``on_response_complete`` after a response's last write: a head held alone (204,
    HEAD, an empty 200) is sent then, not at the end of the step."""

    async def scenario() -> list[tuple[str, Any]]:
        under = Recorded()
        protocol = HttpProtocol(
            config=uvicorn.Config(Starlette(), log_level="warning"),
            server_state=uvicorn.server.ServerState(),
            app_state={},
        )
        protocol.connection_made(under)
        protocol.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        protocol.transport.write(b"")  # the empty body
        assert under.calls == []
        protocol.on_response_complete()
        calls = list(under.calls)
        if protocol.timeout_keep_alive_task is not None:
            protocol.timeout_keep_alive_task.cancel()
        return calls

    assert _run(scenario) == [("write", b"HTTP/1.1 204 No Content\r\n\r\n")]
