"""The Users area's administration operations: the last administrator stays (delete, SetActive,
ToggleRole, AssignRoles: 400, nothing changed), ChangeCulture and ChangeUserCulture,
ToggleOrganizationUnit and Validate."""

from __future__ import annotations

import pytest

from tests.factories import role_id, user, user_with
from tests.support import Api, assert_error

NS = "UiPath.Server.Configuration.OData"
pytestmark = pytest.mark.usefixtures("cheap_password_hashes")


def admin_id(api: Api) -> int:
    found: int = api.ok(api.get(f"/odata/Users/{NS}.GetCurrentUser"))["Id"]
    return found


def test_the_last_administrator_stays(api: Api) -> None:
    me = admin_id(api)
    admin_role = role_id(api, "Administrator")
    assert_error(api.delete(f"/odata/Users({me})"), 400)
    assert_error(api.post(f"/odata/Users({me})/{NS}.SetActive", {"active": False}), 400)
    assert_error(
        api.post(f"/odata/Users({me})/{NS}.ToggleRole", {"role": "Administrator", "toggle": False}), 400
    )
    assert_error(api.post(f"/odata/Users({me})/{NS}.AssignRoles", {"roleIds": []}), 400)
    assert api.ok(api.get(f"/odata/Users/{NS}.GetCurrentPermissions"))["Permissions"]  # still an admin
    other = user(api, "second")
    api.ok(api.post(f"/odata/Users({other})/{NS}.AssignRoles", {"roleIds": [admin_role]}), 204)
    api.ok(api.post(f"/odata/Users({other})/{NS}.SetActive", {"active": False}), 204)
    assert_error(api.delete(f"/odata/Users({me})"), 400)  # the other admin is inactive
    api.ok(api.post(f"/odata/Users({other})/{NS}.SetActive", {"active": True}), 204)
    api.ok(api.delete(f"/odata/Users({other})"), 204)  # not the last one
    assert_error(api.delete(f"/odata/Users({me})"), 400)


def test_culture_organization_units_and_validate(api: Api) -> None:
    me = admin_id(api)
    api.ok(api.post(f"/odata/Users/{NS}.ChangeCulture", {"culture": "de"}), 204)
    assert_error(api.post(f"/odata/Users/{NS}.ChangeCulture", {"culture": "xx-nope"}), 400)
    other = user(api, "person")
    api.ok(api.post(f"/odata/Users({other})/{NS}.ChangeUserCulture", {"culture": "fr"}), 204)
    assert_error(api.post(f"/odata/Users(999999)/{NS}.ChangeUserCulture", {"culture": "fr"}), 400)
    plain = user_with(api, "plain", ["Jobs.View"])
    assert_error(
        api.post(f"/odata/Users({other})/{NS}.ChangeUserCulture", {"culture": "fr"}, token=plain), 403
    )

    shared = api.tenant.shared_folder_id
    body = {"organizationUnitId": shared, "toggle": True}
    api.ok(api.post(f"/odata/Users({other})/{NS}.ToggleOrganizationUnit", body), 204)
    url = f"/odata/Folders/{NS}.GetMachinesForFolder(key={shared})"
    assert api.ok(api.get(url))["value"] == []  # (the folder exists and is readable)
    assert_error(api.post(f"/odata/Users({other})/{NS}.ToggleOrganizationUnit", {**body, "toggle": "x"}), 400)
    missing = {"organizationUnitId": 999999, "toggle": True}
    assert_error(api.post(f"/odata/Users({other})/{NS}.ToggleOrganizationUnit", missing), 400)
    api.ok(api.post(f"/odata/Users({other})/{NS}.ToggleOrganizationUnit", {**body, "toggle": False}), 204)

    answer = api.ok(api.get(f"/odata/Users/{NS}.Validate(userIds=[{me},{other}])"))
    assert answer["value"] == {str(me): False, str(other): False}
    assert_error(api.get(f"/odata/Users/{NS}.Validate(userIds=[{me},999999])"), 400)
    assert_error(api.get(f"/odata/Users/{NS}.Validate(userIds=[{me}])", token=plain), 403)
