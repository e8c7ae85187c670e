"""Declarations the generic OData layer serves: entity sets, their fields and navigation properties.

Each entity set is described once (table, DTO fields with Orchestrator's names, enums, navigation,
folder scoping, permission prefix); list/get/create/update/delete, ``$metadata`` and OpenAPI are
derived from that description by the generic layers.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection
    from starlette.requests import Request
    from starlette.responses import Response

    from podium.http.context import RequestContext
    from podium.odata.path import ResourcePath


class Edm(enum.StrEnum):
    """OData primitive types used by Orchestrator's DTOs."""

    STRING = "Edm.String"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    BOOLEAN = "Edm.Boolean"
    DATETIME = "Edm.DateTimeOffset"
    GUID = "Edm.Guid"
    DOUBLE = "Edm.Double"
    ENUM = "Enum"
    UNTYPED = "Edm.Untyped"  # a JSON object stored as JSON text (SpecificContent, Output ...)


class Scope(enum.Enum):
    """Where the rows of an entity set live."""

    TENANT = "tenant"  # one tenant's rows, not tied to a folder (Robots, Machines, Users, Folders, Roles)
    FOLDER = "folder"  # one folder's rows (Jobs, Releases, Environments, ...)
    HOST = "host"  # not tenant-bound (Tenants)


@dataclass(frozen=True)
class Field:
    """One DTO property.

    ``column`` names the column of the entity set's table that stores it. A field with ``constant``
    set is not stored: it is serialized as that value (Orchestrator properties Podium has no use for
    yet, kept so clients find the shape they expect). A field with ``visible_with`` is answered only to
    callers holding that permission; the generic layer (``odata/query.py``) serves everyone else null,
    in lists, single reads, ``$select`` and ``$expand`` alike.
    """

    name: str
    edm: Edm
    column: str | None = None
    enum: type[enum.IntEnum] | None = None
    nullable: bool = True
    read_only: bool = False  # never taken from a request body (Id, CreationTime, State ...)
    required: bool = False  # must be present on create
    write_only: bool = False  # accepted on write, always answered as null (passwords)
    constant: Any = None
    max_length: int | None = None
    # a permission (held tenant-wide) without which the value is withheld: the caller reads null, and
    # $filter/$orderby see null too (a machine's key, which connects as its robots: Machines.Edit)
    visible_with: str | None = None
    # the name of one of the entity set's ``lookups``: ``column`` is then a column of that lookup's
    # target table, joined when read (a name kept in one place, not copied: a trigger's CalendarName)
    through: str | None = None
    # the column value for a JSON value the Edm type alone does not describe (a TagDto list): checks it,
    # 400 when malformed; null is its to decide too
    parse: Callable[[Any], Any] | None = None

    @property
    def stored(self) -> bool:
        return self.column is not None


@dataclass(frozen=True)
class Navigation:
    """A navigation property: many-to-one through ``local`` -> target ``remote``.

    With ``many=True`` it is a collection: target rows whose ``remote`` column equals this row's
    ``local`` column, or, with ``link``, rows joined through a link table
    ``(table, column to this row, column to the target row)``.
    """

    name: str
    target: str  # entity set name
    local: str
    remote: str = "id"
    many: bool = False
    link: tuple[Table, str, str] | None = None
    type_name: str | None = None  # DTO name of the nested object, e.g. SimpleRobotDto


@dataclass(frozen=True)
class ResolvedField:
    """A property path resolved to a SQL expression, as the $filter and $orderby compilers need it."""

    expr: ColumnElement[Any]
    edm: Edm
    enum: type[enum.IntEnum] | None = None


FieldResolver = Callable[[list[str]], ResolvedField]
"""Resolves a property path (``["Robot", "Id"]``) to SQL; raises PodiumError(400) when unknown."""

KeyLookup = Callable[
    [list[str]], "tuple[ResolvedField, Callable[[ColumnElement[Any]], ColumnElement[bool]]] | None"
]
"""For ``Nav/Property eq <value>``: when the property names at most one row of the navigation's target
(unique in the tenant), that property's own column (to convert the value for) and the condition built
from the converted value, which finds the row without a join; None when the path is not such a key."""

Hook = Callable[
    ["RequestContext", "AsyncConnection", dict[str, Any], "Mapping[str, Any] | None", "Mapping[str, Any]"],
    Awaitable[None],
]
"""Called in the write transaction before an insert or update with the column values (mutable), the
existing row (or None) and
the request body (for properties that are not columns, such as a role's permissions)."""


Opener = Callable[[str, Any, tuple[Any, ...]], Any]
"""Reads a sealed field: (property name, stored value, the row's ``Sealed.context`` values) -> its value."""


@dataclass(frozen=True)
class Sealed:
    """Fields whose stored values may be sealed at rest (encrypted: the items of encrypted queues).
    ``$filter`` and ``$orderby`` refuse them (the database holds ciphertext), and every value read goes
    through ``opener(ctx)`` with its row's ``context`` columns, read whatever ``$select`` names."""

    fields: frozenset[str]
    context: tuple[str, ...]
    opener: Callable[[RequestContext], Opener]


@dataclass
class EntitySet:
    name: str
    type_name: str
    table: Table
    fields: list[Field]
    scope: Scope
    permission: str | None  # "Jobs" -> Jobs.View / Jobs.Create / Jobs.Edit / Jobs.Delete
    navigations: list[Navigation] = field(default_factory=list)
    key_column: str = "id"
    insertable: bool = True
    updatable: bool = True
    deletable: bool = True
    before_write: Hook | None = None
    # may return properties to add to the create response only (a secret shown once: ClientSecret)
    after_insert: (
        Callable[
            [RequestContext, AsyncConnection, int, dict[str, Any], Mapping[str, Any]],
            Awaitable[Mapping[str, Any] | None],
        ]
        | None
    ) = None
    before_delete: Callable[[RequestContext, AsyncConnection, Mapping[str, Any]], Awaitable[None]] | None = (
        None
    )
    # replaces removing the row, for entities that are marked deleted instead (queue items become Deleted)
    soft_delete: Callable[[RequestContext, AsyncConnection, Mapping[str, Any]], Awaitable[None]] | None = None
    # replaces the generic column update, for entities whose PUT body is another DTO (a queue item is
    # edited with a QueueItemDataDto); called in the write transaction after the Edit permission check
    edit: Callable[[RequestContext, AsyncConnection, Mapping[str, Any], Any], Awaitable[None]] | None = None
    # the access a write to a row ends (a robot disabled, moved or deleted: its tokens and its jobs'):
    # called in the write transaction of every update and delete with the row as it was, it notes the
    # revocations (``domain/revocations.py``) every server process then acts on once the write commits
    revokes: Callable[[AsyncConnection, Mapping[str, Any]], Awaitable[None]] | None = None
    unique: tuple[str, ...] = ()  # column names unique within the scope (name clash -> 409)
    # extra read conditions, e.g. robots of the folder named by the headers
    read_filter: Callable[[RequestContext], list[ColumnElement[bool]]] | None = None
    # reads need no tenant-wide View permission: read_filter shows each caller the rows it may see
    read_filter_decides_visibility: bool = False
    # rows shared to several folders (Buckets, Assets): a link table ``(table, column to this row)`` whose
    # ``folder_id`` rows make the row visible in those folders, instead of its own ``folder_id``; a third
    # element names this table's column the link points at when it is not ``id`` (queue items are
    # visible where their queue is: ``(queue_definition_folders, "queue_definition_id",
    # "queue_definition_id")``)
    shared_through: tuple[Table, str] | tuple[Table, str, str] | None = None
    sealed: Sealed | None = None  # fields encrypted at rest (see Sealed)
    # many-to-one joins that only ``Field.through`` uses: not navigation properties of the DTO
    lookups: list[Navigation] = field(default_factory=list)
    # served to host users only (Tenants), who are served nothing else (``odata/routes.py``)
    host_only: bool = False
    # rows computed, not stored (HostLicenses, LicensesRuntime): every request on the set that is not one
    # of its operations (list, get, delete, $count) is this handler's instead of the generic layer's
    serve: Callable[[RequestContext, Request, ResourcePath], Awaitable[Response]] | None = None
    # the set has its operations only: no list/get of its own in the OpenAPI document (LicensesRuntime)
    operations_only: bool = False

    def __post_init__(self) -> None:
        self.by_name: dict[str, Field] = {f.name: f for f in self.fields}
        self.nav_by_name: dict[str, Navigation] = {n.name: n for n in self.navigations}
        self.lookup_by_name: dict[str, Navigation] = {n.name: n for n in self.lookups}

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name)
