"""The local package feed folder: ``<data dir>/packages/<tenant id>/<feed>/<id>/<id>.<version>.nupkg``.

An upload is first written to ``packages/.incoming`` (same file system), checked, then moved into
place with an atomic rename in the transaction that records it; on any failure the incoming file is
removed, so the feed folder never holds a file without its row. Folders are 0700 and files 0600
(``storage/private.py``).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from podium.config import Settings
from podium.storage.private import create_file, make_folders


class PackageStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, settings: Settings) -> PackageStore:
        return cls(settings.data_dir / "packages")

    def incoming_path(self) -> Path:
        """A new empty file (0600) for an upload: writing into it keeps its mode."""
        folder = self.root / ".incoming"
        make_folders(folder)
        path = folder / f"{uuid.uuid4().hex}.nupkg"
        create_file(path).close()
        return path

    @staticmethod
    def relative_path(tenant_id: int, feed: str, package_id: str, version: str) -> str:
        """Where a version lives; ``feed`` is ``processes``, ``libraries`` or ``folder:<id>``."""
        feed_dir = feed.replace(":", "-")
        name = package_id.lower()
        return f"{tenant_id}/{feed_dir}/{name}/{name}.{version}.nupkg"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def place(self, incoming: Path, relative: str) -> Path:
        """Moves an incoming upload to its place in the feed (atomic on one file system)."""
        target = self.path(relative)
        make_folders(target.parent)
        os.replace(incoming, target)
        return target

    def remove(self, relative: str) -> None:
        discard(self.path(relative))


def discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
