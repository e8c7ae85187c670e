"""The robot protocol's answers (``podium.robot.messages``): the JSON names the README's table documents,
and what the server writes is what the agent reads back."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import orjson

from podium.robot import messages
from podium.robot.messages import (
    Assignment,
    Command,
    ConnectAnswer,
    HeartbeatAnswer,
    JobsAnswer,
    RobotGrant,
)

ASSIGNMENT = Assignment(
    id=7,
    key="2b0e1c9e-0000-4000-8000-000000000007",
    release_key="2b0e1c9e-0000-4000-8000-0000000000aa",
    release_name="proc",
    process_key="proc",
    process_version="1.0.0",
    entry_point_path=None,
    input_arguments='{"a": 1}',
    folder_id=3,
    folder_key="2b0e1c9e-0000-4000-8000-0000000000f0",
    folder_path="Shared",
    robot_key="2b0e1c9e-0000-4000-8000-0000000000b0",
    robot_name="M1-robot-0",
    access_token="job-token",
    token_expires_at=1_900_000_000,
    stop_process_expression=None,
    kill_process_expression=None,
    claim="2b0e1c9e-0000-4000-8000-0000000000c0",
)
COMMAND = Command("2b0e1c9e-0000-4000-8000-000000000007", "Terminating", "Kill")
GRANT = RobotGrant(1, "robot-key", "M1-robot-0", 11, 2, "robot-token", 1_900_000_000)


def test_assignment_names() -> None:
    assert list(ASSIGNMENT.to_json()) == [
        "id",
        "key",
        "releaseKey",
        "releaseName",
        "processKey",
        "processVersion",
        "entryPointPath",
        "inputArguments",
        "folderId",
        "folderKey",
        "folderPath",
        "robotKey",
        "robotName",
        "accessToken",
        "tokenExpiresAt",
        "stopProcessExpression",
        "killProcessExpression",
        "claim",
        "resume",
    ]


def test_other_answers_names() -> None:
    assert COMMAND.to_json() == {"jobKey": COMMAND.job_key, "state": "Terminating", "action": "Kill"}
    assert list(GRANT.to_json()) == [
        "robotId",
        "robotKey",
        "robotName",
        "sessionId",
        "capacity",
        "token",
        "tokenExpiresAt",
    ]
    connect = ConnectAnswer(5, "M1", (GRANT,), "http://podium/org/Default", 30, 30)
    assert list(connect.to_json()) == [
        "machineId",
        "machineName",
        "robots",
        "orchestratorUrl",
        "heartbeatSeconds",
        "longPollSeconds",
    ]
    assert HeartbeatAnswer().to_json() == {"commands": []}
    assert JobsAnswer().to_json() == {"jobs": [], "commands": []}


def test_what_the_server_writes_the_agent_reads() -> None:
    answers: list[Any] = [
        ASSIGNMENT,
        COMMAND,
        GRANT,
        ConnectAnswer(5, "M1", (GRANT, GRANT), "http://podium/org/Default", 30, 2.5),
        HeartbeatAnswer((COMMAND,)),
        JobsAnswer((ASSIGNMENT,), ()),
        JobsAnswer((), (COMMAND, COMMAND)),
    ]
    for answer in answers:
        wire = orjson.loads(orjson.dumps(answer.to_json()))
        assert type(answer).from_json(wire) == answer


def test_an_agent_reads_answers_with_names_it_does_not_know() -> None:
    wire = {**ASSIGNMENT.to_json(), "somethingNew": 1}
    del wire["entryPointPath"]
    assert Assignment.from_json(wire) == ASSIGNMENT


def test_the_module_imports_nothing_of_podium() -> None:
    """The agent loads it without the server: no ``podium`` import at all, not even the domain's."""
    tree = ast.parse(Path(messages.__file__).read_text())
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    ]
    assert not [name for name in imported if name and name.startswith("podium")]
