"""An HTTP response in one ``send()``: uvicorn writes a response's status line and headers, then its
body, as two writes, so every small answer (a Jobs page, a StartTransaction) took two system calls and
two TCP segments, and the client woke for the first only to wait for the second.

``HttpProtocol`` is uvicorn's httptools protocol over ``CoalescingTransport``: a write is held until the
next write, which goes out with it at once, until the response is complete (an answer without a body),
or until the end of the event loop's current step (a chunk of a stream), whichever comes first. Nothing
waits longer than the step that wrote it. Measured with ``benchmarks/odata_jobs.py``'s seed filter:
see ``benchmarks/README.md``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

JOINED_UP_TO = 256 * 1024
"""A longer write goes out after the held one, not joined to it (a copy of the chunk would cost more
than the system call it saves)."""


class CoalescingTransport(asyncio.Transport):
    """A transport whose writes made in one step of the loop leave, at most two at a time, in one
    write of the transport it wraps; everything else is that transport's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        held = self._held
        if held is None:
            self._held = bytes(data)
            if self._flush is None:
                self._flush = self._loop.call_soon(self._end_of_step)
            return
        self._held = None
        if len(data) > JOINED_UP_TO:
            self._transport.write(held)  # not worth copying a large chunk to join it
            self._transport.write(data)
        else:
            self._transport.write(held + data)

    def _end_of_step(self) -> None:
        self._flush = None
        self.flush()

    def flush(self) -> None:
        """Sends the held write now (a response complete, the end of the step that made it, closing)."""
        held, self._held = self._held, None
        if held is not None:
            self._transport.write(held)

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))

    def on_response_complete(self) -> None:
        """A response is whole: what is held (the head of an answer without a body) goes now."""
        if isinstance(self.transport, CoalescingTransport):
            self.transport.flush()
        super().on_response_complete()
