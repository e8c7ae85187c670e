"""The registry of entity sets and their actions/functions.

Each area module (``podium.api``) declares its entity sets and operations on an :class:`Area` of its
own, which touches nothing global; ``podium.api.areas.install`` copies the areas of its one explicit
list into :data:`registry`, which the OData routes, ``$metadata`` and OpenAPI read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from podium.odata.model import EntitySet

if TYPE_CHECKING:
    from starlette.requests import Request

    from podium.http.context import RequestContext
    from podium.odata.options import QueryOptions

NAMESPACE = "UiPath.Server.Configuration.OData"


@dataclass
class ActionCall:
    """What an action or function handler receives."""

    entity_set: EntitySet
    key: Any  # the bound entity's key, or None for collection-bound operations
    params: dict[str, Any]  # function parameters from the URL: GetByKey(identifier='…')
    body: Any  # the parsed JSON body (actions), or None
    options: QueryOptions  # $filter/$top/... for functions returning collections
    request: Request


Handler = Callable[["RequestContext", ActionCall], Awaitable[Any]]


@dataclass(frozen=True)
class Audited:
    """How an action (POST, PUT, DELETE) is audited (``odata/audit.py``): its AuditAction (default: by
    its name, ``domain.audit_logs.ACTION_OF_OPERATION``, else Update) and AuditComponent (default: its
    entity set's). ``Operation.audit = None``: not a change someone makes (queue traffic, exports)."""

    action: str | None = None
    component: str | None = None


AUDITED = Audited()


@dataclass
class Operation:
    """An OData action (POST) or function (GET) bound to an entity set or to one of its entities."""

    entity_set: str
    name: str
    method: str
    handler: Handler
    bound_to_entity: bool = False
    namespace: str = NAMESPACE
    summary: str = ""
    body_schema: dict[str, Any] | None = None  # JSON schema of the body, for OpenAPI
    returns: str | None = None  # entity set name (collection) or DTO name, for $metadata/OpenAPI
    parameters: tuple[str, ...] = ()
    raw_body: bool = False  # the handler reads the request body itself (multipart uploads)
    audit: Audited | None = AUDITED  # None: the action's writes are not audited


@dataclass
class Registry:
    entity_sets: dict[str, EntitySet] = field(default_factory=dict)
    operations: dict[tuple[str, str, bool], Operation] = field(default_factory=dict)
    _guards: frozenset[str] | None = field(default=None, repr=False)

    def add(self, entity_set: EntitySet) -> EntitySet:
        self.entity_sets[entity_set.name.lower()] = entity_set
        self._guards = None
        return entity_set

    def guarding_permissions(self) -> frozenset[str]:
        """The permissions some field is shown with only (``Field.visible_with``), found once."""
        if self._guards is None:
            self._guards = frozenset(
                f.visible_with for s in self.entity_sets.values() for f in s.fields if f.visible_with
            )
        return self._guards

    def get(self, name: str) -> EntitySet | None:
        return self.entity_sets.get(name.lower())

    def operation(
        self,
        entity_set: str,
        name: str,
        *,
        method: str = "POST",
        bound_to_entity: bool = False,
        namespace: str = NAMESPACE,
        summary: str = "",
        body_schema: dict[str, Any] | None = None,
        returns: str | None = None,
        parameters: tuple[str, ...] = (),
        raw_body: bool = False,
        audit: Audited | None = AUDITED,
    ) -> Callable[[Handler], Handler]:
        """Registers the decorated coroutine as an action (POST) or function (GET)."""

        def register(handler: Handler) -> Handler:
            op = Operation(
                entity_set,
                name,
                method,
                handler,
                bound_to_entity,
                namespace,
                summary,
                body_schema,
                returns,
                parameters,
                raw_body,
                audit,
            )
            self.operations[(entity_set.lower(), name.lower(), bound_to_entity)] = op
            return handler

        return register

    def find_operation(self, entity_set: str, name: str, bound_to_entity: bool) -> Operation | None:
        short = name.rsplit(".", 1)[-1]
        return self.operations.get((entity_set.lower(), short.lower(), bound_to_entity))

    def include(self, other: Registry) -> None:
        """Adds another registry's (an area's) entity sets and operations to this one."""
        self.entity_sets.update(other.entity_sets)
        self.operations.update(other.operations)
        self._guards = None


class Area(Registry):
    """One area's declarations: its entity sets, its OData operations and its router of plain routes."""

    def __init__(self, name: str, router: APIRouter | None = None) -> None:
        super().__init__()
        self.name = name
        self.router = router if router is not None else APIRouter(tags=[name])


registry = Registry()
