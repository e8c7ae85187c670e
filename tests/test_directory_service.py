"""The directory Podium has (issue 15): /api/DirectoryService over the tenant's local users — one local
domain, a prefix search of users and groups (DirectoryObjectDto), no directory-group permissions for a
local user; /api/Translations/GetTranslations (Podium's console is not localized: {} per language)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.factories import seed_machine, user, user_with
from tests.support import Api, assert_error

pytestmark = pytest.mark.usefixtures("cheap_password_hashes")
BASE = "/api/DirectoryService"


def search(api: Api, query: str, token: str | None = None) -> list[dict[str, str]]:
    answer: list[dict[str, str]] = api.ok(api.get(f"{BASE}/SearchForUsersAndGroups?{query}", token=token))
    return answer


def test_local_domain_and_prefix_search(api: Api, db: Engine) -> None:
    assert api.ok(api.get(f"{BASE}/GetDomains")) == [{"name": "local", "isDefault": True}]
    user(api, "anna", Name="Anna", Surname="Berg", EmailAddress="anna@example.com")
    user(api, "andrew")
    user(api, "bob", Surname="Anderson")
    user(api, "an_ops", Type="DirectoryGroup")
    user(api, "an%x")
    seed_machine(api, db, robots=1, name="AnMachine")  # its robot's user is not a directory object
    found = search(api, "prefix=an")
    assert [f["identityName"] for f in found] == ["an%x", "an_ops", "andrew", "anna", "bob"]
    anna = next(f for f in found if f["identityName"] == "anna")
    assert anna["type"] == "User" and anna["displayName"] == "Anna Berg" and anna["source"] == "local"
    assert anna["domain"] == "local" and len(anna["identifier"]) == 36
    assert [f["identityName"] for f in search(api, "prefix=AN_&searchContext=Groups")] == ["an_ops"]
    assert [f["identityName"] for f in search(api, "prefix=an%25")] == ["an%x"]  # % is literal
    assert [f["identityName"] for f in search(api, "prefix=anna@&searchContext=1&domain=LOCAL")] == ["anna"]
    assert search(api, "prefix=zz") == []
    assert_error(api.get(f"{BASE}/SearchForUsersAndGroups?prefix=an&domain=corp"), 400)
    assert_error(api.get(f"{BASE}/SearchForUsersAndGroups?prefix=an&searchContext=Robots"), 400)
    assert_error(api.get(f"{BASE}/SearchForUsersAndGroups"), 400)

    assert api.ok(api.get(f"{BASE}/GetDirectoryPermissions?username=anna&domain=local")) == []
    assert_error(api.get(f"{BASE}/GetDirectoryPermissions?username=nobody"), 404)
    assert_error(api.get(f"{BASE}/GetDirectoryPermissions?username=anna&domain=corp"), 400)


def test_permissions_and_translations(api: Api) -> None:
    nobody = user_with(api, "nobody", ["Jobs.View"])
    viewer = user_with(api, "viewer", ["Users.View"])
    assert [f["identityName"] for f in search(api, "prefix=nob", viewer)] == ["nobody"]
    for path in ("GetDomains", "SearchForUsersAndGroups?prefix=a", "GetDirectoryPermissions?username=admin"):
        assert_error(api.get(f"{BASE}/{path}", token=nobody), 403)
        assert_error(api.client.get(f"{BASE}/{path}"), 401)
    translations = "/api/Translations/GetTranslations"
    assert api.ok(api.get(f"{translations}?lang=fr", token=nobody)) == {}
    assert api.ok(api.get(translations)) == {}
    assert_error(api.get(f"{translations}?lang=xx"), 400)
    assert_error(api.client.get(translations), 401)
