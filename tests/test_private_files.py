"""What Podium keeps on disk is its own (folders 0700, files 0600) and its logs hold no blob tokens.

The modes are checked under a permissive umask (022, the usual default), which is what left the data
folder 0755 and the database, packages and bucket files 0644 before."""

from __future__ import annotations

import logging
import logging.config
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium import cli
from podium.config import Settings
from podium.http.access_log import RedactBlobTokens, log_config, logs_requests, redact
from podium.storage.packages import PackageStore
from podium.storage.private import create_file, make_folders, protect_data_folder, protect_database

TOKEN = "eyJ0ZW5hbnQiOjF9.c2lnbmF0dXJl-_x"
PREFIXED = "/podium/Default/orchestrator_/api/BlobFiles/"


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_folders_and_files_are_made_private(tmp_path: Path) -> None:
    make_folders(tmp_path / "a" / "b" / "c")
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700] * 3
    make_folders(tmp_path / "a" / "b")  # existing: nothing to do
    with create_file(tmp_path / "a" / "f") as handle:
        handle.write(b"x")
    assert mode(tmp_path / "a" / "f") == 0o600
    with pytest.raises(FileExistsError):
        create_file(tmp_path / "a" / "f")
    with pytest.raises(NotADirectoryError):
        make_folders(tmp_path / "a" / "f" / "below")


def test_package_feed_files_are_private(tmp_path: Path) -> None:
    store = PackageStore(tmp_path / "packages")
    incoming = store.incoming_path()
    assert incoming.exists() and mode(incoming) == 0o600 and mode(incoming.parent) == 0o700
    incoming.write_bytes(b"PK")  # what receiving the upload does: the mode stays
    placed = store.place(incoming, PackageStore.relative_path(1, "processes", "Hello", "1.0.0"))
    assert mode(placed) == 0o600
    folder = placed.parent
    while folder != tmp_path:
        assert mode(folder) == 0o700, folder
        folder = folder.parent


def test_an_existing_data_folder_and_database_are_narrowed(tmp_path: Path) -> None:
    """An installation of an older version: data folder 0755, podium.db and its WAL 0644."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    database = data / "podium.db"
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        (data / "podium.db-wal").touch()
        os.chmod(database, 0o644)
        os.chmod(data / "podium.db-wal", 0o644)
        protect_data_folder(data)
        protect_database(f"sqlite:///{database}")
        assert mode(data) == 0o700
        assert mode(database) == 0o600 and mode(data / "podium.db-wal") == 0o600
    protect_database("postgresql+psycopg://u@127.0.0.1/db")  # no file: nothing to do
    protect_database("sqlite://")


def test_prepare_makes_the_data_folder_and_the_sqlite_database_private(tmp_path: Path) -> None:
    """``podium serve`` prepares a new data folder: 0700, podium.db 0600 (its -wal and -shm files take
    the database file's mode), keys 0600."""
    settings = Settings(data_dir=tmp_path / "fresh" / "data", database_url=None, secret_key=None)
    settings.admin_password = "prepare-admin-password-1"
    cli.prepare(settings, "podium serve")
    data = settings.data_dir
    assert mode(data) == 0o700
    assert mode(data / "podium.db") == 0o600
    assert [p.name for p in data.iterdir() if mode(p) & 0o077] == []


def _access_record(path: str) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", 200), None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/api/BlobFiles/{TOKEN}", "/api/BlobFiles/<redacted>"),
        (f"/api/blobfiles/{TOKEN}?x=1", "/api/blobfiles/<redacted>?x=1"),
        (f"{PREFIXED}{TOKEN}", f"{PREFIXED}<redacted>"),
        (f"/api/Blob%46iles/{TOKEN}", "/api/BlobFiles/<redacted>"),
        ("/odata/Buckets(1)", "/odata/Buckets(1)"),
    ],
)  # fmt: skip
def test_the_access_log_shows_no_blob_token(path: str, logged: str) -> None:
    record = _access_record(path)
    assert RedactBlobTokens().filter(record) is True
    assert record.args is not None and record.args[2] == logged
    assert TOKEN not in record.getMessage()
    assert redact(f"GET {path}") == f"GET {logged}"


def test_uvicorn_log_config_filters_every_handler(capsys: pytest.CaptureFixture[str]) -> None:
    """The configuration ``podium serve`` gives uvicorn (each worker process applies it afresh)."""
    config = log_config()
    assert all("redact_blob_tokens" in handler["filters"] for handler in config["handlers"].values())
    logging.config.dictConfig(config)
    try:
        logging.getLogger("uvicorn.access").handle(_access_record(f"/api/BlobFiles/{TOKEN}"))
        logging.getLogger("uvicorn.error").info("closing %s", f"/api/BlobFiles/{TOKEN}")
    finally:
        for name in ("uvicorn", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    printed = capsys.readouterr()
    assert TOKEN not in printed.out + printed.err
    assert '"GET /api/BlobFiles/<redacted> HTTP/1.1" 200' in printed.out
    assert "closing /api/BlobFiles/<redacted>" in printed.err


@pytest.mark.parametrize(("level", "logged"), [("info", True), ("debug", True), ("warning", False)])
def test_requests_are_logged_at_info_and_below_only(level: str, logged: bool) -> None:
    """Above ``info`` uvicorn's access log is off, not filtered: uvicorn then builds no access line's
    arguments (it checks for the access logger's handlers once, per connection)."""
    import uvicorn

    assert logs_requests(level) is logged
    try:
        uvicorn.Config(
            "podium.app:app", log_config=log_config(), log_level=level, access_log=logs_requests(level)
        )
        assert logging.getLogger("uvicorn.access").hasHandlers() is logged
    finally:
        for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
