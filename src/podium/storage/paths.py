"""Blob paths: one validated, normalized form for every store.

A blob path is relative to its bucket's root: segments joined by ``/``, never empty, never ``.`` or
``..``, no backslash (Windows separators would mean different files on different stores), no NUL or
other control character, no drive letter. The API accepts one leading ``/`` as Orchestrator's "bucket
root" notation (the SDK sends ``/dir/file`` as a prefix) and strips it before validating; what is left
must not be absolute.
"""

from __future__ import annotations

import re

from podium.errors import ErrorCode, PodiumError

MAX_PATH_LENGTH = 1024
MAX_SEGMENT_BYTES = 255
_DRIVE = re.compile(r"^[A-Za-z]:")


def invalid_path(message: str) -> PodiumError:
    return PodiumError(message, status=400, code=ErrorCode.VALIDATION)


def _check(path: str, what: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise invalid_path(f"The {what} must not contain control characters (NUL, newline ...).")
    if "\\" in path:
        raise invalid_path(f"The {what} must use '/' as separator, not '\\'.")
    if path.startswith("/") or _DRIVE.match(path):
        raise invalid_path(f"The {what} must be relative to the bucket, not an absolute path.")
    if len(path) > MAX_PATH_LENGTH:
        raise invalid_path(f"The {what} must be at most {MAX_PATH_LENGTH} characters long.")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise invalid_path(f"The {what} '{path}' has an empty, '.' or '..' segment.")
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise invalid_path(f"A name in the {what} is longer than {MAX_SEGMENT_BYTES} bytes.")
    return path


def validate_key(path: str) -> str:
    """A store-level key: already relative, validated strictly (no leading '/')."""
    return _check(path, "path")


def file_path(raw: object) -> str:
    """The path of one file from a request (``path=dir/file.txt`` or ``/dir/file.txt``)."""
    if not isinstance(raw, str) or not raw.strip("/"):
        raise invalid_path("The path of the file is required.")
    return _check(raw[1:] if raw.startswith("/") else raw, "path")


def directory_path(raw: object) -> str:
    """A directory or prefix from a request: '' for the bucket's root ('/', '' or missing)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise invalid_path("The directory must be a string.")
    text = raw[1:] if raw.startswith("/") else raw
    text = text[:-1] if text.endswith("/") else text
    return _check(text, "directory") if text else ""


def prefix_path(raw: object) -> str:
    """A ListFiles prefix: like a directory, but it may end inside a name (``/dir/fi``)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise invalid_path("The prefix must be a string.")
    text = raw[1:] if raw.startswith("/") else raw
    if not text:
        return ""
    head, _, tail = text.rpartition("/")
    if head:
        _check(head, "prefix")
    if tail:
        _check(tail, "prefix")
    return text
