"""External applications get tokens with the OAuth2 client-credentials grant and act with their roles."""

from __future__ import annotations

import pytest

from tests.support import Api, assert_error


def _roles(api: Api) -> dict[str, int]:
    return {r["Name"]: r["Id"] for r in api.ok(api.get("/odata/Roles"))["value"]}


def test_client_credentials_token_acts_with_the_apps_roles(api: Api) -> None:
    created = api.ok(
        api.post(
            "/api/ExternalApplications", {"Name": "reporting", "RoleIds": [_roles(api)["Automation User"]]}
        ),
        201,
    )
    form = {
        "grant_type": "client_credentials",
        "client_id": created["ClientId"],
        "client_secret": created["ClientSecret"],
    }
    token = api.client.post("/podium/identity_/connect/token", data=form)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    app_token = body["access_token"]
    # Automation User may read jobs but not users.
    assert api.get("/odata/Jobs", token=app_token).status_code == 200
    assert_error(api.get("/odata/Users", token=app_token), 403)


def test_wrong_client_secret_is_refused(api: Api) -> None:
    created = api.ok(api.post("/api/ExternalApplications", {"Name": "x", "RoleIds": []}), 201)
    form = {"grant_type": "client_credentials", "client_id": created["ClientId"], "client_secret": "wrong"}
    response = api.client.post("/identity_/connect/token", data=form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_unknown_role_writes_nothing(api: Api) -> None:
    assert_error(api.post("/api/ExternalApplications", {"Name": "x", "RoleIds": [987654]}), 400)
    users = api.ok(api.get("/odata/Users"))["value"]
    assert [u["UserName"] for u in users] == ["admin"]


@pytest.mark.parametrize("role_id", [0, -1, 2**63, 32000045761080621793280])
def test_role_ids_out_of_range_are_refused(api: Api, role_id: int) -> None:
    """An id past Int64 was a 500 (the database driver's overflow; found by tests/test_fuzz_api.py)."""
    assert_error(api.post("/api/ExternalApplications", {"Name": "x", "RoleIds": [role_id]}), 400)
    assert [u["UserName"] for u in api.ok(api.get("/odata/Users"))["value"]] == ["admin"]


def test_malformed_token_form_is_an_invalid_request(api: Api) -> None:
    """A multipart token request without its boundary: OAuth's invalid_request (it was a 500; found by
    tests/test_fuzz_api.py)."""
    headers = {"Content-Type": "multipart/form-data"}
    response = api.client.post("/identity_/connect/token", content=b"x", headers=headers)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
