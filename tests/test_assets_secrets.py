"""Secrets of assets: who gets them in clear, nothing in clear in the database, key rotation; robots'
machine credentials and users; permissions of users and robots."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from podium.config import Settings
from podium.db.schema import machines, user_roles
from podium.db.schema_assets import asset_robot_values, assets
from podium.domain.crypto import Keyring, KeyringError, ensure_key, key_file, read_key_file, sealed_key_id
from podium.domain.key_rotation import rotate_key
from podium.domain.sealed import SEALED_COLUMNS
from tests.assets_support import NS, ODATA, robot_read
from tests.factories import create_asset, robot_with_token
from tests.support import ADMIN_PASSWORD, SIGNING_KEY, Api, assert_error

PASSWORDS = ("global-pa55word-xyz", "robot-pa55word-abc", "secret-value-qrs")


def _seed_secrets(api: Api) -> None:
    login = robot_with_token(api, "vault-robot")
    create_asset(
        api,
        {
            "Name": "cred",
            "ValueType": "Credential",
            "CredentialUsername": "u",
            "CredentialPassword": PASSWORDS[0],
            "ValueScope": "PerRobot",
            "HasDefaultValue": True,
            "RobotValues": [
                {"RobotId": login.robot["Id"], "CredentialUsername": "r", "CredentialPassword": PASSWORDS[1]}
            ],
        },
    )
    create_asset(api, {"Name": "secret", "ValueType": "Secret", "SecretValue": PASSWORDS[2]})


def _database_bytes(database_url: str, db: Engine) -> bytes:
    if database_url.startswith("sqlite"):
        api_file = Path(database_url.removeprefix("sqlite:///"))
        data = api_file.read_bytes()
        wal = api_file.with_name(api_file.name + "-wal")
        return data + (wal.read_bytes() if wal.exists() else b"")
    with db.connect() as conn:  # every row of every asset table, as the server stores it
        rows = [conn.execute(select(table)).all() for table in (assets, asset_robot_values)]
    return repr(rows).encode()


def test_no_password_in_clear_in_the_database(api: Api, db: Engine, database_url: str) -> None:
    _seed_secrets(api)
    stored = _database_bytes(database_url, db)
    for password in PASSWORDS:
        assert password.encode() not in stored
        assert password.encode("utf-16-le") not in stored
    with db.connect() as conn:
        sealed = conn.execute(select(assets.c.secret).where(assets.c.name == "cred")).scalar_one()
    assert sealed.startswith("pe1:")


def test_password_only_to_its_robot(api: Api) -> None:
    owner, other = robot_with_token(api, "owner"), robot_with_token(api, "other")
    create_asset(
        api, {"Name": "c", "ValueType": "Credential", "CredentialUsername": "u", "CredentialPassword": "pw"}
    )
    assert api.ok(robot_read(api, "c", owner.key, token=owner.token))["CredentialPassword"] == "pw"
    assert api.ok(robot_read(api, "c", owner.key))["CredentialPassword"] == ""  # admin, with a robot key
    assert_error(robot_read(api, "c", owner.key, token=other.token), 403)  # another robot's key
    assert (
        api.ok(robot_read(api, "c", None, token=owner.token))["CredentialPassword"] == "pw"
    )  # its own robot
    by_id = f"{ODATA}/Assets/{NS}.GetRobotAsset(robotId={owner.robot['Id']},assetName='c')"
    assert api.ok(api.get(by_id, folder="Shared"))["CredentialPassword"] == ""
    assert api.ok(api.get(by_id, folder="Shared", token=owner.token))["CredentialPassword"] == "pw"
    listed = api.ok(api.get(f"{ODATA}/Assets?$expand=RobotValues", folder="Shared", token=owner.token))[
        "value"
    ]
    assert [a["CredentialPassword"] for a in listed] == [""]


def test_direct_api_access_without_robot_key(api: Api) -> None:
    create_asset(
        api,
        {"Name": "closed", "ValueType": "Credential", "CredentialUsername": "u", "CredentialPassword": "pw1"},
    )
    create_asset(
        api,
        {
            "Name": "open",
            "ValueType": "Credential",
            "CredentialUsername": "u",
            "CredentialPassword": "pw2",
            "AllowDirectApiAccess": True,
        },
    )
    assert_error(robot_read(api, "closed", None), 403)
    assert api.ok(robot_read(api, "open", None))["CredentialPassword"] == "pw2"
    assert_error(robot_read(api, "missing", None), 404)


def test_set_robot_asset_by_robot_key(api: Api) -> None:
    login = robot_with_token(api, "setter")
    create_asset(
        api,
        {
            "Name": "per",
            "ValueType": "Integer",
            "ValueScope": "PerRobot",
            "IntValue": 1,
            "HasDefaultValue": True,
        },
    )
    body = {"robotKey": login.key, "robotAsset": {"Name": "per", "ValueType": "Integer", "IntValue": 7}}
    url = f"{ODATA}/Assets/{NS}.SetRobotAssetByRobotKey"
    assert_error(api.post(url, body, folder="Shared", token=login.token), 403)  # Robot role: no Assets.Edit
    answer = api.ok(api.post(url, body, folder="Shared"))  # an admin sets the robot's value; JSON body
    assert answer["IntValue"] == 7
    assert api.ok(robot_read(api, "per", login.key, token=login.token))["IntValue"] == 7
    assert api.ok(api.get(f"{ODATA}/Assets", folder="Shared"))["value"][0]["IntValue"] == 1  # default kept
    bad = {"robotKey": login.key, "robotAsset": {"Name": "per", "IntValue": "abc"}}
    assert_error(api.post(url, bad, folder="Shared"), 400)
    assert_error(api.post(url, {**body, "robotKey": "no-such-robot"}, folder="Shared"), 404)


def test_user_without_assets_view_sees_no_asset(api: Api) -> None:
    create_asset(api, {"Name": "a", "ValueType": "Text", "StringValue": "x"})
    user = api.ok(api.post(f"{ODATA}/Users", {"UserName": "plain", "Password": ADMIN_PASSWORD}), 201)
    token = api.login("plain", ADMIN_PASSWORD)
    assert_error(api.get(f"{ODATA}/Assets", token=token), 403)
    assert_error(api.get(f"{ODATA}/Assets", folder="Shared", token=token), 403)
    assert_error(api.get(f"{ODATA}/Assets/{NS}.GetFiltered", folder="Shared", token=token), 403)
    assert_error(robot_read(api, "a", None, token=token), 403)
    assert user["Id"]


def test_robot_sees_only_assets_of_its_folders(api: Api, db: Engine) -> None:
    api.ok(api.post(f"{ODATA}/Folders", {"DisplayName": "Elsewhere"}), 201)
    create_asset(api, {"Name": "here", "ValueType": "Text", "StringValue": "x"})
    create_asset(api, {"Name": "there", "ValueType": "Text", "StringValue": "y"}, folder="Elsewhere")
    login = robot_with_token(api, "member")
    listed = api.ok(api.get(f"{ODATA}/Assets", token=login.token))["value"]
    assert [a["Name"] for a in listed] == ["here"]
    assert_error(api.get(f"{ODATA}/Assets", folder="Elsewhere", token=login.token), 403)
    assert_error(robot_read(api, "there", login.key, token=login.token, folder=None), 404)
    assert api.ok(robot_read(api, "here", login.key, token=login.token, folder=None))["StringValue"] == "x"
    with db.connect() as conn:  # the robot's user holds the Robot role in its folder only
        folders = conn.execute(
            select(user_roles.c.folder_id).where(user_roles.c.user_id == login.robot["UserId"])
        )
        assert [r.folder_id for r in folders] == [api.tenant.shared_folder_id]


def test_machine_secret_is_hashed_and_shown_once(api: Api, db: Engine) -> None:
    login = robot_with_token(api, "hashed")
    with db.connect() as conn:
        stored = conn.execute(
            select(machines.c.client_secret_hash).where(machines.c.id == login.machine["Id"])
        )
        digest = stored.scalar_one()
    assert digest.startswith("$argon2") and login.machine["ClientSecret"] not in digest
    again = api.ok(api.get(f"{ODATA}/Machines({login.machine['Id']})"))
    assert again["ClientSecret"] is None
    wrong = api.client.post(
        "/identity_/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": login.machine["ClientId"],
            "client_secret": "wrong",
        },
    )
    assert wrong.status_code == 401


def _all_sealed(db: Engine) -> list[str]:
    tokens: list[str] = []
    with db.connect() as conn:
        for sealed in SEALED_COLUMNS:
            column = sealed.table.c[sealed.column]
            tokens += [t for t in conn.execute(select(column).where(column.is_not(None))).scalars()]
    return tokens


def test_rotate_key_reencrypts_everything_and_old_key_goes(
    api: Api, db: Engine, database_url: str, tmp_path: Path
) -> None:
    _seed_secrets(api)
    login = robot_with_token(api, "after-rotation")
    before = {sealed_key_id(t) for t in _all_sealed(db)}
    assert len(before) == 1
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key=SIGNING_KEY)
    lines = asyncio.run(rotate_key(settings, retire_old=True))
    new_id = Keyring(settings).primary
    assert new_id not in before and any("Re-encrypted 3 secrets" in line for line in lines)
    assert {sealed_key_id(t) for t in _all_sealed(db)} == {new_id}
    assert stat.S_IMODE(os.stat(key_file(settings)).st_mode) == 0o600
    # the running server picks the new key up without a restart, and seals new values with it
    assert api.ok(robot_read(api, "cred", login.key, token=login.token))["CredentialPassword"] == PASSWORDS[0]
    create_asset(
        api,
        {
            "Name": "new",
            "ValueType": "Credential",
            "CredentialUsername": "n",
            "CredentialPassword": "np",
            "AllowDirectApiAccess": True,
        },
    )
    assert api.ok(robot_read(api, "new", None))["CredentialPassword"] == "np"
    assert api.ok(robot_read(api, "secret", login.key, token=login.token))["SecretValue"] == PASSWORDS[2]
    # the old key is not needed any more: the key file alone opens everything
    file_only = Keyring(Settings(data_dir=tmp_path, database_url=database_url, secret_key=None))
    file_only_ids = file_only.key_ids
    assert file_only_ids[0] == new_id and all(
        kid == new_id for kid in {sealed_key_id(t) for t in _all_sealed(db)}
    )
    assert len(read_key_file(key_file(settings))) == 1


def test_keyring_from_generated_file_rotation_and_row_binding(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="sqlite://", secret_key=None, encryption_key=None)
    generated = ensure_key(settings)
    assert generated is not None and stat.S_IMODE(os.stat(generated).st_mode) == 0o600
    assert ensure_key(settings) is None
    keyring = Keyring(settings)
    old = keyring.seal("pw", "asset:1:a")
    assert "pw" not in old and keyring.open(old, "asset:1:a") == "pw"
    with pytest.raises(KeyringError):
        keyring.open(old, "asset:1:b")  # bound to its row
    from podium.domain.crypto import new_key, write_key_file

    write_key_file(key_file(settings), [new_key(), *read_key_file(key_file(settings))])
    rotated = Keyring(settings)
    assert rotated.open(old, "asset:1:a") == "pw"  # old ciphertexts still open
    fresh = rotated.seal("pw2", "asset:1:a")
    assert sealed_key_id(fresh) == rotated.primary != sealed_key_id(old)
    write_key_file(key_file(settings), read_key_file(key_file(settings))[:1])
    with pytest.raises(KeyringError):
        Keyring(settings).open(old, "asset:1:a")  # retired key: gone
    env_settings = Settings(
        data_dir=tmp_path / "env",
        database_url="sqlite://",
        secret_key=None,
        encryption_key="a-passphrase-that-is-long-enough-for-hkdf",
    )
    assert ensure_key(env_settings) is None  # configured: no file
    assert Keyring(env_settings).open(Keyring(env_settings).seal("x", "y"), "y") == "x"


def test_credential_stores(api: Api) -> None:
    stores = api.ok(api.get(f"{ODATA}/CredentialStores?$expand=DefaultCredentialStores"))["value"]
    assert [(s["Name"], s["Type"]) for s in stores] == [("Orchestrator Database", "Database")]
    store_id = stores[0]["Id"]
    types = api.ok(api.get(f"{ODATA}/CredentialStores/{NS}.GetAvailableCredentialStoreTypes"))["value"]
    assert types == ["Database"]
    default = f"{ODATA}/CredentialStores/{NS}.GetDefaultStoreForResourceType(resourceType='AssetCredential')"
    assert api.ok(api.get(default))["value"] == store_id
    assert_error(api.post(f"{ODATA}/CredentialStores", {"Name": "Vault", "Type": "CyberArk"}), 400)
    assert_error(api.post(f"{ODATA}/CredentialStores", {"Name": "Second", "Type": "Database"}), 409)
    assert_error(api.delete(f"{ODATA}/CredentialStores({store_id})"), 400)
    created = create_asset(
        api, {"Name": "c", "ValueType": "Credential", "CredentialUsername": "u", "CredentialPassword": "p"}
    )
    assert created["CredentialStoreId"] == store_id
    resources = api.ok(
        api.get(
            f"{ODATA}/CredentialStores/{NS}.GetResourcesForCredentialStoreTypes(key={store_id},resourceType='AssetCredential')"
        )
    )["value"]
    assert resources == [{"Name": "c", "Type": "AssetCredential", "Id": created["Id"]}]
    set_default = f"{ODATA}/CredentialStores({store_id})/{NS}.SetDefaultStoreForResourceType"
    assert api.post(set_default, {"resourceType": "RobotCredential"}).status_code == 204
    assert_error(api.post(set_default, {"resourceType": "Nope"}), 400)
