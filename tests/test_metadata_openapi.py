"""`$metadata` (CSDL 4.0 from the registry), the OpenAPI document and Swagger UI, all without a token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from podium.odata.metadata import cached_csdl
from tests.support import Api

NS = "UiPath.Server.Configuration.OData"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
PREFIX = "/podium/Default/orchestrator_"
START_JOBS = f"/odata/Jobs/{NS}.StartJobs"


def schema_of(api: Api, url: str = "/odata/$metadata") -> ET.Element:
    response = api.client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    schema = root.find(f"{EDMX}DataServices/{EDM}Schema")
    assert schema is not None and schema.get("Namespace") == NS
    return schema


def named(parent: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [e for e in parent.findall(f"{EDM}{tag}") if e.get("Name") == name]


def one(parent: ET.Element, tag: str, name: str) -> ET.Element:
    found = named(parent, tag, name)
    assert len(found) == 1, f"{tag} {name}: {len(found)} found"
    return found[0]


def binding_of(operation: ET.Element) -> str | None:
    first = operation.find(f"{EDM}Parameter")
    assert first is not None and first.get("Name") == "bindingParameter"
    return first.get("Type")


def test_metadata_describes_entity_types_and_enums(api: Api) -> None:
    schema = schema_of(api)
    states = {
        m.get("Name"): m.get("Value") for m in one(schema, "EnumType", "JobState").findall(f"{EDM}Member")
    }
    assert states["Successful"] == "5" and states["Pending"] == "0" and len(states) == 9

    job = one(schema, "EntityType", "JobDto")
    key = job.find(f"{EDM}Key/{EDM}PropertyRef")
    assert key is not None and key.get("Name") == "Id"
    props = {p.get("Name"): p for p in job.findall(f"{EDM}Property")}
    assert props["State"].get("Type") == f"{NS}.JobState"
    assert props["StartTime"].get("Type") == "Edm.DateTimeOffset"
    assert props["Id"].get("Type") == "Edm.Int64" and props["Id"].get("Nullable") == "false"
    navs = {n.get("Name"): n.get("Type") for n in job.findall(f"{EDM}NavigationProperty")}
    assert navs["Robot"] == f"{NS}.SimpleRobotDto" and navs["Release"] == f"{NS}.SimpleReleaseDto"
    assert one(schema, "EntityType", "SimpleRobotDto").get("BaseType") == f"{NS}.RobotDto"
    robot = one(schema, "EntityType", "RobotDto")
    robot_navs = {n.get("Name"): n.get("Type") for n in robot.findall(f"{EDM}NavigationProperty")}
    assert robot_navs["Environments"] == f"Collection({NS}.EnvironmentDto)"
    machine = {p.get("Name"): p for p in one(schema, "EntityType", "MachineDto").findall(f"{EDM}Property")}
    assert machine["Name"].get("Nullable") == "false" and machine["Name"].get("MaxLength") == "256"


def test_metadata_container_and_operations(api: Api) -> None:
    schema = schema_of(api)
    container = schema.find(f"{EDM}EntityContainer")
    assert container is not None
    jobs = one(container, "EntitySet", "Jobs")
    assert jobs.get("EntityType") == f"{NS}.JobDto"
    bindings = {b.get("Path"): b.get("Target") for b in jobs.findall(f"{EDM}NavigationPropertyBinding")}
    assert bindings["Robot"] == "Robots" and bindings["Release"] == "Releases"
    assert not container.findall(f"{EDM}ActionImport") and not container.findall(f"{EDM}FunctionImport")

    start = one(schema, "Action", "StartJobs")
    assert start.get("IsBound") == "true" and binding_of(start) == f"Collection({NS}.JobDto)"
    returns = start.find(f"{EDM}ReturnType")
    assert returns is not None and returns.get("Type") == f"Collection({NS}.JobDto)"
    assert binding_of(one(schema, "Action", "StopJob")) == f"{NS}.JobDto"  # bound to one job

    by_key = {binding_of(f): f for f in named(schema, "Function", "GetByKey")}
    job_by_key = by_key[f"Collection({NS}.JobDto)"]
    assert f"Collection({NS}.FolderDto)" in by_key
    params = {p.get("Name"): p.get("Type") for p in job_by_key.findall(f"{EDM}Parameter")}
    assert params["identifier"] == "Edm.Guid"
    returned = job_by_key.find(f"{EDM}ReturnType")
    assert returned is not None and returned.get("Type") == f"{NS}.JobDto"
    assert all(f.find(f"{EDM}ReturnType") is not None for f in schema.findall(f"{EDM}Function"))


def _type_names(schema: ET.Element) -> Iterator[str]:
    for element in schema.iter():
        for attr in ("Type", "EntityType", "BaseType"):
            value = element.get(attr)
            if value:
                yield value.removeprefix("Collection(").removesuffix(")")


def test_metadata_references_only_declared_types(api: Api) -> None:
    schema = schema_of(api)
    declared = {
        f"{NS}.{e.get('Name')}"
        for tag in ("EnumType", "EntityType", "ComplexType")
        for e in schema.findall(f"{EDM}{tag}")
    }
    for name in _type_names(schema):
        assert name.startswith("Edm.") or name in declared, name
    sets = {e.get("Name") for e in schema.iter(f"{EDM}EntitySet")}
    assert all(b.get("Target") in sets for b in schema.iter(f"{EDM}NavigationPropertyBinding"))


def test_metadata_under_cloud_prefix_and_cached(api: Api) -> None:
    plain = api.client.get("/odata/$metadata")
    prefixed = api.client.get(f"{PREFIX}/odata/$metadata")
    assert prefixed.status_code == 200 and prefixed.content == plain.content
    assert cached_csdl() is cached_csdl()


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


@pytest.fixture
def swagger(api: Api) -> dict[str, Any]:
    response = api.client.get("/swagger/v1/swagger.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def test_swagger_json_is_openapi_3(swagger: dict[str, Any]) -> None:
    assert swagger["openapi"].startswith("3.") and swagger["info"]["title"] and swagger["info"]["version"]
    schemas = swagger["components"]["schemas"]
    for target in set(_refs(swagger)):
        assert target.startswith("#/components/schemas/") and target.rsplit("/", 1)[1] in schemas, target
    bearer = swagger["components"]["securitySchemes"]["bearer"]
    assert (
        bearer["type"] == "http" and bearer["scheme"] == "bearer" and swagger["security"] == [{"bearer": []}]
    )
    assert not any(path.startswith("/odata/{") for path in swagger["paths"])  # the catch-all is left out
    try:
        from openapi_spec_validator import validate  # type: ignore[import-not-found]
    except ImportError:
        return
    validate(swagger)


def test_swagger_paths_from_registry(swagger: dict[str, Any]) -> None:
    paths = swagger["paths"]
    listing = paths["/odata/Jobs"]
    assert set(listing) == {"get"}  # Jobs are not insertable
    names = {p["name"] for p in listing["get"]["parameters"]}
    assert {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count"} <= names
    assert listing["get"]["tags"] == ["Jobs"]
    assert set(paths["/odata/Jobs({key})"]) == {"get"}
    assert set(paths["/odata/Machines({key})"]) == {"get", "put", "patch", "delete"}
    assert "post" in paths["/odata/Machines"]

    start = paths[START_JOBS]["post"]
    assert start["tags"] == ["Jobs"] and start["summary"] and "requestBody" in start
    assert start["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ODataValueOfIEnumerableOfJobDto"
    }
    assert "post" in paths[f"/odata/Jobs({{key}})/{NS}.StopJob"]
    by_key = paths[f"/odata/Jobs/{NS}.GetByKey(identifier={{identifier}})"]["get"]
    assert [p["name"] for p in by_key["parameters"] if p["in"] == "path"] == ["identifier"]
    assert paths["/api/Account/Authenticate"]["post"]["security"] == []


def test_swagger_schemas(swagger: dict[str, Any]) -> None:
    job = swagger["components"]["schemas"]["JobDto"]["properties"]
    assert "Successful" in job["State"]["enum"] and "string" in job["State"]["type"]
    assert job["StartTime"]["format"] == "date-time"
    assert job["Robot"] == {"$ref": "#/components/schemas/SimpleRobotDto"}
    robot = swagger["components"]["schemas"]["RobotDto"]
    # what a create requires is the POST body's: an answer holds the $select-ed properties only
    assert "required" not in robot
    create = swagger["paths"]["/odata/Robots"]["post"]["requestBody"]
    created = create["content"]["application/json"]["schema"]
    assert created["allOf"][0] == {"$ref": "#/components/schemas/RobotDto"}
    assert "Name" in created["allOf"][1]["required"]
    # answered as null: not OpenAPI's writeOnly, which would keep it out of answers
    password = robot["properties"]["Password"]
    assert password["type"] == ["string", "null"] and "writeOnly" not in password


def test_swagger_declares_what_podium_answers(swagger: dict[str, Any]) -> None:
    """Declarations tests/test_fuzz_api.py found answers breaking (each answer was right)."""
    schemas, paths = swagger["components"]["schemas"], swagger["paths"]
    error = schemas["ErrorResponse"]
    assert error["required"] == ["message", "errorCode", "traceId"]
    # JSON columns answer any JSON value: an asset's Tags and KeyValueList are lists, Arguments an object
    assert "type" not in schemas["AssetDto"]["properties"]["Tags"]
    process = schemas["ProcessDto"]["properties"]
    assert "type" not in process["Arguments"] and "type" not in process["EntryPoints"]
    # a function answering a list of strings, a (nullable) number, a list of another DTO
    stores = f"/odata/CredentialStores/{NS}"
    available = paths[f"{stores}.GetAvailableCredentialStoreTypes"]["get"]["responses"]["200"]
    listing = available["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schemas[listing]["properties"]["value"]["items"] == {"type": "string"}
    default = paths[f"{stores}.GetDefaultStoreForResourceType(resourceType={{resourceType}})"]["get"]
    value = default["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["value"]
    assert value["type"] == ["integer", "null"]
    # an action answering nothing answers 204
    set_robots = paths[f"/odata/Environments({{key}})/{NS}.SetRobots"]["post"]["responses"]
    assert "204" in set_robots and "content" not in set_robots["204"]
    # files: a package download answers the .nupkg, an export's download its CSV, an upload takes a file
    download = paths[f"/odata/Processes/{NS}.DownloadPackage(key={{key}})"]["get"]["responses"]["200"]
    assert list(download["content"]) == ["application/octet-stream"]
    csv = paths["/api/Exports/{export_id}/Download"]["get"]["responses"]["200"]
    assert list(csv["content"]) == ["text/csv"]
    upload = paths[f"/odata/Libraries/{NS}.UploadPackage"]["post"]["requestBody"]
    assert upload["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
    # FastAPI's routes: the error body (invalid input is a 400), never FastAPI's 422
    for path in (
        "/api/Account/Authenticate",
        "/api/ExternalApplications",
        "/api/Buckets/{bucket_id}/ListFiles",
    ):
        for operation in paths[path].values():
            assert "422" not in operation["responses"], path
            assert operation["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }
    assert "HTTPValidationError" not in schemas
    # the token endpoint: its form and OAuth's answers
    token = paths["/identity_/connect/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    oauth = token["responses"]["400"]["content"]["application/json"]["schema"]
    assert oauth["required"] == ["error", "error_description"]


def test_metadata_declares_collections_of_primitives_and_complex_types(api: Api) -> None:
    schema = schema_of(api)
    returned = one(schema, "Function", "GetAvailableCredentialStoreTypes").find(f"{EDM}ReturnType")
    assert returned is not None and returned.get("Type") == "Collection(Edm.String)"
    returned = one(schema, "Function", "GetResourcesForCredentialStoreTypes").find(f"{EDM}ReturnType")
    assert returned is not None and returned.get("Type") == f"Collection({NS}.CredentialStoreResourceDto)"
    assert one(schema, "ComplexType", "CredentialStoreResourceDto").get("OpenType") == "true"
    downloads = named(schema, "Function", "DownloadPackage")  # of Processes and Libraries
    returned_types = [r.get("Type") for f in downloads for r in f.findall(f"{EDM}ReturnType")]
    assert returned_types == ["Edm.Stream", "Edm.Stream"]


def test_swagger_ui(api: Api) -> None:
    for url in ("/swagger", f"{PREFIX}/swagger"):
        response = api.client.get(url)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        assert "swagger.json" in response.text
