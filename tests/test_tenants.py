"""The host level and /odata/Tenants: the host administrator signs in with tenancy ``Host`` and manages
tenants only; a tenant made through the API has its admin, Shared folder and roles and sees nothing of
the others; a deactivated tenant refuses its tokens and sign-ins; a deleted one leaves no row behind."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from podium.db.engine import Database
from podium.domain.host import ensure_host_admin
from podium.domain.tenants import count_owned
from tests.factories import upload
from tests.package_builders import nupkg
from tests.support import ADMIN_PASSWORD, Api, assert_error

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
NS = "UiPath.Server.Configuration.OData"
HOST_PASSWORD = "host-password-1"
NEW_ADMIN = "Second-admin-1"


def _run(url: str, work: Any) -> Any:
    async def go() -> Any:
        db = Database(url)
        try:
            async with db.write() as conn:
                return await work(conn)
        finally:
            await db.dispose()

    return asyncio.run(go())


def _sign_in(api: Api, tenant: str, user: str, password: str) -> Any:
    body = {"tenancyName": tenant, "usernameOrEmailAddress": user, "password": password}
    return api.client.post("/api/Account/Authenticate", json=body)


def _host(api: Api, url: str) -> str:
    _run(url, lambda conn: ensure_host_admin(conn, HOST_PASSWORD))
    response = _sign_in(api, "Host", "admin", HOST_PASSWORD)
    token: str = api.ok(response)["result"]
    return token


def _create(api: Api, host: str, name: str, **extra: Any) -> Any:
    body = {"Name": name, "AdminPassword": NEW_ADMIN, "AdminEmailAddress": "boss@example.com", **extra}
    return api.post("/odata/Tenants", body, token=host)


def test_host_admin_manages_tenants_only(api: Api, database_url: str) -> None:
    host = _host(api, database_url)
    assert _run(database_url, lambda conn: ensure_host_admin(conn, None)) is None  # made once
    assert_error(_sign_in(api, "Host", "admin", "wrong"), 400)
    listed = api.ok(api.get("/odata/Tenants?skipLastLoginTime=true", token=host))["value"]
    assert [t["Name"] for t in listed] == ["Default"]
    assert listed[0]["IsActive"] is True and listed[0]["AdminPassword"] is None
    assert_error(api.get("/odata/Folders", token=host), 403)  # no tenant data
    assert_error(api.get("/odata/Users", token=host), 403)
    assert_error(api.get("/odata/Settings", token=host), 403)
    assert_error(api.get("/odata/Tenants"), 403)  # a tenant's administrator is not the host
    assert_error(api.post(f"/odata/Tenants/{NS}.SetActive", {"active": False, "tenantIds": [1]}), 403)


def test_created_tenant_is_complete_and_isolated(api: Api, database_url: str) -> None:
    host = _host(api, database_url)
    mine = api.ok(api.post("/odata/Folders", {"DisplayName": "DefaultOnly"}), 201)
    created = api.ok(_create(api, host, "Second", DisplayName="Second tenant", AdminName="Boss"), 201)
    assert created["Name"] == "Second" and created["DisplayName"] == "Second tenant"
    assert created["IsActive"] is True and created["AdminUserKey"]
    token = api.ok(_sign_in(api, "Second", "admin", NEW_ADMIN))["result"]
    folders = api.ok(api.get("/odata/Folders", token=token))["value"]
    assert [f["DisplayName"] for f in folders] == ["Shared"]
    roles = {r["Name"] for r in api.ok(api.get("/odata/Roles", token=token))["value"]}
    assert {"Administrator", "Robot", "Automation User", "Folder Administrator"} <= roles
    me = api.ok(api.get("/odata/Users", token=token))["value"]
    assert [(u["UserName"], u["EmailAddress"], u["Key"]) for u in me] == [
        ("admin", "boss@example.com", created["AdminUserKey"])
    ]
    assert_error(api.get(f"/odata/Folders({mine['Id']})", token=token), 404)  # and vice versa:
    theirs = api.ok(api.post("/odata/Folders", {"DisplayName": "SecondOnly"}, token=token), 201)
    assert_error(api.get(f"/odata/Folders({theirs['Id']})"), 404)
    assert "SecondOnly" not in {f["DisplayName"] for f in api.ok(api.get("/odata/Folders"))["value"]}
    patched = api.client.patch(
        f"/odata/Tenants({created['Id']})",
        json={"DisplayName": "Renamed"},
        headers={"Authorization": f"Bearer {host}"},
    )
    assert api.ok(patched)["DisplayName"] == "Renamed"


@pytest.mark.parametrize(
    "body",
    [
        {"Name": "Default"},
        {"Name": "default"},
        {"Name": "Host"},
        {"Name": "1abc"},
        {"Name": "has space"},
        {"Name": "x" * 65},
        {"Name": "Fine", "AdminPassword": None},
        {"Name": "Fine", "AdminPassword": "short"},
        {"Name": "Fine", "AdminEmailAddress": "not-an-address"},
        {"Name": "Fine", "Unknown": 1},
    ],
)
def test_bad_tenants_are_refused_and_nothing_is_written(api: Api, database_url: str, body: Any) -> None:
    host = _host(api, database_url)
    full = {"AdminPassword": NEW_ADMIN, **body}
    assert_error(api.post("/odata/Tenants", full, token=host), 400)
    assert [t["Name"] for t in api.ok(api.get("/odata/Tenants", token=host))["value"]] == ["Default"]


def test_deactivated_tenant_refuses_tokens_and_sign_ins(api: Api, database_url: str) -> None:
    host = _host(api, database_url)
    second = api.ok(_create(api, host, "Second"), 201)
    token = api.ok(_sign_in(api, "Second", "admin", NEW_ADMIN))["result"]
    api.ok(api.get("/odata/Folders", token=token))
    set_active = f"/odata/Tenants/{NS}.SetActive"
    api.ok(api.post(set_active, {"active": False, "tenantIds": [second["Id"]]}, token=host), 204)
    assert_error(api.get("/odata/Folders", token=token), 401)  # the token it had, at once
    assert_error(_sign_in(api, "Second", "admin", NEW_ADMIN), 400)
    form = {"grant_type": "password", "username": "admin", "password": NEW_ADMIN, "tenant": "Second"}
    assert api.client.post("/identity_/connect/token", data=form).status_code == 400
    # the last active tenant stays active; unknown ids change nothing
    assert_error(
        api.post(set_active, {"active": False, "tenantIds": [api.tenant.tenant_id]}, token=host), 400
    )
    assert_error(api.post(set_active, {"active": True, "tenantIds": [second["Id"], 999999]}, token=host), 400)
    api.ok(api.get("/odata/Folders"))  # Default still works
    patch = {"IsActive": False}
    headers = {"Authorization": f"Bearer {host}"}
    assert_error(
        api.client.patch(f"/odata/Tenants({api.tenant.tenant_id})", json=patch, headers=headers), 400
    )
    api.ok(api.post(set_active, {"active": True, "tenantIds": [second["Id"]]}, token=host), 204)
    api.ok(_sign_in(api, "Second", "admin", NEW_ADMIN))


def test_deleting_a_tenant_removes_its_data(api: Api, database_url: str, tmp_path: Path) -> None:
    host = _host(api, database_url)
    second = api.ok(_create(api, host, "Second"), 201)
    token = api.ok(_sign_in(api, "Second", "admin", NEW_ADMIN))["result"]
    folder = api.ok(api.post("/odata/Folders", {"DisplayName": "Work"}, token=token), 201)
    child = {"DisplayName": "Child", "ParentId": folder["Id"]}
    api.ok(api.post("/odata/Folders", child, token=token), 201)
    api.ok(api.post("/odata/Users", {"UserName": "worker", "Password": ADMIN_PASSWORD}, token=token), 201)
    asset = {"Name": "a", "ValueScope": "Global", "ValueType": "Text", "StringValue": "v"}
    api.ok(api.post("/odata/Assets", asset, folder=folder["Id"], token=token), 201)
    api.ok(upload(api, nupkg("Theirs"), token=token))
    api.ok(upload(api, nupkg("Ours")))
    theirs, ours = (
        tmp_path / "packages" / str(second["Id"]),
        tmp_path / "packages" / str(api.tenant.tenant_id),
    )
    assert any(theirs.rglob("*.nupkg")) and any(ours.rglob("*.nupkg"))
    before_default = _run(database_url, lambda conn: count_owned(conn, api.tenant.tenant_id))
    assert any(_run(database_url, lambda conn: count_owned(conn, second["Id"])).values())
    api.ok(api.delete(f"/odata/Tenants({second['Id']})", token=host), 204)
    assert set(_run(database_url, lambda conn: count_owned(conn, second["Id"])).values()) == {0}
    assert _run(database_url, lambda conn: count_owned(conn, api.tenant.tenant_id)) == before_default
    assert not theirs.exists() and any(ours.rglob("*.nupkg"))  # its files went, the other tenant's stay
    assert_error(api.get("/odata/Folders", token=token), 401)
    assert_error(api.get(f"/odata/Tenants({second['Id']})", token=host), 404)
    assert_error(api.delete(f"/odata/Tenants({api.tenant.tenant_id})", token=host), 400)  # the last one
    api.ok(api.get("/odata/Folders"))


def test_admin_tenant_command_line(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from podium.cli import main

    data = ["--data-dir", str(tmp_path)]
    main(["db", "upgrade", *data])
    main(["admin", "tenant", "create", "Acme", "--admin-password", NEW_ADMIN, *data])
    main(["admin", "tenant", "create", "Beta", *data])
    out = capsys.readouterr().out
    assert "Created tenant 'Acme'" in out and "Generated password for 'admin' (shown once)" in out
    with pytest.raises(SystemExit, match="already exists"):
        main(["admin", "tenant", "create", "acme", *data])
    main(["admin", "tenant", "disable", "Acme", *data])
    with pytest.raises(SystemExit, match="last active"):
        main(["admin", "tenant", "disable", "Beta", *data])
    capsys.readouterr()
    main(["admin", "tenant", "list", *data])
    rows = [line.split("\t")[:3] for line in capsys.readouterr().out.splitlines()]
    assert rows == [["1", "Acme", "disabled"], ["2", "Beta", "active"]]


def test_first_start_makes_the_host_admin_once(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.cli import prepare
    from podium.config import Settings

    monkeypatch.setenv("PODIUM_HOST_ADMIN_PASSWORD", HOST_PASSWORD)
    settings = Settings(data_dir=tmp_path, secret_key="k" * 40)
    lines = prepare(settings, "podium serve")
    assert not any("host user" in line for line in lines)  # the password given is not printed
    monkeypatch.delenv("PODIUM_HOST_ADMIN_PASSWORD")
    assert prepare(settings, "podium serve") == []
    from podium.domain.host import check_host_user

    async def signs_in() -> bool:
        db = Database(settings.resolved_database_url)
        try:
            return await check_host_user(db, "admin", HOST_PASSWORD) is not None
        finally:
            await db.dispose()

    assert asyncio.run(signs_in())


def test_every_tenant_table_is_deleted_with_its_tenant() -> None:
    """A table added later is covered by the delete (through tenant_id or a foreign key to it)."""
    from podium.db.tables import metadata
    from podium.domain.tenants import owned_tables

    covered = {table.name for table in owned_tables()}
    left = {table.name for table in metadata.sorted_tables} - covered
    assert left == {"tenants", "host_users", "leases"}  # leases: the services', of no tenant
