"""Which folder a call is about: the X-UIPATH-* folder headers.

Precedence follows what makes the official SDK's intent work when it sends two of them:
FolderKey > FolderPath-Encoded > FolderPath > OrganizationUnitId.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
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


def below(path: str) -> ColumnElement[bool]:
    """Folders strictly below ``path``. An exact, case-sensitive prefix test: LIKE would read ``_`` and
    ``%`` in folder names as patterns, and ignores case on SQLite."""
    prefix = path + "/"
    return func.substr(folders.c.fully_qualified_name, 1, len(prefix)) == prefix


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


def _condition(headers: Headers) -> object | None:
    """The WHERE clause the headers ask for, or None when no folder header is present."""
    key = headers.get("x-uipath-folderkey")
    if key:
        try:
            return folders.c.key == str(uuid.UUID(key.strip()))
        except ValueError:
            raise folder_error() from None
    encoded = headers.get("x-uipath-folderpath-encoded")
    if encoded:
        return folders.c.fully_qualified_name == _decode_path(encoded.strip()).strip("/")
    path = headers.get("x-uipath-folderpath")
    if path:
        return folders.c.fully_qualified_name == path.strip().strip("/")
    unit = headers.get("x-uipath-organizationunitid")
    if unit:
        try:
            unit_id = int(unit.strip())
        except ValueError:
            raise folder_error() from None
        if not 0 < unit_id < 2**63:
            raise folder_error()
        return folders.c.id == unit_id
    return None


async def folder_from_headers(conn: AsyncConnection, headers: Headers, tenant_id: int) -> FolderRef | None:
    """The folder named by the headers; None without a header; 400 (1100) for an unknown folder."""
    condition = _condition(headers)
    if condition is None:
        return None
    row = (
        await conn.execute(
            select(folders.c.id, folders.c.key, folders.c.fully_qualified_name).where(
                condition,  # type: ignore[arg-type]
                folders.c.tenant_id == tenant_id,
            )
        )
    ).first()
    if row is None:
        raise folder_error()
    return FolderRef(row.id, row.key, row.fully_qualified_name)
