"""OpenAPI paths and schemas of the OData service, generated from the registry.

For every entity set: ``/odata/{Set}`` (GET with the query options, POST when insertable) and
``/odata/{Set}({key})`` (GET, PUT/PATCH when updatable, DELETE when deletable); for every operation
``/odata/{Set}[({key})]/{Namespace}.{Name}[(param={param},...)]``. DTOs become ``components.schemas``
with their PascalCase properties, enums as string enums of their member names.
"""

from __future__ import annotations

from typing import Any

from podium.odata.metadata import (
    Returns,
    entity_types,
    nav_aliases,
    navigation_type,
    operation_returns,
    parameter_edm,
)
from podium.odata.model import Edm, EntitySet, Field, Scope
from podium.odata.registry import Operation, Registry

Schema = dict[str, Any]

_EDM_SCHEMAS: dict[str, Schema] = {
    Edm.STRING: {"type": "string"},
    Edm.INT32: {"type": "integer", "format": "int32"},
    Edm.INT64: {"type": "integer", "format": "int64"},
    Edm.BOOLEAN: {"type": "boolean"},
    Edm.DATETIME: {"type": "string", "format": "date-time"},
    Edm.GUID: {"type": "string", "format": "uuid"},
    Edm.DOUBLE: {"type": "number", "format": "double"},
    Edm.UNTYPED: {"description": "Any JSON value (an object, a list, ...)."},
}
_QUERY_OPTIONS: list[tuple[str, Schema, str]] = [
    ("$filter", {"type": "string"}, "Restricts the set of items returned (OData $filter)."),
    ("$select", {"type": "string"}, "Comma-separated properties to answer."),
    ("$expand", {"type": "string"}, "Navigation properties to include."),
    ("$orderby", {"type": "string"}, "Properties to sort by, each optionally followed by asc or desc."),
    ("$top", {"type": "integer", "format": "int32", "minimum": 0}, "The number of items to answer."),
    ("$skip", {"type": "integer", "format": "int32", "minimum": 0}, "The number of items to skip."),
    ("$count", {"type": "boolean"}, "Adds @odata.count, the number of matching items."),
]


def _parameter(name: str, where: str, description: str, schema: Schema) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


_FOLDER_HEADERS = [
    _parameter(
        "X-UIPATH-OrganizationUnitId", "header", "Id of the folder addressed.", _EDM_SCHEMAS[Edm.INT64]
    ),
    _parameter(
        "X-UIPATH-FolderPath", "header", "Fully qualified name of the folder addressed.", {"type": "string"}
    ),
]
_KEY = _parameter("key", "path", "The entity's Id.", _EDM_SCHEMAS[Edm.INT64])
_GENERIC_BODY: Schema = {"type": "object", "additionalProperties": True}
STREAM = "Edm.Stream"  # ``returns=`` of a function answering a file
_FILE: Schema = {
    "description": "The file",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}
# the body of an operation whose handler reads it itself (raw_body): an upload, the file in a part
_UPLOAD_BODY: Schema = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        }
    },
}
ERROR_SCHEMA = "ErrorResponse"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    """OpenAPI 3.1 nullability: ``null`` added to the type (and to the members of an enum); a schema
    without a type (any JSON value) admits null already."""
    if "type" not in schema:
        return schema
    result = dict(schema)
    result["type"] = [schema["type"], "null"]
    if "enum" in schema:
        result["enum"] = [*schema["enum"], None]
    return result


def field_schema(field: Field) -> Schema:
    if field.edm is Edm.ENUM:
        schema: Schema = (
            {"type": "string", "enum": [m.name for m in field.enum]} if field.enum else {"type": "string"}
        )
    else:
        schema = dict(_EDM_SCHEMAS[field.edm])
    if isinstance(field.constant, list | tuple):
        schema = {"type": "array", "items": schema}
    if field.max_length is not None and schema.get("type") == "string":
        schema["maxLength"] = field.max_length
    if (field.nullable and field.constant is None) or field.write_only:
        schema = _nullable(schema)
    if field.read_only:
        schema["readOnly"] = True
    if field.write_only:
        # not OpenAPI's writeOnly, which keeps the property out of answers: Orchestrator answers it as null
        schema["description"] = "Write-only: taken from a request body, always answered as null."
    return schema


def entity_schema(source: Registry, entity_set: EntitySet) -> Schema:
    properties: dict[str, Schema] = {f.name: field_schema(f) for f in entity_set.fields}
    for nav in entity_set.navigations:
        target = navigation_type(source, nav)
        if target is not None:
            properties[nav.name] = (
                {"type": "array", "items": ref(target), "readOnly": True} if nav.many else ref(target)
            )
    # no "required": an answer holds only the $select-ed properties (what a create needs: _created)
    return {"type": "object", "properties": properties}


def _created(entity_set: EntitySet) -> Schema:
    """The body of a create: the DTO with the properties a create requires."""
    dto = ref(entity_set.type_name)
    required = [f.name for f in entity_set.fields if f.required]
    return {"allOf": [dto, {"required": required}]} if required else dto


def collection_schema(item: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {
            "@odata.context": {"type": "string"},
            "@odata.count": {"type": "integer", "format": "int64"},
            "value": {"type": "array", "items": item},
        },
    }


def _returns_schema(returned: Returns, schemas: dict[str, Schema]) -> Schema:
    if returned.kind == "primitive":
        item = dict(_EDM_SCHEMAS.get(returned.type_name, {"type": "string"}))
        short = returned.type_name.removeprefix("Edm.")
    else:
        item, short = ref(returned.type_name), returned.type_name
        if returned.kind == "complex":
            schemas.setdefault(returned.type_name, dict(_GENERIC_BODY))
    if not returned.collection:
        if returned.kind == "primitive":  # a function's primitive answer may be null (no such value)
            value = _nullable(item)
            return {"type": "object", "properties": {"@odata.context": {"type": "string"}, "value": value}}
        return item
    name = f"ODataValueOfIEnumerableOf{short}"
    schemas.setdefault(name, collection_schema(item))
    return ref(name)


def _content(schema: Schema) -> Schema:
    return {"content": {"application/json": {"schema": schema}}}


def _json(schema: Schema, description: str = "Success") -> Schema:
    return {"description": description, **_content(schema)}


def _body(schema: Schema) -> Schema:
    return {"required": True, **_content(schema)}


def _errors() -> dict[str, Schema]:
    return {"default": _json(ref(ERROR_SCHEMA), "Error (message, errorCode, traceId)")}


def _query_parameters(names: tuple[str, ...]) -> list[Schema]:
    return [_parameter(name, "query", text, schema) for name, schema, text in _QUERY_OPTIONS if name in names]


ALL_OPTIONS = tuple(name for name, _, _ in _QUERY_OPTIONS)


def _crud(entity_set: EntitySet, schemas: dict[str, Schema]) -> dict[str, dict[str, Schema]]:
    name, dto = entity_set.name, ref(entity_set.type_name)
    common = {"tags": [name]}
    headers = _FOLDER_HEADERS if entity_set.scope is Scope.FOLDER else []
    listing = f"ODataValueOfIEnumerableOf{entity_set.type_name}"
    schemas.setdefault(listing, collection_schema(dto))
    collection: dict[str, Schema] = {
        "get": {
            **common,
            "summary": f"Gets {name}",
            "operationId": f"{name}_Get",
            "parameters": [*_query_parameters(ALL_OPTIONS), *headers],
            "responses": {"200": _json(ref(listing)), **_errors()},
        },
    }
    if entity_set.insertable:
        collection["post"] = {
            **common,
            "summary": f"Creates an entity of {name}",
            "operationId": f"{name}_Post",
            "parameters": list(headers),
            "requestBody": _body(_created(entity_set)),
            "responses": {"201": _json(dto, "Created"), **_errors()},
        }
    single: dict[str, Schema] = {
        "get": {
            **common,
            "summary": f"Gets one entity of {name}",
            "operationId": f"{name}_GetById",
            "parameters": [_KEY, *_query_parameters(("$select", "$expand")), *headers],
            "responses": {"200": _json(dto), **_errors()},
        },
    }
    if entity_set.updatable:
        for method, what in (("put", "Replaces"), ("patch", "Updates")):
            single[method] = {
                **common,
                "summary": f"{what} an entity of {name}",
                "operationId": f"{name}_{method.capitalize()}ById",
                "parameters": [_KEY, *headers],
                "requestBody": _body(dto),
                "responses": {"200": _json(dto), **_errors()},
            }
    if entity_set.deletable:
        single["delete"] = {
            **common,
            "summary": f"Deletes an entity of {name}",
            "operationId": f"{name}_DeleteById",
            "parameters": [_KEY, *headers],
            "responses": {"204": {"description": "Deleted"}, **_errors()},
        }
    return {f"/odata/{name}": collection, f"/odata/{name}({{key}})": single}


def operation_path(entity_set: EntitySet, op: Operation) -> str:
    key = "({key})" if op.bound_to_entity else ""
    path = f"/odata/{entity_set.name}{key}/{op.namespace}.{op.name}"
    if op.method == "GET" and op.parameters:
        path += "(" + ",".join(f"{p}={{{p}}}" for p in op.parameters) + ")"
    return path


def _operation(source: Registry, entity_set: EntitySet, op: Operation, schemas: dict[str, Schema]) -> Schema:
    parameters: list[Schema] = [_KEY] if op.bound_to_entity else []
    if op.method == "GET":
        for name in op.parameters:
            if name == "key" and op.bound_to_entity:
                continue
            edm = parameter_edm(name)
            note = " (a string literal in quotes: 'value')" if edm == Edm.STRING else ""
            parameters.append(
                _parameter(name, "path", name + note, dict(_EDM_SCHEMAS.get(edm, {"type": "string"})))
            )
    returned = operation_returns(source, op)
    if op.method == "GET" and returned is not None and returned.collection and returned.kind != "primitive":
        parameters += _query_parameters(ALL_OPTIONS)
    if entity_set.scope is Scope.FOLDER:
        parameters += _FOLDER_HEADERS
    doc: Schema = {
        "tags": [entity_set.name],
        "summary": op.summary or op.name,
        "operationId": f"{entity_set.name}_{op.name}" + ("ByKey" if op.bound_to_entity else ""),
        "parameters": parameters,
    }
    if op.method != "GET":
        doc["requestBody"] = _UPLOAD_BODY if op.raw_body else _body(op.body_schema or dict(_GENERIC_BODY))
    if returned is None:  # an action that answers nothing (204), or an answer not declared (200)
        success = {"200": {"description": "Success"}, "204": {"description": "Done (no body)"}}
    elif returned.type_name == STREAM:
        success = {"200": _FILE}
    else:
        success = {"200": _json(_returns_schema(returned, schemas))}
    doc["responses"] = {**success, **_errors()}
    return doc


def registry_openapi(source: Registry) -> Schema:
    """``{"paths": ..., "schemas": ..., "tags": ...}`` of every entity set and operation of ``source``."""
    schemas: dict[str, Schema] = {
        ERROR_SCHEMA: {
            "type": "object",
            "required": ["message", "errorCode", "traceId"],
            "properties": {
                "message": {"type": "string"},
                "errorCode": {"type": "integer"},
                "traceId": {"type": "string"},
            },
        },
    }
    for type_name, entity_set in entity_types(source).items():
        schemas[type_name] = entity_schema(source, entity_set)
    for alias, base in nav_aliases(source).items():
        schemas[alias] = {"allOf": [ref(base)]}
    paths: dict[str, dict[str, Schema]] = {}
    for entity_set in source.entity_sets.values():
        if not entity_set.operations_only:
            paths.update(_crud(entity_set, schemas))
    for op in source.operations.values():
        bound = source.get(op.entity_set)
        if bound is not None:
            item = paths.setdefault(operation_path(bound, op), {})
            item[op.method.lower()] = _operation(source, bound, op, schemas)
    tags = [
        {"name": s.name, "description": f"The {s.name} entity set ({s.type_name})"}
        for s in source.entity_sets.values()
    ]
    return {"paths": paths, "schemas": schemas, "tags": tags}
