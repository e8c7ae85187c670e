"""``$metadata``: the CSDL 4.0 document of the service, generated from the registry.

One ``EnumType`` per enum a field uses, one ``EntityType`` per DTO, the ``Action``/``Function``
elements of every registered operation (bound to the entity type or to the collection, with no
imports, as Orchestrator declares them) and an ``EntityContainer`` with the entity sets and their
navigation bindings. The helpers resolving enum names, parameter types and operation return types
are shared with the OpenAPI generator (``openapi.py``).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from starlette.requests import Request
from starlette.responses import Response

from podium.odata.model import Edm, EntitySet, Field, Navigation
from podium.odata.registry import NAMESPACE, Operation, Registry, registry

EDMX_NS = "http://docs.oasis-open.org/odata/ns/edmx"
EDM_NS = "http://docs.oasis-open.org/odata/ns/edm"
CONTAINER = "Container"
_FOR = re.compile(r"^Get(?P<set>[A-Z]\w*?)For[A-Z]")
_COLLECTION = re.compile(r"Collection\((.+)\)")


@dataclass(frozen=True)
class Returns:
    """What an operation answers: ``type_name`` is a DTO name or an ``Edm.*`` primitive."""

    type_name: str
    collection: bool
    kind: str  # "entity" (a registered DTO), "complex" (another DTO) or "primitive"


def qualified(name: str) -> str:
    return name if name.startswith("Edm.") else f"{NAMESPACE}.{name}"


def enum_names(source: Registry) -> dict[type[enum.IntEnum], str]:
    """Every enum some field uses, with its EnumType name (the class name, made unique)."""
    names: dict[type[enum.IntEnum], str] = {}
    taken: set[str] = set()
    for entity_set in source.entity_sets.values():
        for field in entity_set.fields:
            if field.enum is None or field.enum in names:
                continue
            name, n = field.enum.__name__, 2
            while name in taken:
                name, n = f"{field.enum.__name__}{n}", n + 1
            names[field.enum] = name
            taken.add(name)
    return names


def entity_types(source: Registry) -> dict[str, EntitySet]:
    """Entity type name -> the (first) entity set declaring it."""
    types: dict[str, EntitySet] = {}
    for entity_set in source.entity_sets.values():
        types.setdefault(entity_set.type_name, entity_set)
    return types


def navigation_type(source: Registry, nav: Navigation) -> str | None:
    """The entity type a navigation property points at (its own DTO name if declared), or None."""
    target = source.get(nav.target)
    if target is None:
        return None
    return nav.type_name or target.type_name


def nav_aliases(source: Registry) -> dict[str, str]:
    """Navigation DTO names that are not entity types of their own (SimpleRobotDto -> RobotDto)."""
    types = entity_types(source)
    aliases: dict[str, str] = {}
    for entity_set in source.entity_sets.values():
        for nav in entity_set.navigations:
            target = source.get(nav.target)
            if target is not None and nav.type_name and nav.type_name not in types:
                aliases.setdefault(nav.type_name, target.type_name)
    return aliases


def property_edm(field: Field, enums: dict[type[enum.IntEnum], str]) -> str:
    if field.edm is Edm.ENUM and field.enum is not None:
        return qualified(enums[field.enum])
    if field.edm is Edm.ENUM:
        return str(Edm.STRING)
    if isinstance(field.constant, list | tuple):
        return f"Collection({field.edm})"
    return str(field.edm)


def parameter_edm(name: str) -> str:
    """The Edm type of a function parameter, from its name (``key``/``...Id`` ids, ``identifier`` keys)."""
    lower = name.lower()
    if lower == "key" or (lower.endswith("id") and lower not in ("guid", "uuid")):
        return str(Edm.INT64)
    if lower == "identifier" or lower.endswith("key"):
        return str(Edm.GUID)
    if lower in ("skip", "take", "top"):
        return str(Edm.INT32)
    if lower.startswith(("include", "is", "has")):
        return str(Edm.BOOLEAN)
    return str(Edm.STRING)


def operation_returns(source: Registry, op: Operation) -> Returns | None:
    """The declared ``returns`` resolved (an entity set's name: its collection; ``Edm.*`` or a DTO name:
    one value, ``Edm.Stream`` a file; ``Collection(Edm.*)`` or ``Collection(<DTO>)``: a list of them), or
    for an undeclared function the obvious guess."""
    types = entity_types(source)
    if op.returns:
        named_set = source.get(op.returns)
        if named_set is not None:
            return Returns(named_set.type_name, True, "entity")
        many = _COLLECTION.fullmatch(op.returns)
        name = many.group(1) if many else op.returns
        if name.startswith("Edm."):
            return Returns(name, many is not None, "primitive")
        return Returns(name, many is not None, "entity" if name in types else "complex")
    if op.method != "GET":
        return None
    if "Ids" in op.name:
        return Returns(str(Edm.INT64), True, "primitive")
    match = _FOR.match(op.name)
    listed = source.get(match.group("set")) if match else None
    if listed is not None:
        return Returns(listed.type_name, True, "entity")
    bound = source.get(op.entity_set)
    if bound is None:
        return Returns(str(Edm.STRING), False, "primitive")
    return Returns(bound.type_name, op.name.startswith("List"), "entity")


def complex_types(source: Registry) -> list[str]:
    """DTO names operations answer that are not entity types (declared as open complex types)."""
    names: list[str] = []
    for op in source.operations.values():
        returned = operation_returns(source, op)
        if returned is not None and returned.kind == "complex" and returned.type_name not in names:
            names.append(returned.type_name)
    return names


def _entity_type(
    schema: ET.Element, entity_set: EntitySet, source: Registry, enums: dict[type[enum.IntEnum], str]
) -> None:
    element = ET.SubElement(schema, "EntityType", {"Name": entity_set.type_name})
    ET.SubElement(ET.SubElement(element, "Key"), "PropertyRef", {"Name": "Id"})
    for field in entity_set.fields:
        attrs = {"Name": field.name, "Type": property_edm(field, enums)}
        if not field.nullable:
            attrs["Nullable"] = "false"
        if field.max_length is not None and field.edm is Edm.STRING:
            attrs["MaxLength"] = str(field.max_length)
        ET.SubElement(element, "Property", attrs)
    for nav in entity_set.navigations:
        target = navigation_type(source, nav)
        if target is None:
            continue
        kind = f"Collection({qualified(target)})" if nav.many else qualified(target)
        ET.SubElement(element, "NavigationProperty", {"Name": nav.name, "Type": kind})


def _operation(schema: ET.Element, op: Operation, source: Registry) -> None:
    bound = source.get(op.entity_set)
    if bound is None:
        return
    tag = "Function" if op.method == "GET" else "Action"
    element = ET.SubElement(schema, tag, {"Name": op.name, "IsBound": "true"})
    binding = qualified(bound.type_name)
    ET.SubElement(
        element,
        "Parameter",
        {
            "Name": "bindingParameter",
            "Type": binding if op.bound_to_entity else f"Collection({binding})",
        },
    )
    for name in op.parameters:
        ET.SubElement(element, "Parameter", {"Name": name, "Type": parameter_edm(name), "Nullable": "false"})
    if tag == "Action" and op.body_schema:
        for name, schema_of in op.body_schema.get("properties", {}).items():
            if name not in op.parameters:
                ET.SubElement(element, "Parameter", {"Name": name, "Type": _json_edm(schema_of)})
    returned = operation_returns(source, op)
    if returned is not None:
        kind = qualified(returned.type_name)
        ET.SubElement(element, "ReturnType", {"Type": f"Collection({kind})" if returned.collection else kind})


def _json_edm(schema: object) -> str:
    """The Edm type of a body parameter given as a JSON schema (objects become Edm.Untyped)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(kind, list):  # ["integer", "null"]: a nullable integer
        kind = next((k for k in kind if k != "null"), None)
    simple = {"string": Edm.STRING, "integer": Edm.INT64, "boolean": Edm.BOOLEAN, "number": Edm.DOUBLE}
    if kind in simple:
        if kind == "string" and isinstance(schema, dict) and schema.get("format") == "date-time":
            return str(Edm.DATETIME)
        return str(simple[str(kind)])
    if kind == "array" and isinstance(schema, dict):
        return f"Collection({_json_edm(schema.get('items'))})"
    return "Edm.Untyped"


def build_csdl(source: Registry) -> str:
    """The ``$metadata`` document (CSDL 4.0 XML) of every entity set and operation of ``source``."""
    root = ET.Element("edmx:Edmx", {"Version": "4.0", "xmlns:edmx": EDMX_NS})
    state = ET.SubElement(root, "edmx:DataServices")
    schema = ET.SubElement(state, "Schema", {"Namespace": NAMESPACE, "xmlns": EDM_NS})
    enums = enum_names(source)
    for enum_type, name in enums.items():
        element = ET.SubElement(schema, "EnumType", {"Name": name, "UnderlyingType": "Edm.Int32"})
        for member in enum_type:
            ET.SubElement(element, "Member", {"Name": member.name, "Value": str(int(member))})
    for entity_set in entity_types(source).values():
        _entity_type(schema, entity_set, source, enums)
    for alias, base in nav_aliases(source).items():
        ET.SubElement(schema, "EntityType", {"Name": alias, "BaseType": qualified(base)})
    for name in complex_types(source):
        ET.SubElement(schema, "ComplexType", {"Name": name, "OpenType": "true"})
    for op in sorted(source.operations.values(), key=lambda o: (o.method != "POST", o.name, o.entity_set)):
        _operation(schema, op, source)
    container = ET.SubElement(schema, "EntityContainer", {"Name": CONTAINER})
    for entity_set in source.entity_sets.values():
        element = ET.SubElement(
            container,
            "EntitySet",
            {
                "Name": entity_set.name,
                "EntityType": qualified(entity_set.type_name),
            },
        )
        for nav in entity_set.navigations:
            target = source.get(nav.target)
            if target is not None:
                ET.SubElement(element, "NavigationPropertyBinding", {"Path": nav.name, "Target": target.name})
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


_cache: dict[tuple[int, int, int], bytes] = {}


def cached_csdl(source: Registry = registry) -> bytes:
    """``build_csdl`` once per registry (rebuilt only if something registers later)."""
    stamp = (id(source), len(source.entity_sets), len(source.operations))
    document = _cache.get(stamp)
    if document is None:
        document = _cache[stamp] = build_csdl(source).encode("utf-8")
    return document


def metadata_response(request: Request) -> Response:
    """GET ``/odata/$metadata``: no authentication, as in Orchestrator."""
    return Response(cached_csdl(), media_type="application/xml", headers={"OData-Version": "4.0"})
