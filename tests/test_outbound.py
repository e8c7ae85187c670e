"""Outbound addresses: private, loopback and link-local targets are refused unless allowed."""

from __future__ import annotations

import asyncio

import pytest

from podium import outbound
from podium.errors import PodiumError

REFUSED = [
    "http://127.0.0.1:5432",
    "http://localhost:9000",
    "http://[::1]/",
    "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3",
    "http://192.168.0.10:9000",
    "http://172.16.5.4",
    "http://100.64.0.1",
    "http://0.0.0.0:8000",
    "http://[::ffff:127.0.0.1]/",
    "http://[fe80::1]/",
    "ftp://8.8.8.8/",
    "file:///etc/passwd",
    "http://8.8.8.8:notaport/",
    "http://127.0.0.1:9\\@8.8.8.8/",
    "http://user:pw@8.8.8.8/",
    "http://8.8.8.8 /",
]


@pytest.mark.parametrize("url", REFUSED)
def test_internal_targets_are_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(outbound.ALLOW_PRIVATE_ENV, raising=False)
    with pytest.raises(PodiumError) as caught:
        asyncio.run(outbound.check_url(url))
    assert caught.value.status == 400


@pytest.mark.parametrize("url", ["https://8.8.8.8/", "http://[2001:4860:4860::8888]:9000/"])
def test_public_addresses_pass(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(outbound.ALLOW_PRIVATE_ENV, raising=False)
    asyncio.run(outbound.check_url(url))


def test_the_setting_allows_private_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(outbound.ALLOW_PRIVATE_ENV, "1")
    asyncio.run(outbound.check_url("http://127.0.0.1:9000"))
    with pytest.raises(PodiumError):  # the scheme is still checked
        asyncio.run(outbound.check_url("gopher://127.0.0.1:70"))
