"""Storage buckets through the API (in-process, both database backends): CRUD, folder sharing, file
operations with Podium's own signed URIs, signed-URI security, path validation, read-only buckets."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from podium.db.schema_buckets import bucket_folders, buckets
from podium.storage.signing import BlobGrant, derive_key, sign
from tests.support import SIGNING_KEY, Api, assert_error

B = "/odata/Buckets"
NS = "UiPath.Server.Configuration.OData"


def create(api: Api, name: str, folder: str = "Shared", **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.ok(api.post(B, {"Name": name, **extra}, folder=folder), 201)
    return result


def put_file(api: Api, bucket: dict[str, Any], path: str, content: bytes, folder: str = "Shared") -> None:
    access = api.ok(api.get(f"{B}({bucket['Id']})/{NS}.GetWriteUri", folder=folder, params={"path": path}))
    assert access["Verb"] == "PUT" and access["RequiresAuth"] is False
    assert access["Headers"] == {"Keys": [], "Values": []}
    response = api.client.put(
        access["Uri"], content=content, headers={"Content-Type": "application/octet-stream"}
    )
    assert response.status_code == 201, response.text


def read_uri(api: Api, bucket: dict[str, Any], path: str) -> str:
    access = api.ok(api.get(f"{B}({bucket['Id']})/{NS}.GetReadUri", folder="Shared", params={"path": path}))
    assert access["Verb"] == "GET" and access["RequiresAuth"] is False
    uri: str = access["Uri"]
    return uri


def names(api: Api, folder: str) -> list[str]:
    return [b["Name"] for b in api.ok(api.get(B, folder=folder))["value"]]


def test_bucket_crud_and_dto_shape(api: Api, db: Engine, tmp_path: Path) -> None:
    identifier = str(uuid.uuid4())
    bucket = create(api, "invoices", Identifier=identifier, Description="scans")
    assert bucket["Identifier"] == identifier and bucket["Description"] == "scans"
    assert bucket["StorageProvider"] == "Orchestrator" and bucket["Options"] == "None"
    assert bucket["CredentialStoreId"] is None and bucket["Password"] is None
    assert bucket["FoldersCount"] == 1 and bucket["Tags"] == [] and isinstance(bucket["Id"], int)
    generated = create(api, "other")
    assert str(uuid.UUID(generated["Identifier"])) == generated["Identifier"]

    listed = api.ok(api.get(B, folder="Shared", params={"$filter": "Name eq 'invoices'", "$top": 1}))["value"]
    assert [b["Id"] for b in listed] == [bucket["Id"]]
    by_key = api.ok(api.get(f"{B}/{NS}.GetByKey(identifier='{identifier}')", folder="Shared"))
    assert by_key["Id"] == bucket["Id"]
    assert_error(api.get(f"{B}/{NS}.GetByKey(identifier='{uuid.uuid4()}')", folder="Shared"), 404)

    updated = api.ok(
        api.put(
            f"{B}({bucket['Id']})", {**bucket, "Description": "paper", "Options": "ReadOnly"}, folder="Shared"
        )
    )
    assert updated["Description"] == "paper" and updated["Options"] == "ReadOnly"

    put_file(api, generated, "a/b.txt", b"x")
    files_dir = tmp_path / "buckets"
    assert any(files_dir.rglob("b.txt"))
    api.ok(api.delete(f"{B}({generated['Id']})", folder="Shared"), 204)
    assert not any(files_dir.rglob("b.txt"))  # Podium's own storage goes with its bucket
    assert names(api, "Shared") == ["invoices"]
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(bucket_folders)).scalar_one() == 1


def test_bad_bucket_bodies_are_4xx_and_write_nothing(api: Api, db: Engine) -> None:
    bucket = create(api, "unique")
    cases = [
        ({"Name": "unique"}, 409),  # duplicate name in the folder
        ({"Name": "x", "Identifier": bucket["Identifier"]}, 409),
        ({"Name": "x", "Identifier": "not-a-guid"}, 400),
        ({"Name": "x", "CredentialStoreId": 987654}, 400),
        ({"Name": "x", "CredentialStoreId": "abc"}, 400),
        ({"Name": "x", "StorageProvider": "Azure"}, 400),
        ({"Name": "x", "Options": "Sometimes"}, 400),
        ({"Name": "x", "StorageProvider": "Amazon"}, 400),  # no container
        (
            {
                "Name": "x",
                "StorageProvider": "Minio",
                "StorageContainer": "c",
                "StorageParameters": "Endpoint=ftp://h",
            },
            400,
        ),
        ({"Name": "x", "StorageProvider": "Amazon", "StorageContainer": "c", "Password": "secret-only"}, 400),
        ({"Name": "x", "StorageParameters": "broken"}, 201),  # parameters only matter for S3 providers
        ({"Description": "no name"}, 400),
        ({"Name": "x" * 129}, 400),
    ]
    for body, status in cases:
        response = api.post(B, body, folder="Shared")
        if status == 201:
            api.ok(response, 201)
            continue
        assert_error(response, status)
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(buckets)).scalar_one() == 2
    assert_error(api.put(f"{B}({bucket['Id']})", {"Identifier": str(uuid.uuid4())}, folder="Shared"), 400)
    assert_error(api.post(B, {"Name": "no-folder"}), 400)


def test_sharing_buckets_between_folders(api: Api) -> None:
    team = api.ok(api.post("/odata/Folders", {"DisplayName": "Team"}, folder="Shared"), 201)
    shared = api.ok(api.get("/odata/Folders", params={"$filter": "FullyQualifiedName eq 'Shared'"}))["value"][
        0
    ]
    bucket = create(api, "common")
    assert names(api, "Team") == []
    share = f"{B}/{NS}.ShareToFolders"
    api.ok(
        api.post(
            share, {"BucketIds": [bucket["Id"]], "ToAddFolderIds": [team["Id"]], "ToRemoveFolderIds": []}
        ),
        204,
    )
    assert names(api, "Team") == ["common"] and names(api, "Shared") == ["common"]
    assert api.ok(api.get(f"{B}({bucket['Id']})", folder="Team"))["FoldersCount"] == 2
    folders = api.ok(api.get(f"{B}/{NS}.GetFoldersForBucket(id={bucket['Id']})"))
    assert folders["TotalFoldersCount"] == 2
    assert sorted(f["FullyQualifiedName"] for f in folders["AccessibleFolders"]) == ["Shared", "Team"]

    across = f"{B}/{NS}.GetBucketsAcrossFolders"
    assert [b["Name"] for b in api.ok(api.get(across, params={"excludeFolderId": team["Id"]}))["value"]] == []
    only_shared = create(api, "only-shared")
    got = api.ok(api.get(across, folder="Team", params={"excludeFolderId": team["Id"]}))["value"]
    assert [b["Name"] for b in got] == ["only-shared"]

    # a file written through one folder is the same file in the other
    put_file(api, bucket, "doc.txt", b"same", folder="Team")
    assert (
        api.ok(api.get(f"{B}({bucket['Id']})/{NS}.GetFile", folder="Shared", params={"path": "doc.txt"}))[
            "Size"
        ]
        == 4
    )

    # a folder that already has a bucket of that name cannot take another
    create(api, "only-shared", folder="Team")
    clash = {"BucketIds": [only_shared["Id"]], "ToAddFolderIds": [team["Id"]]}
    assert_error(api.post(share, clash), 409)

    api.ok(api.post(share, {"BucketIds": [bucket["Id"]], "ToRemoveFolderIds": [shared["Id"]]}), 204)
    assert names(api, "Shared") == ["only-shared"] and sorted(names(api, "Team")) == ["common", "only-shared"]
    assert_error(api.post(share, {"BucketIds": [bucket["Id"]], "ToRemoveFolderIds": [team["Id"]]}), 400)
    assert_error(api.post(share, {"BucketIds": [bucket["Id"]], "ToAddFolderIds": [999999]}), 400)  # no folder
    assert_error(api.post(share, {"BucketIds": ["x"]}), 400)
    assert_error(api.post(share, {"BucketIds": [999999], "ToAddFolderIds": [team["Id"]]}), 404)
    assert sorted(names(api, "Team")) == ["common", "only-shared"]


def test_file_operations_with_signed_uris(api: Api) -> None:
    bucket = create(api, "files")
    contents = {"top.txt": b"top", "docs/a.pdf": b"%PDF-a", "docs/b.txt": b"bee", "docs/deep/c.txt": b"sea"}
    for path, content in contents.items():
        put_file(api, bucket, path, content)
    base = f"{B}({bucket['Id']})/{NS}"

    def files(**params: Any) -> list[str]:
        return [
            f["FullPath"]
            for f in api.ok(api.get(f"{base}.GetFiles", folder="Shared", params=params))["value"]
        ]

    assert files(directory="/") == ["top.txt"]
    assert files(directory="/docs") == ["docs/a.pdf", "docs/b.txt"]
    assert files(directory="/", recursive="true") == sorted(contents)
    assert files(directory="/", recursive="true", fileNameGlob="*.txt") == [
        "docs/b.txt",
        "docs/deep/c.txt",
        "top.txt",
    ]
    assert files(directory="/", recursive="true", **{"$top": 2, "$skip": 1}) == [
        "docs/b.txt",
        "docs/deep/c.txt",
    ]
    # the other query options, as on a stored list: the listing is filtered, ordered, counted, selected
    everything = {"directory": "/", "recursive": "true"}
    assert files(**everything, **{"$filter": "Size gt 3 or endswith(FullPath,'.pdf')"}) == ["docs/a.pdf"]
    in_docs = {"$filter": "startswith(FullPath,'docs/')", "$orderby": "FullPath desc"}
    assert files(**everything, **in_docs) == [
        "docs/deep/c.txt",
        "docs/b.txt",
        "docs/a.pdf",
    ]
    chosen = api.ok(
        api.get(
            f"{base}.GetFiles",
            folder="Shared",
            params={**everything, "$filter": "Size eq 3", "$top": 1, "$select": "FullPath,Size"},
        )
    )
    assert chosen["@odata.count"] == 3 and chosen["value"] == [{"FullPath": "docs/b.txt", "Size": 3}]
    assert_error(api.get(f"{base}.GetFiles", folder="Shared", params={"$filter": "Nope eq 1"}), 400)
    assert_error(api.get(f"{base}.GetFiles", folder="Shared", params={"$filter": "Size eq 'x'"}), 400)
    directories = api.ok(api.get(f"{base}.GetDirectories", folder="Shared", params={"directory": "docs"}))[
        "value"
    ]
    assert directories == [
        {"FullPath": "docs/deep", "ContentType": None, "Size": 0, "IsDirectory": True, "Id": "docs/deep"}
    ]
    meta = api.ok(api.get(f"{base}.GetFile", folder="Shared", params={"path": "docs/a.pdf"}))
    assert meta["Size"] == 6 and meta["ContentType"] == "application/pdf" and meta["IsDirectory"] is False

    downloaded = api.client.get(read_uri(api, bucket, "/docs/b.txt"))
    assert downloaded.status_code == 200 and downloaded.content == b"bee"

    listed = api.client.get(
        f"/podium/Default/api/Buckets/{bucket['Id']}/ListFiles",
        params={"prefix": "/docs/", "takeHint": 2},
        headers=api.headers("Shared"),
    ).json()
    assert [i["fullPath"] for i in listed["items"]] == ["/docs/a.pdf", "/docs/b.txt"]
    assert all(isinstance(i["size"], int) for i in listed["items"]) and listed["continuationToken"]
    rest = api.client.get(
        f"/api/Buckets/{bucket['Id']}/ListFiles",
        params={"prefix": "/docs/", "takeHint": 2, "continuationToken": listed["continuationToken"]},
        headers=api.headers("Shared"),
    ).json()
    assert [i["fullPath"] for i in rest["items"]] == ["/docs/deep/c.txt"] and rest[
        "continuationToken"
    ] is None

    api.ok(api.delete(f"{base}.DeleteFile?path=docs/b.txt", folder="Shared"), 204)
    assert_error(api.get(f"{base}.GetFile", folder="Shared", params={"path": "docs/b.txt"}), 404)
    assert_error(api.delete(f"{base}.DeleteFile?path=docs/b.txt", folder="Shared"), 404)
    assert_error(api.get(f"{base}.GetReadUri", folder="Shared", params={"path": "missing.txt"}), 404)
    assert_error(api.get(f"{B}(999999)/{NS}.GetFiles", folder="Shared"), 404)


def test_signed_uris_expire_and_are_bound_to_verb_bucket_and_path(api: Api, db: Engine) -> None:
    bucket = create(api, "guarded")
    put_file(api, bucket, "file.txt", b"original")
    read = read_uri(api, bucket, "file.txt")
    write = api.ok(
        api.get(f"{B}({bucket['Id']})/{NS}.GetWriteUri", folder="Shared", params={"path": "new.txt"})
    )["Uri"]
    assert_error(api.client.put(read, content=b"overwrite"), 403)  # a write through a read URI
    assert_error(api.client.get(write), 403)
    prefix, token = read.rsplit("/", 1)
    payload, _, mac = token.partition(".")
    tampered_mac = mac[:-2] + ("AA" if not mac.endswith("AA") else "BB")
    assert_error(api.client.get(f"{prefix}/{payload}.{tampered_mac}"), 403)
    assert_error(api.client.get(f"{prefix}/{payload[:-2]}xx.{mac}"), 403)
    assert_error(api.client.get(f"{prefix}/garbage"), 403)
    key = derive_key(SIGNING_KEY)
    with db.connect() as conn:
        tenant_id = conn.execute(select(buckets.c.tenant_id).where(buckets.c.id == bucket["Id"])).scalar_one()
    expired = sign(key, BlobGrant(tenant_id, bucket["Id"], "file.txt", "GET", int(time.time()) - 1))
    body = assert_error(api.client.get(f"{prefix}/{expired}"), 403)
    assert "expired" in body["message"]
    valid = sign(key, BlobGrant(tenant_id, bucket["Id"], "file.txt", "GET", int(time.time()) + 60))
    assert api.client.get(f"{prefix}/{valid}").content == b"original"
    other_tenant = sign(
        key, BlobGrant(tenant_id + 1000, bucket["Id"], "file.txt", "GET", int(time.time()) + 60)
    )
    assert_error(api.client.get(f"{prefix}/{other_tenant}"), 404)
    assert_error(
        api.get(
            f"{B}({bucket['Id']})/{NS}.GetReadUri",
            folder="Shared",
            params={"path": "file.txt", "expiryInMinutes": "-5"},
        ),
        400,
    )
    assert api.client.get(read).content == b"original"


def test_path_traversal_is_rejected_everywhere(api: Api, tmp_path: Path) -> None:
    bucket = create(api, "paths")
    base = f"{B}({bucket['Id']})/{NS}"
    bad = [
        "../escape.txt",
        "a/../../escape.txt",
        "//etc/passwd",
        "a\\..\\b",
        "C:/x.txt",
        "a/./b",
        "a\x00b",
        "",
    ]
    for path in bad:
        for operation in ("GetWriteUri", "GetReadUri", "GetFile"):
            assert_error(api.get(f"{base}.{operation}", folder="Shared", params={"path": path}), 400)
        assert_error(api.delete(f"{base}.DeleteFile", folder="Shared", params={"path": path}), 400)
    assert_error(api.get(f"{base}.GetFiles", folder="Shared", params={"directory": "../"}), 400)
    assert_error(api.get(f"{base}.GetDirectories", folder="Shared", params={"directory": "/a/../.."}), 400)
    listed = api.client.get(
        f"/api/Buckets/{bucket['Id']}/ListFiles", params={"prefix": "/../"}, headers=api.headers("Shared")
    )
    assert_error(listed, 400)
    assert not list(tmp_path.rglob("escape.txt"))


def test_read_only_buckets_refuse_writes(api: Api) -> None:
    bucket = create(api, "archive")
    put_file(api, bucket, "kept.txt", b"kept")
    pending = api.ok(
        api.get(f"{B}({bucket['Id']})/{NS}.GetWriteUri", folder="Shared", params={"path": "late.txt"})
    )
    api.ok(api.put(f"{B}({bucket['Id']})", {"Options": "ReadOnly"}, folder="Shared"))
    base = f"{B}({bucket['Id']})/{NS}"
    assert_error(api.get(f"{base}.GetWriteUri", folder="Shared", params={"path": "new.txt"}), 400)
    assert_error(api.delete(f"{base}.DeleteFile", folder="Shared", params={"path": "kept.txt"}), 400)
    assert_error(api.client.put(pending["Uri"], content=b"late"), 400)
    assert_error(api.get(f"{base}.GetFile", folder="Shared", params={"path": "late.txt"}), 404)
    assert api.client.get(read_uri(api, bucket, "kept.txt")).content == b"kept"


def test_uploads_over_the_limit_are_refused_and_nothing_is_kept(api: Api, tmp_path: Path) -> None:
    api.client.app.state.podium.settings.max_blob_bytes = 1000  # type: ignore[attr-defined]
    bucket = create(api, "small")
    uri = api.ok(
        api.get(f"{B}({bucket['Id']})/{NS}.GetWriteUri", folder="Shared", params={"path": "big.bin"})
    )["Uri"]
    body = assert_error(api.client.put(uri, content=b"x" * 1001), 413)
    assert "limit" in body["message"]

    def chunked() -> Any:  # no Content-Length: the limit is found while streaming
        for _ in range(10):
            yield b"y" * 500

    assert_error(api.client.put(uri, content=chunked()), 413)
    assert_error(
        api.get(f"{B}({bucket['Id']})/{NS}.GetFile", folder="Shared", params={"path": "big.bin"}), 404
    )
    assert not [p for p in (tmp_path / "buckets").rglob("*") if p.is_file()]
    assert api.client.put(uri, content=b"z" * 1000).status_code == 201


def test_blob_uri_needs_no_token_but_file_calls_do(api: Api) -> None:
    bucket = create(api, "auth")
    put_file(api, bucket, "f.txt", b"free")
    assert api.client.get(read_uri(api, bucket, "f.txt"), headers={"Authorization": ""}).content == b"free"
    assert_error(api.client.get(f"{B}({bucket['Id']})/{NS}.GetFiles"), 401)
    assert_error(api.client.get(f"/api/Buckets/{bucket['Id']}/ListFiles"), 401)


def test_permissions_follow_the_folders_a_bucket_is_shared_to(api: Api) -> None:
    team = api.ok(api.post("/odata/Folders", {"DisplayName": "Team"}, folder="Shared"), 201)
    user = api.ok(
        api.post("/odata/Users", {"UserName": "bob", "Name": "Bob", "Password": "bob-password-1"}), 201
    )
    role = api.ok(
        api.post("/odata/Roles", {"Name": "BucketReaders", "Permissions": [{"Name": "Buckets.View"}]}), 201
    )
    assignment = {
        "UserIds": [user["Id"]],
        "RolesPerFolder": [{"FolderId": team["Id"], "RoleIds": [role["Id"]]}],
    }
    api.ok(api.post(f"/odata/Folders/{NS}.AssignUsers", {"assignments": assignment}), 204)
    elsewhere = create(api, "admins-only")
    visible = create(api, "team-files", folder="Team")
    put_file(api, visible, "r.txt", b"readable", folder="Team")
    bob = api.login("bob", "bob-password-1")

    assert [b["Name"] for b in api.ok(api.get(B, token=bob))["value"]] == ["team-files"]
    assert_error(api.get(B, folder="Shared", token=bob), 403)
    assert_error(api.get(f"{B}({elsewhere['Id']})/{NS}.GetFiles", folder="Team", token=bob), 404)
    base = f"{B}({visible['Id']})/{NS}"
    uri = api.ok(api.get(f"{base}.GetReadUri", folder="Team", params={"path": "r.txt"}, token=bob))["Uri"]
    assert api.client.get(uri).content == b"readable"
    assert_error(api.get(f"{base}.GetWriteUri", folder="Team", params={"path": "w.txt"}, token=bob), 403)
    assert_error(api.delete(f"{base}.DeleteFile", folder="Team", params={"path": "r.txt"}, token=bob), 403)
    assert_error(api.post(B, {"Name": "mine"}, folder="Team", token=bob), 403)
    share = {"BucketIds": [visible["Id"]], "ToAddFolderIds": [team["Id"]]}
    assert_error(api.post(f"{B}/{NS}.ShareToFolders", share, token=bob), 403)

    api.ok(
        api.post(
            f"{B}/{NS}.ShareToFolders", {"BucketIds": [elsewhere["Id"]], "ToAddFolderIds": [team["Id"]]}
        ),
        204,
    )
    assert sorted(b["Name"] for b in api.ok(api.get(B, token=bob))["value"]) == ["admins-only", "team-files"]
    folders = api.ok(api.get(f"{B}/{NS}.GetFoldersForBucket(id={elsewhere['Id']})", token=bob))
    assert [f["FullyQualifiedName"] for f in folders["AccessibleFolders"]] == ["Team"]
    assert folders["TotalFoldersCount"] == 2


def test_bucket_names_its_credential_store(api: Api) -> None:
    """CredentialStoreId takes a store of the tenant; it is answered as text, which the SDK requires."""
    store = api.ok(api.get("/odata/CredentialStores"))["value"][0]
    created = api.ok(
        api.post("/odata/Buckets", {"Name": "stored", "CredentialStoreId": store["Id"]}, folder="Shared"), 201
    )
    assert created["CredentialStoreId"] == str(store["Id"])
    url = f"/odata/Buckets({created['Id']})"
    cleared = api.ok(api.put(url, {"CredentialStoreId": None}, folder="Shared"))
    assert cleared["CredentialStoreId"] is None


def test_downloads_never_run_in_the_api_origin(api: Api) -> None:
    """Files come from the API's own origin with the uploader's type: nosniff and a sandbox always, and
    anything but raster images and plain text is an attachment (HTML, SVG, PDF, unknown)."""
    bucket = create(api, "served")
    cases = {
        "page.html": ("text/html", 'attachment; filename="page.html"'),
        "in/drawing.svg": ("image/svg+xml", 'attachment; filename="drawing.svg"'),
        "rapport été.pdf": ("application/pdf", "attachment; filename*=UTF-8''rapport%20%C3%A9t%C3%A9.pdf"),
        "blob": ("application/octet-stream", 'attachment; filename="blob"'),
        "photo.png": ("image/png", None),
        "notes.txt": ("text/plain", None),
    }
    for path, (media_type, disposition) in cases.items():
        put_file(api, bucket, path, b"<script>alert(1)</script>")
        for method in ("GET", "HEAD"):
            response = api.client.request(method, read_uri(api, bucket, path))
            assert response.status_code == 200
            assert response.headers["content-type"].split(";")[0] == media_type
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["content-security-policy"] == "sandbox"
            assert response.headers.get("content-disposition") == disposition, path


def test_local_bucket_files_are_private(api: Api, tmp_path: Path) -> None:
    """Bucket folders are 0700 and files 0600, whatever the process's umask."""
    bucket = create(api, "private")
    put_file(api, bucket, "a/b/c.txt", b"secret")
    root = tmp_path / "buckets"  # the data folder is tmp_path
    [stored] = list(root.rglob("c.txt"))
    assert stored.stat().st_mode & 0o777 == 0o600
    folder = stored.parent
    while folder != tmp_path:
        assert folder.stat().st_mode & 0o777 == 0o700, folder
        folder = folder.parent
    assert (root / ".tmp").stat().st_mode & 0o777 == 0o700
