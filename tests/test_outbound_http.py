"""The webhook POST client (``outbound_http``) against real local sockets: keep-alive reuse, chunked
and unsized answers, a kept connection the server closed, a timeout, a refused connection, malformed
answers, TLS with and without the certificate check."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from podium.outbound_http import HttpError, PostClient


async def _server(
    answers: list[bytes], close_after: bool = False, tls: ssl.SSLContext | None = None
) -> tuple[asyncio.Server, list[Any]]:
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

    return await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls), seen


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


def test_answer_framing_is_followed() -> None:
    """A 1xx before the answer, a chunked answer with trailers, ``Connection: close`` (the next request
    opens a new connection), a 3xx (its status, not followed) and an answer too long to read whole."""

    async def go() -> None:
        answers = [
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4;ext=1\r\nabcd\r\n2\r\nef\r\n0\r\nX-Trailer: 1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ]
        server, seen = await _server(answers)
        client = PostClient(5)
        try:
            statuses = [await client.post(_url(server), f"b{n}".encode(), {}) for n in range(5)]
        finally:
            await client.close()
            server.close()
        assert statuses == [201, 200, 200, 302, 200]
        assert [body for _, body in seen] == [b"b0", b"b1", b"b2", b"b3", b"b4"]
        connections = [conn for conn, _ in seen]
        assert connections[0] == connections[1] == connections[2] != connections[3] == connections[4]

        big = b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n" + b"z" * 3_000_000
        server, seen = await _server([big, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
        client = PostClient(5)
        try:
            assert await client.post(_url(server), b"1", {}) == 200  # read to MAX_BODY, then dropped
            assert await client.post(_url(server), b"2", {}) == 200
        finally:
            await client.close()
            server.close()
        assert len({conn for conn, _ in seen}) == 2

    asyncio.run(go())


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 OK\r\n\r\n",  # no status code
        b"SMTP ready\r\n\r\n",  # not HTTP
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # closed before the length
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # bad chunk size
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",  # two lengths
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200_000 + b"\r\n\r\n",  # headers over MAX_HEAD
    ],
)
def test_malformed_answer_is_an_error(answer: bytes) -> None:
    async def go() -> None:
        server, _ = await _server([answer], close_after=True)
        client = PostClient(5)
        try:
            with pytest.raises(HttpError):
                await client.post(_url(server), b"x", {})
        finally:
            await client.close()
            server.close()

    asyncio.run(go())


def test_invalid_header_is_an_error_before_sending() -> None:
    async def go() -> None:
        client = PostClient(5)
        with pytest.raises(HttpError, match="invalid request"):
            await client.post("http://127.0.0.1:9/", b"x", {"X-A": "1\r\nInjected: yes"})

    asyncio.run(go())


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a throwaway self-signed certificate for ``localhost``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


def test_tls_checks_the_certificate_unless_insecure(tmp_path: Path) -> None:
    """An unverifiable certificate fails the exchange; ``insecure`` (AllowInsecureSsl) accepts it, the
    name sent (SNI) being the URL's host, and the TLS connection is kept for the next request."""
    context = _self_signed(tmp_path)
    names: list[str | None] = []

    def sni(sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = sni

    async def go() -> None:
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
        server, seen = await _server([answer, answer], tls=context)
        port = server.sockets[0].getsockname()[1]
        client = PostClient(5)
        try:
            with pytest.raises(HttpError, match="certificate verify failed"):
                await client.post(f"https://localhost:{port}/hook", b"0", {})
            assert await client.post(f"https://localhost:{port}/hook", b"1", {}, insecure=True) == 200
            assert await client.post(f"https://localhost:{port}/hook", b"2", {}, insecure=True) == 200
        finally:
            await client.close()
            server.close()
        assert [body for _, body in seen] == [b"1", b"2"]
        assert len({conn for conn, _ in seen}) == 1
        assert "localhost" in names

    asyncio.run(go())
