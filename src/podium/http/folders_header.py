"""Which folder a call is about: the X-UIPATH-* folder headers.

Precedence follows what makes the official SDK's intent work when it sends two of them:
FolderKey > FolderPath-Encoded > FolderPath > OrganizationUnitId.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import Headers

from podium.db.schema import folders
from podium.errors import ErrorCode, PodiumError

FOLDER_NOT_FOUND = "Folder does not exist or the user does not have access to the folder."


@dataclass(frozen=True)
class FolderRef:
    id: int
    key: str
    fully_qualified_name: str


def folder_error() -> PodiumError:
    return PodiumError(FOLDER_NOT_FOUND, status=400, code=ErrorCode.FOLDER_NOT_FOUND)


def _decode_path(encoded: str) -> str:
    try:
        path = base64.b64decode(encoded, validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise folder_error() from None
    if "\x00" in path:  # no folder has one, and PostgreSQL cannot compare text holding NUL
        raise folder_error()
    return path


HEADERS = (
    "x-uipath-folderkey",
    "x-uipath-folderpath-encoded",
    "x-uipath-folderpath",
    "x-uipath-organizationunitid",
)


def selected_header(headers: Headers) -> tuple[str, str] | None:
    """The folder header that decides (by precedence) and its value, or None without one."""
    for name in HEADERS:
        value = headers.get(name)
        if value:
            return name, value
    return None


def _condition(name: str, value: str) -> ColumnElement[bool]:
    """The WHERE clause a folder header asks for."""
    if name == "x-uipath-folderkey":
        try:
            return folders.c.key == str(uuid.UUID(value.strip()))
        except ValueError:
            raise folder_error() from None
    if name == "x-uipath-folderpath-encoded":
        return folders.c.fully_qualified_name == _decode_path(value.strip()).strip("/")
    if name == "x-uipath-folderpath":
        return folders.c.fully_qualified_name == value.strip().strip("/")
    try:
        unit_id = int(value.strip())
    except ValueError:
        raise folder_error() from None
    if not 0 < unit_id < 2**63:
        raise folder_error()
    return folders.c.id == unit_id


async def folder_by_header(conn: AsyncConnection, header: tuple[str, str], tenant_id: int) -> FolderRef:
    row = (
        await conn.execute(
            select(folders.c.id, folders.c.key, folders.c.fully_qualified_name).where(
                _condition(*header), folders.c.tenant_id == tenant_id
            )
        )
    ).first()
    if row is None:
        raise folder_error()
    return FolderRef(row.id, row.key, row.fully_qualified_name)


class FolderCache:
    """Folders named by headers, remembered for a few seconds per process (the official SDK names the
    folder on every call): a burst of calls costs one lookup. Cleared with the principals when folders
    change in this process; a rename or delete in another process is seen within ``ttl``, as for
    principals."""

    def __init__(self, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[int, str, str], tuple[float, FolderRef]] = {}

    def get(self, tenant_id: int, header: tuple[str, str]) -> FolderRef | None:
        entry = self._entries.get((tenant_id, *header))
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop((tenant_id, *header), None)
            return None
        return entry[1]

    def put(self, tenant_id: int, header: tuple[str, str], folder: FolderRef) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(tenant_id, *header)] = (time.monotonic() + self.ttl, folder)

    def clear(self) -> None:
        self._entries.clear()
