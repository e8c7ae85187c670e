"""Checks every address Podium itself connects to on a user's behalf (S3 endpoints of buckets, and
later webhooks and alert targets), so that a tenant cannot point the server at internal services.

A URL is refused unless its scheme is http or https and every address its host resolves to is public:
loopback, link-local (cloud metadata at 169.254.169.254), private, shared (CGNAT), multicast,
reserved and unspecified ranges are refused unless ``PODIUM_OUTBOUND_ALLOW_PRIVATE=1`` (one setting
for every outbound call; tests of a local S3 server set it). The error never echoes what the target
answered.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from urllib.parse import urlsplit

from podium.errors import bad_request

ALLOW_PRIVATE_ENV = "PODIUM_OUTBOUND_ALLOW_PRIVATE"


def private_allowed() -> bool:
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in {"1", "true", "yes"}


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def _split(url: str, what: str) -> tuple[str, int]:
    """Host and port of a plain http(s) URL. User info, backslashes, control characters and spaces are
    refused: parsers disagree on them (Python reads ``http://127.0.0.1:9\\@8.8.8.8/`` as host 8.8.8.8,
    Rust's url crate as 127.0.0.1), so the host checked here could differ from the host called."""
    if "\\" in url or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise bad_request(f"{what} must be a plain http or https URL.")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or "@" in parts.netloc:
        raise bad_request(f"{what} must be an http or https URL without user information.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise bad_request(f"{what} has an invalid port.") from error
    return parts.hostname, port


async def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return [literal]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos]


async def check_url(url: str, what: str = "The endpoint") -> None:
    """400 unless ``url`` may be called from this server (see the module's docstring)."""
    host, port = _split(url, what)
    if private_allowed():
        return
    try:
        addresses = await resolve(host, port)
    except OSError as error:
        raise bad_request(f"{what}'s host name could not be resolved.") from error
    if not addresses or not all(is_public(address) for address in addresses):
        raise bad_request(
            f"{what} points at a private, loopback or link-local address; set {ALLOW_PRIVATE_ENV}=1 "
            "to allow such addresses."
        )
