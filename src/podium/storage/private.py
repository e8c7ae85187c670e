"""What Podium keeps on disk is its own: the data folder and every folder in it are 0700, files 0600.

The data folder holds the SQLite database, the keys, packages and bucket files; no other local user has
any business reading them. ``podium serve`` also sets the umask to 077 (``PRIVATE_UMASK``), so that
whatever else the server writes (queue archives, SQLite's -wal and -shm files, which take the database
file's mode anyway) is private too; the stores below create their folders and files with private modes
themselves, so that they stay private where Podium runs without that umask (embedded, tests).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.engine import make_url

FOLDER_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")

log = logging.getLogger("podium.storage")


def make_folders(path: Path) -> None:
    """``mkdir -p`` whose new folders are all 0700 (``Path.mkdir(parents=True)`` gives the parents it
    creates the default mode). Existing folders are left as they are; a file in the way raises as
    ``mkdir`` does (``FileExistsError``, ``NotADirectoryError``)."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another request
            folder.mkdir(mode=FOLDER_MODE)


def create_file(path: Path) -> BinaryIO:
    """A new file (``FileExistsError`` if there is one), 0600, open for writing bytes."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    return os.fdopen(descriptor, "wb")


def protect_data_folder(data_dir: Path) -> None:
    """The data folder, created if missing, 0700 (an existing one is narrowed down: older versions left
    it 0755). A folder Podium does not own stays as it is, with a warning."""
    make_folders(data_dir)
    _narrow(data_dir, FOLDER_MODE)


def protect_database(database_url: str) -> None:
    """A SQLite database file (and its journal files) 0600; nothing for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    for suffix in SQLITE_SUFFIXES:
        path = Path(url.database + suffix)
        if path.exists():
            _narrow(path, FILE_MODE)


def _narrow(path: Path, mode: int) -> None:
    if path.stat().st_mode & 0o777 == mode:
        return
    try:
        path.chmod(mode)
    except PermissionError:
        log.warning("%s is readable by others and cannot be made private (mode %o)", path, mode)
