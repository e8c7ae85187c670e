"""Reading a package's zip safely: entry names that cannot escape, and limits against zip bombs.

A ``.nupkg`` comes from users; it is opened only through :class:`SafeZip`, which refuses the archive
when an entry name is absolute, has ``..``, a drive letter, a backslash or a control character, when
it has too many entries, or when the sizes its entries declare (what ``zipfile`` will ever inflate,
it stops at the declared size and checks the CRC) add up to more than the limit or show a
compression ratio only a bomb has.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from podium.packages.errors import PackageError

MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # inflated size of the whole package
MAX_RATIO = 200  # inflated / compressed, for entries over 1 MiB
MAX_METADATA_BYTES = 5 * 1024 * 1024  # nuspec, operate.json, entry-points.json, podium.json ...
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Limits:
    max_entries: int = MAX_ENTRIES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_ratio: int = MAX_RATIO


def clean_name(raw: str) -> str:
    """The entry's path without a leading ``./`` (``uipath pack`` writes ``./package/...``); PackageError
    when it could land outside the extraction folder."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw) or "\\" in raw or _DRIVE.match(raw):
        raise PackageError(f"The package has an entry with an unsafe name: {raw!r}.")
    if raw.startswith("/"):
        raise PackageError(f"The package has an entry with an absolute path: {raw!r}.")
    parts = [p for p in PurePosixPath(raw).parts if p != "."]
    if any(p == ".." for p in parts):
        raise PackageError(f"The package has an entry that leaves the package folder: {raw!r}.")
    return "/".join(parts)


class SafeZip:
    """An opened, checked package archive: ``names`` maps clean entry names to zip entries."""

    def __init__(self, path: Path, limits: Limits | None = None) -> None:
        limits = limits or Limits()
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
            raise PackageError("The file is not a valid package: it is not a zip (.nupkg) archive.") from None
        try:
            self.names = self._check(limits)
        except Exception:
            self.zip.close()
            raise

    def _check(self, limits: Limits) -> dict[str, zipfile.ZipInfo]:
        entries = self.zip.infolist()
        if len(entries) > limits.max_entries:
            raise PackageError(f"The package has more than {limits.max_entries} files.")
        names: dict[str, zipfile.ZipInfo] = {}
        folded: set[str] = set()
        total = 0
        for info in entries:
            name = clean_name(info.filename)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise PackageError(f"The package has a symbolic link: {info.filename!r}.")
            if info.flag_bits & 0x1:
                raise PackageError("The package has encrypted entries.")
            total += info.file_size
            if total > limits.max_total_bytes:
                raise PackageError("The package inflates to more than the allowed size.")
            if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise PackageError(f"The package entry {info.filename!r} has a suspicious compression ratio.")
            if info.is_dir() or not name:
                continue
            if name.casefold() in folded:
                raise PackageError(f"The package has two entries named {name!r}.")
            folded.add(name.casefold())
            names[name] = info
        return names

    def read(self, name: str, limit: int = MAX_METADATA_BYTES) -> bytes:
        info = self.names[name]
        if info.file_size > limit:
            raise PackageError(f"The package file {name!r} is too large.")
        try:
            return self.zip.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
            raise PackageError(f"The package file {name!r} is corrupt.") from None

    def extract_all(self, target: Path) -> None:
        """Writes every file under ``target``; each path is checked to stay inside it."""
        root = target.resolve()
        for name, info in self.names.items():
            destination = (root / name).resolve()
            if not destination.is_relative_to(root):
                raise PackageError(f"The package has an entry that leaves the package folder: {name!r}.")
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                with self.zip.open(info) as source, open(destination, "wb") as sink:
                    shutil.copyfileobj(source, sink, 1024 * 1024)
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
                raise PackageError(f"The package file {name!r} is corrupt.") from None

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
