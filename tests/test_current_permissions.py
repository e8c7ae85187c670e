"""GetCurrentPermissions: what the console asks to show only the buttons a user may press."""

from __future__ import annotations

from tests.factories import user_with
from tests.support import Api

PATH = "/odata/Users/UiPath.Server.Configuration.OData.GetCurrentPermissions"


def test_tenant_and_folder_permissions(api: Api) -> None:
    team = api.ok(api.post("/odata/Folders", {"DisplayName": "Team"}), 201)
    other = api.ok(api.post("/odata/Folders", {"DisplayName": "Other"}), 201)
    sub = api.ok(api.post("/odata/Folders", {"DisplayName": "Sub", "ParentId": team["Id"]}), 201)
    token = user_with(api, "member", ["Jobs.View", "Jobs.Create"], folder=team["Id"])

    admin = api.ok(api.get(PATH))
    assert {"Jobs.View", "Users.Edit", "Roles.Delete"} <= set(admin["Permissions"])

    def held(folder: int | None) -> list[str]:
        answer = api.ok(api.get(PATH, folder=folder, token=token))
        assert isinstance(answer["UserId"], int)
        return list(answer["Permissions"])

    assert held(None) == []  # nothing tenant-wide
    assert held(team["Id"]) == ["Jobs.Create", "Jobs.View"]
    assert held(sub["Id"]) == ["Jobs.Create", "Jobs.View"]  # a folder role holds in subfolders
    assert held(other["Id"]) == []
