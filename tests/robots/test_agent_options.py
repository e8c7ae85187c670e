"""The agent's folders are absolute: a job runs in a folder of its own, so a path relative to the
directory ``podium robot`` was started in would point nowhere (``podium-robot/venvs/…/bin/python``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium import cli
from podium.robot import agent
from podium.robot.agent import AgentOptions, default_cache_dir
from podium.robot.protocol import Credentials

KEY = Credentials("machine-key")


def test_default_cache_dir_is_the_users_cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # platformdirs' folder on Linux
    options = AgentOptions("http://127.0.0.1:8000", KEY)
    assert options.cache_dir.is_absolute()
    assert options.cache_dir == default_cache_dir() == tmp_path / "xdg" / "podium" / "robot"
    assert options.venv_dir is None

    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir().is_absolute()
    assert default_cache_dir().parts[-2:] == ("podium", "robot")


def test_relative_folders_are_resolved_against_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    here = Path.cwd()
    options = AgentOptions("http://127.0.0.1:8000", KEY, Path("robot-cache"), venv_dir=Path("../venvs"))
    assert options.cache_dir == here / "robot-cache"
    assert options.venv_dir == here.parent / "venvs"


def test_the_cli_hands_the_agent_absolute_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[AgentOptions] = []

    async def serve(options: AgentOptions) -> None:
        served.append(options)

    monkeypatch.setattr(agent, "serve", serve)
    monkeypatch.chdir(tmp_path)
    for name in ("PODIUM_ROBOT_CACHE", "PODIUM_ROBOT_VENVS", "PODIUM_CLIENT_ID", "PODIUM_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    robot = ["robot", "--url", "http://127.0.0.1:8000", "--machine-key", "k"]

    cli.main([*robot, "--cache-dir", "cache"])
    cli.main(robot)

    assert [options.cache_dir for options in served] == [
        Path.cwd() / "cache",
        tmp_path / "xdg" / "podium" / "robot",
    ]
