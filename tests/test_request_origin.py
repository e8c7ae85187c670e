"""``http/context.base_url``: the origin of a request, cached by what it depends on, is the one
Starlette's URL gives (scheme, Host header, server address)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from podium.http import context


def scope(scheme: str, host: bytes | None, server: Any, **extra: Any) -> dict[str, Any]:
    headers = [(b"accept", b"*/*")] + ([(b"host", host)] if host is not None else [])
    return {
        "type": "http",
        "scheme": scheme,
        "path": "/odata/Jobs",
        "query_string": b"",
        "headers": headers,
        "server": server,
        **extra,
    }


CASES = [
    scope("http", b"127.0.0.1:8000", ("127.0.0.1", 8000)),
    scope("https", b"orchestrator.example.com", ("10.0.0.1", 443)),
    scope("http", None, ("10.0.0.1", 80)),
    scope("http", None, ["::1", 8080]),  # a list, as Starlette's TestClient gives it
    scope("https", None, ("10.0.0.2", 8443)),
    scope("http", b"podium:99999", ("10.0.0.3", 80)),  # no valid port: the server address
    scope("http", b"example.org", None, **{"podium.prefix": "/org/tenant/orchestrator_"}),
]


@pytest.mark.parametrize("case", CASES)
def test_the_origin_is_starlettes(case: dict[str, Any]) -> None:
    context._ORIGINS.clear()
    url = Request(case).url
    expected = f"{url.scheme}://{url.netloc}{case.get('podium.prefix', '')}"
    assert context.base_url(Request(case)) == expected
    assert context.base_url(Request(case)) == expected  # from the cache


def test_the_cache_stays_small() -> None:
    context._ORIGINS.clear()
    for n in range(context.MAX_ORIGINS * 2):
        context.base_url(Request(scope("http", f"host{n}.example".encode(), ("10.0.0.1", 80))))
    assert len(context._ORIGINS) <= context.MAX_ORIGINS


def test_a_public_url_wins() -> None:
    case = scope("http", b"127.0.0.1:8000", ("127.0.0.1", 8000), **{"podium.public_url": "https://p.example"})
    assert context.base_url(Request(case)) == "https://p.example"
