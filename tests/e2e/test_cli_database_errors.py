"""A database that cannot be reached or opened: ``podium serve`` and ``podium db upgrade`` print one line
(the command, the URL with its password hidden, what failed) and exit with status 1, no traceback.
Real ``podium`` processes; none gets as far as listening."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.servers import podium_command

pytestmark = pytest.mark.e2e
UNREACHABLE = "postgresql+psycopg://nobody:s3cret-word@127.0.0.1:1/x"  # nothing listens on port 1


def run_podium(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PODIUM_")}
    done = subprocess.run(
        [*podium_command(), *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


def one_line_error(returncode: int, stdout: str, stderr: str) -> str:
    assert returncode == 1, (returncode, stdout, stderr)
    assert "Traceback" not in stdout + stderr, stderr
    [line] = stderr.splitlines()
    return line


COMMANDS = [["serve", "--port", "1"], ["db", "upgrade"]]  # serve never gets as far as port 1


@pytest.mark.parametrize("command", COMMANDS, ids=["serve", "db-upgrade"])
def test_an_unreachable_postgresql_is_one_line(tmp_path: Path, command: list[str]) -> None:
    line = one_line_error(*run_podium(tmp_path, *command, "--database-url", UNREACHABLE))
    name = "podium db upgrade" if command[0] == "db" else "podium serve"
    prefix = f"{name}: cannot use the database postgresql+psycopg://nobody:***@127.0.0.1:1/x: connection"
    assert line.startswith(prefix), line
    assert "Connection refused" in line and "s3cret-word" not in line


@pytest.mark.parametrize("command", COMMANDS, ids=["serve", "db-upgrade"])
def test_a_sqlite_file_that_cannot_be_created_is_one_line(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path}/a-file/podium.db"
    line = one_line_error(*run_podium(tmp_path, *command, "--database-url", url))
    assert f": cannot use the database {url}: unable to open database file" in line, line


def test_a_data_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path / "a-file" / "data"  # the default SQLite database lives in the data folder
    line = one_line_error(*run_podium(tmp_path, "serve", "--port", "1", "--data-dir", str(folder)))
    assert line == f"podium serve: cannot create the data folder {folder}: Not a directory"
