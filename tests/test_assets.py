"""Assets over HTTP on both backends: every ValueType, per-robot values, sharing, bad input, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from podium.db.schema_assets import asset_folders, asset_robot_values, assets
from tests.assets_support import NS, ODATA, robot_read
from tests.factories import create_asset, robot_with_token
from tests.support import Api, assert_error

VALUES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"ValueType": "Text", "StringValue": "hello"}, {"Value": "hello", "StringValue": "hello"}),
    ({"ValueType": "Bool", "BoolValue": True}, {"Value": "True", "BoolValue": True}),
    ({"ValueType": "Integer", "IntValue": -42}, {"Value": "-42", "IntValue": -42}),
    (
        {"ValueType": "Credential", "CredentialUsername": "bob", "CredentialPassword": "pw-1"},
        {"Value": "username: bob", "CredentialUsername": "bob", "CredentialPassword": "pw-1"},
    ),
    (
        {"ValueType": "WindowsCredential", "CredentialUsername": "DOM\\bob", "CredentialPassword": "pw-2"},
        {"Value": "username: DOM\\bob", "CredentialUsername": "DOM\\bob", "CredentialPassword": "pw-2"},
    ),
    (
        {"ValueType": "DBConnectionString", "StringValue": "Server=db;Database=x"},
        {"Value": "Server=db;Database=x"},
    ),
    (
        {"ValueType": "HttpConnectionString", "StringValue": "https://example.test/api"},
        {"Value": "https://example.test/api"},
    ),
    (
        {
            "ValueType": "KeyValueList",
            "KeyValueList": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
        },
        {"Value": "a: 1, b: 2", "KeyValueList": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]},
    ),
    ({"ValueType": "Secret", "SecretValue": "s3cr3t"}, {"SecretValue": "s3cr3t"}),
]


@pytest.mark.parametrize(("body", "expected"), VALUES, ids=[b["ValueType"] for b, _ in VALUES])
def test_every_value_type_round_trips(api: Api, body: dict[str, Any], expected: dict[str, Any]) -> None:
    created = create_asset(api, {"Name": "the-asset", "Description": "d", **body})
    assert created["ValueType"] == body["ValueType"] and created["CredentialPassword"] == ""
    assert created["SecretValue"] is None and isinstance(created["Key"], str)
    read = api.ok(api.get(f"{ODATA}/Assets({created['Id']})", folder="Shared"))
    for name, value in expected.items():
        if name not in ("CredentialPassword", "SecretValue"):
            assert read[name] == value, name
    assert read["CredentialPassword"] == "" and read["SecretValue"] is None  # never to a user
    login = robot_with_token(api, "robot-1")
    as_robot = api.ok(robot_read(api, "the-asset", login.key, token=login.token))
    for name, value in expected.items():
        assert as_robot[name] == value, name
    assert isinstance(as_robot["Value"], str) or body["ValueType"] == "Secret"


def test_update_keeps_password_when_left_empty_and_type_cannot_change(api: Api) -> None:
    created = create_asset(
        api,
        {"Name": "cred", "ValueType": "Credential", "CredentialUsername": "u", "CredentialPassword": "first"},
    )
    dto = api.ok(api.get(f"{ODATA}/Assets({created['Id']})", folder="Shared"))
    dto.update(CredentialUsername="u2", Description="edited")
    api.ok(api.put(f"{ODATA}/Assets({created['Id']})", dto, folder="Shared"))
    login = robot_with_token(api, "r")
    read = api.ok(robot_read(api, "cred", login.key, token=login.token))
    assert (read["CredentialUsername"], read["CredentialPassword"]) == ("u2", "first")
    dto["CredentialPassword"] = "second"
    api.ok(api.put(f"{ODATA}/Assets({created['Id']})", dto, folder="Shared"))
    assert api.ok(robot_read(api, "cred", login.key, token=login.token))["CredentialPassword"] == "second"
    assert_error(
        api.put(f"{ODATA}/Assets({created['Id']})", {**dto, "ValueType": "Text"}, folder="Shared"), 400
    )


def test_per_robot_values_and_default(api: Api) -> None:
    one, two, three = (robot_with_token(api, f"robot-{i}") for i in (1, 2, 3))
    body = {
        "Name": "per",
        "ValueScope": "PerRobot",
        "ValueType": "Credential",
        "HasDefaultValue": False,
        "RobotValues": [
            {"RobotId": one.robot["Id"], "CredentialUsername": "one", "CredentialPassword": "p1"},
            {
                "RobotId": two.robot["Id"],
                "ValueType": "Credential",
                "CredentialUsername": "two",
                "CredentialPassword": "p2",
            },
        ],
    }
    created = create_asset(api, body)
    expanded = api.ok(api.get(f"{ODATA}/Assets({created['Id']})?$expand=RobotValues", folder="Shared"))
    values = {v["RobotId"]: v for v in expanded["RobotValues"]}
    assert (
        values[one.robot["Id"]]["CredentialUsername"] == "one"
        and values[one.robot["Id"]]["RobotName"] == "robot-1"
    )
    assert all(v["CredentialPassword"] == "" for v in values.values())
    assert api.ok(robot_read(api, "per", one.key, token=one.token))["CredentialPassword"] == "p1"
    assert api.ok(robot_read(api, "per", two.key, token=two.token))["CredentialUsername"] == "two"
    by_id = api.get(
        f"{ODATA}/Assets/{NS}.GetRobotAssetByRobotId(robotId={one.robot['Id']},assetName='per')",
        folder="Shared",
        token=one.token,
    )
    assert api.ok(by_id)["CredentialPassword"] == "p1"
    assert_error(robot_read(api, "per", three.key, token=three.token), 404)  # no value, no default
    dto = api.ok(api.get(f"{ODATA}/Assets({created['Id']})", folder="Shared"))
    dto.update(HasDefaultValue=True, CredentialUsername="default", CredentialPassword="pd")
    api.ok(api.put(f"{ODATA}/Assets({created['Id']})", dto, folder="Shared"))
    fallback = api.ok(robot_read(api, "per", three.key, token=three.token))
    assert (fallback["CredentialUsername"], fallback["CredentialPassword"]) == ("default", "pd")
    assert (
        api.ok(robot_read(api, "per", one.key, token=one.token))["CredentialPassword"] == "p1"
    )  # still its own


def test_user_values_apply_to_the_robots_user(api: Api) -> None:
    login = robot_with_token(api, "uv-robot")
    body = {
        "Name": "uv",
        "ValueScope": "PerRobot",
        "ValueType": "Text",
        "HasDefaultValue": True,
        "StringValue": "global",
        "UserValues": [{"UserId": login.robot["UserId"], "StringValue": "for-user"}],
    }
    created = create_asset(api, body)
    assert api.ok(robot_read(api, "uv", login.key, token=login.token))["StringValue"] == "for-user"
    expanded = api.ok(api.get(f"{ODATA}/Assets({created['Id']})?$expand=UserValues", folder="Shared"))
    [value] = expanded["UserValues"]
    assert value["UserId"] == login.robot["UserId"] and value["UserName"].startswith("robot:")
    assert value["StringValue"] == "for-user"


BAD: list[tuple[str, dict[str, Any], int]] = [
    ("text-for-integer", {"ValueType": "Integer", "IntValue": "abc"}, 400),
    ("value-text-for-integer", {"ValueType": "Integer", "Value": "abc"}, 400),
    ("integer-out-of-range", {"ValueType": "Integer", "IntValue": 2**40}, 400),
    ("string-for-bool", {"ValueType": "Bool", "BoolValue": "yes"}, 400),
    ("number-for-text", {"ValueType": "Text", "StringValue": 5}, 400),
    ("credential-without-password", {"ValueType": "Credential", "CredentialUsername": "u"}, 400),
    ("credential-without-user", {"ValueType": "Credential", "CredentialPassword": "p"}, 400),
    ("unknown-type", {"ValueType": "Nope", "StringValue": "x"}, 400),
    ("key-value-not-string", {"ValueType": "KeyValueList", "KeyValueList": [{"Key": "a", "Value": 1}]}, 400),
    (
        "key-twice",
        {
            "ValueType": "KeyValueList",
            "KeyValueList": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}],
        },
        400,
    ),
    (
        "unknown-robot",
        {
            "ValueType": "Text",
            "StringValue": "x",
            "ValueScope": "PerRobot",
            "RobotValues": [{"RobotId": 987654, "StringValue": "y"}],
        },
        400,
    ),
    (
        "robot-value-of-other-type",
        {
            "ValueType": "Text",
            "StringValue": "x",
            "ValueScope": "PerRobot",
            "RobotValues": [{"RobotId": -1, "ValueType": "Integer", "IntValue": 1}],
        },
        400,
    ),
    (
        "unknown-user",
        {"ValueType": "Text", "StringValue": "x", "UserValues": [{"UserId": 987654, "StringValue": "y"}]},
        400,
    ),
    ("unknown-property", {"ValueType": "Text", "StringValue": "x", "Colour": "red"}, 400),
    ("unknown-credential-store", {"ValueType": "Text", "StringValue": "x", "CredentialStoreId": 987654}, 400),
]


@pytest.mark.parametrize(("case", "body", "status"), BAD, ids=[c for c, _, _ in BAD])
def test_bad_input_is_a_4xx_and_writes_nothing(
    api: Api, db: Engine, case: str, body: dict[str, Any], status: int
) -> None:
    assert_error(api.post(f"{ODATA}/Assets", {"Name": f"bad-{case}", **body}, folder="Shared"), status)
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(assets)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(asset_robot_values)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(asset_folders)).scalar_one() == 0


def test_duplicate_name_in_a_folder_is_409_and_writes_nothing(api: Api, db: Engine) -> None:
    create_asset(api, {"Name": "dup", "ValueType": "Text", "StringValue": "1"})
    body = assert_error(
        api.post(f"{ODATA}/Assets", {"Name": "DUP", "ValueType": "Integer", "IntValue": 2}, folder="Shared"),
        409,
    )
    assert "dup" in body["message"].lower()
    other = api.ok(api.post(f"{ODATA}/Folders", {"DisplayName": "Other"}), 201)
    create_asset(api, {"Name": "dup", "ValueType": "Text", "StringValue": "other"}, folder="Other")
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(assets)).scalar_one() == 2
    # sharing the Other folder's "dup" into Shared would make two "dup" there
    [mine] = api.ok(api.get(f"{ODATA}/Assets", folder="Other"))["value"]
    share = {
        "AssetIds": [mine["Id"]],
        "ToAddFolderIds": [api.tenant.shared_folder_id],
        "ToRemoveFolderIds": [],
    }
    assert_error(api.post(f"{ODATA}/Assets/{NS}.ShareToFolders", share, folder="Other"), 409)
    assert (
        api.ok(api.get(f"{ODATA}/Assets/{NS}.GetFoldersForAsset(id={mine['Id']})"))["TotalFoldersCount"] == 1
    )
    assert other["Id"] != api.tenant.shared_folder_id


def test_share_to_folders_and_reads_across_folders(api: Api) -> None:
    team = api.ok(api.post(f"{ODATA}/Folders", {"DisplayName": "Team"}), 201)
    shared_id = api.tenant.shared_folder_id
    created = create_asset(api, {"Name": "shared-one", "ValueType": "Text", "StringValue": "v"})
    create_asset(api, {"Name": "team-only", "ValueType": "Bool", "BoolValue": False}, folder="Team")
    share = {"AssetIds": [created["Id"]], "ToAddFolderIds": [team["Id"]], "ToRemoveFolderIds": []}
    assert api.post(f"{ODATA}/Assets/{NS}.ShareToFolders", share, folder="Shared").status_code == 204
    in_team = api.ok(api.get(f"{ODATA}/Assets/{NS}.GetFiltered?$orderby=Name", folder="Team"))["value"]
    assert [a["Name"] for a in in_team] == ["shared-one", "team-only"]
    assert in_team[0]["FoldersCount"] == 2
    folders = api.ok(api.get(f"{ODATA}/Assets/{NS}.GetFoldersForAsset(id={created['Id']})"))
    assert folders["TotalFoldersCount"] == 2
    assert sorted(f["FullyQualifiedName"] for f in folders["AccessibleFolders"]) == ["Shared", "Team"]
    across = api.ok(api.get(f"{ODATA}/Assets/{NS}.GetAssetsAcrossFolders?excludeFolderId={shared_id}"))[
        "value"
    ]
    assert [a["Name"] for a in across] == ["team-only"]
    filtered = api.ok(
        api.get(f"{ODATA}/Assets/{NS}.GetFiltered?$filter=Name eq 'team-only'&$top=1", folder="Team")
    )
    assert [a["Name"] for a in filtered["value"]] == ["team-only"]
    unshare = {"AssetIds": [created["Id"]], "ToAddFolderIds": [], "ToRemoveFolderIds": [shared_id]}
    assert api.post(f"{ODATA}/Assets/{NS}.ShareToFolders", unshare).status_code == 204
    assert api.ok(api.get(f"{ODATA}/Assets", folder="Shared"))["value"] == []
    moved = api.ok(api.get(f"{ODATA}/Assets({created['Id']})", folder="Team"))
    assert moved["FoldersCount"] == 1
    last = {"AssetIds": [created["Id"]], "ToAddFolderIds": [], "ToRemoveFolderIds": [team["Id"]]}
    assert_error(api.post(f"{ODATA}/Assets/{NS}.ShareToFolders", last), 400)
    bad_folder = {"AssetIds": [created["Id"]], "ToAddFolderIds": [987654], "ToRemoveFolderIds": []}
    assert_error(api.post(f"{ODATA}/Assets/{NS}.ShareToFolders", bad_folder), 400)


def test_delete_asset(api: Api, db: Engine) -> None:
    login = robot_with_token(api, "del-robot")
    created = create_asset(
        api,
        {
            "Name": "gone",
            "ValueType": "Text",
            "StringValue": "x",
            "ValueScope": "PerRobot",
            "RobotValues": [{"RobotId": login.robot["Id"], "StringValue": "y"}],
        },
    )
    assert api.delete(f"{ODATA}/Assets({created['Id']})", folder="Shared").status_code == 204
    with db.connect() as conn:
        for table in (assets, asset_robot_values, asset_folders):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
