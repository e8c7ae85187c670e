"""Podium's own bucket storage: a folder per bucket under the data folder.

Writes go to a temporary file in the store's ``.tmp`` folder (same file system) and are moved into place
with ``os.replace`` only when the whole stream arrived within the size limit, so a failed or oversized
upload leaves nothing behind and readers never see a half-written file. File I/O runs in worker threads
in blocks of ``BLOCK`` bytes so the event loop is not blocked and memory stays flat. Folders are made
0700 and files 0600 (``storage/private.py``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread

from podium.errors import conflict
from podium.storage.base import BlobInfo, BlobStream, Listing, SignedUri, file_missing, guess_type, too_large
from podium.storage.paths import validate_key
from podium.storage.private import create_file, make_folders

BLOCK = 1024 * 1024


class LocalStore:
    def __init__(self, root: Path, tmp_dir: Path) -> None:
        self.root = root
        self.tmp_dir = tmp_dir

    def _file(self, path: str) -> Path:
        return self.root / validate_key(path)

    def _info(self, key: str, stat: os.stat_result) -> BlobInfo:
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        return BlobInfo(key, stat.st_size, modified, guess_type(key))

    def _list_sync(self, prefix: str, recursive: bool) -> Listing:
        base = self.root / validate_key(prefix) if prefix else self.root
        files: list[BlobInfo] = []
        directories: list[str] = []
        if not base.is_dir() or base.is_symlink():
            return Listing([], [])
        pending = [(base, prefix)]
        while pending:
            folder, key = pending.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    child = f"{key}/{entry.name}" if key else entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if recursive:
                            pending.append((Path(entry.path), child))
                        else:
                            directories.append(child)
                    elif entry.is_file(follow_symlinks=False):
                        files.append(self._info(child, entry.stat(follow_symlinks=False)))
        files.sort(key=lambda info: info.path)
        directories.sort()
        return Listing(files, directories)

    async def list(self, prefix: str, *, recursive: bool) -> Listing:
        return await to_thread.run_sync(self._list_sync, prefix, recursive)

    def _head_sync(self, path: str) -> BlobInfo | None:
        target = self._file(path)
        try:
            stat = target.lstat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not target.is_file() or target.is_symlink():
            return None
        return self._info(path, stat)

    async def head(self, path: str) -> BlobInfo | None:
        return await to_thread.run_sync(self._head_sync, path)

    def _delete_sync(self, path: str) -> bool:
        target = self._file(path)
        if not target.is_file() or target.is_symlink():
            return False
        target.unlink(missing_ok=True)
        parent = target.parent  # empty directories vanish, as they do on object stores
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
        return True

    async def delete(self, path: str) -> bool:
        return await to_thread.run_sync(self._delete_sync, path)

    def _open_temp(self) -> tuple[Path, BinaryIO]:
        make_folders(self.tmp_dir)
        temp = self.tmp_dir / f"{uuid.uuid4().hex}.part"
        return temp, create_file(temp)

    def _commit(self, temp: Path, path: str) -> BlobInfo:
        target = self._file(path)
        try:
            make_folders(target.parent)
            if target.is_dir():
                raise IsADirectoryError(path)
            os.replace(temp, target)
        except (NotADirectoryError, FileExistsError, IsADirectoryError):
            raise conflict(f"'{path}' clashes with a directory or file of the same name.") from None
        return self._info(path, target.stat())

    async def write(
        self, path: str, chunks: AsyncIterator[bytes], *, content_type: str | None, max_bytes: int
    ) -> BlobInfo:
        validate_key(path)
        temp, handle = await to_thread.run_sync(self._open_temp)
        committed = False
        try:
            size = 0
            block = bytearray()
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(max_bytes)
                block += chunk
                if len(block) >= BLOCK:
                    await to_thread.run_sync(handle.write, block)
                    block = bytearray()
            if block:
                await to_thread.run_sync(handle.write, block)
            await to_thread.run_sync(handle.close)
            info = await to_thread.run_sync(self._commit, temp, path)
            committed = True
            return info
        finally:
            if not committed:
                handle.close()
                temp.unlink(missing_ok=True)

    async def read(self, path: str) -> BlobStream:
        info = await self.head(path)
        if info is None:
            raise file_missing(path)
        return BlobStream(info, self._chunks(self._file(path)))

    async def _chunks(self, target: Path) -> AsyncIterator[bytes]:
        handle = await to_thread.run_sync(open, target, "rb")
        try:
            while chunk := await to_thread.run_sync(handle.read, BLOCK):
                yield chunk
        finally:
            handle.close()

    def local_file(self, path: str) -> Path:
        """The file on disk, so that downloads can be served by a file response (ranges, sendfile)."""
        return self._file(path)

    async def sign(
        self, verb: str, path: str, expiry: dt.timedelta, content_type: str | None
    ) -> SignedUri | None:
        return None

    async def remove_all(self) -> None:
        await to_thread.run_sync(lambda: shutil.rmtree(self.root, ignore_errors=True))
