"""Machines assigned to folders: a machine assigned to a folder serves it, and, when the assignment
propagates (``ToggleFolderMachineInherit``), every folder below it too (there it is *inherited*).

A folder's machine state is Assigned (a row for the folder itself), Inherited (a propagating row on a
folder above it) or NotAssigned; moving a folder changes the inherited ones, which
:func:`move_changes` tells before the move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, false, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import folders, machines, robots
from podium.db.schema_folders import folder_machines
from podium.domain.folders import below
from podium.domain.tenancy import tenant_rows
from podium.errors import bad_request


@dataclass(frozen=True)
class MachineState:
    state: str  # Assigned | Inherited | NotAssigned (MachineFolderState)
    propagate: bool  # a direct assignment that propagates to subfolders
    inherited_from: str | None  # the folder (display name) an inherited machine comes from


async def require_machines(
    conn: AsyncConnection, tenant_id: int, machine_ids: Sequence[int], name: str
) -> None:
    """400 unless every id (of the request's list ``name``) is a machine of the tenant."""
    if await tenant_rows(conn, machines, tenant_id, machine_ids) != set(machine_ids):
        raise bad_request(f"Some of {name} do not exist.")


async def assign(conn: AsyncConnection, folder_ids: Sequence[int], machine_ids: Sequence[int]) -> None:
    """Assigns the machines to the folders (assignments that exist are kept as they are)."""
    for folder_id in folder_ids:
        query = select(folder_machines.c.machine_id).where(folder_machines.c.folder_id == folder_id)
        held = {row.machine_id for row in await conn.execute(query)}
        for machine_id in dict.fromkeys(machine_ids):
            if machine_id not in held:
                await conn.execute(
                    insert(folder_machines).values(
                        folder_id=folder_id, machine_id=machine_id, propagate_to_subfolders=False
                    )
                )


async def unassign(conn: AsyncConnection, folder_id: int, machine_ids: Sequence[int]) -> None:
    await conn.execute(
        delete(folder_machines).where(
            folder_machines.c.folder_id == folder_id, folder_machines.c.machine_id.in_(list(machine_ids))
        )
    )


async def set_propagation(conn: AsyncConnection, folder_id: int, machine_id: int, enabled: bool) -> None:
    """Whether the folder's machine is inherited by its subfolders; 400 unless it is assigned there."""
    done = await conn.execute(
        update(folder_machines)
        .where(folder_machines.c.folder_id == folder_id, folder_machines.c.machine_id == machine_id)
        .values(propagate_to_subfolders=enabled)
    )
    if done.rowcount == 0:
        raise bad_request("The machine is not assigned to the folder.")


def _ancestor_paths(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts))]


async def states(
    conn: AsyncConnection, tenant_id: int, path: str, above: Sequence[str] | None = None
) -> dict[int, MachineState]:
    """The machines a folder at ``path`` has, by id (NotAssigned ones left out). ``above``: the folder
    paths over it (default: those of ``path``; given when asking where a folder would be moved)."""
    above = _ancestor_paths(path) if above is None else list(above)
    query = (
        select(
            folder_machines.c.machine_id,
            folder_machines.c.propagate_to_subfolders,
            folders.c.fully_qualified_name,
            folders.c.display_name,
        )
        .join(folders, folders.c.id == folder_machines.c.folder_id)
        .where(folders.c.tenant_id == tenant_id, folders.c.fully_qualified_name.in_([path, *above]))
    )
    found: dict[int, MachineState] = {}
    inherited: dict[int, tuple[int, str]] = {}  # machine -> (depth of the nearest folder, its name)
    for row in await conn.execute(query):
        if row.fully_qualified_name == path:
            found[row.machine_id] = MachineState("Assigned", bool(row.propagate_to_subfolders), None)
        elif row.propagate_to_subfolders:
            depth = row.fully_qualified_name.count("/")
            if row.machine_id not in inherited or inherited[row.machine_id][0] < depth:
                inherited[row.machine_id] = (depth, row.display_name)
    for machine_id, (_, name) in inherited.items():
        found.setdefault(machine_id, MachineState("Inherited", False, name))
    return found


async def move_changes(
    conn: AsyncConnection, tenant_id: int, path: str, target_path: str | None
) -> list[tuple[int, str, str, str]]:
    """(machine id, name, old state, new state) of each machine whose state in the folder at ``path``
    changes if it is moved under ``target_path`` (None: the root)."""
    before = await states(conn, tenant_id, path)
    new_above = [] if target_path is None else [*_ancestor_paths(target_path), target_path]
    after = await states(conn, tenant_id, path, new_above)
    changed = {
        machine_id
        for machine_id in set(before) | set(after)
        if (before.get(machine_id), after.get(machine_id)) != (None, None)
        and _state(before, machine_id) != _state(after, machine_id)
    }
    if not changed:
        return []
    names = {
        row.id: row.name
        for row in await conn.execute(
            select(machines.c.id, machines.c.name).where(machines.c.id.in_(changed))
        )
    }
    return sorted((m, names.get(m, ""), _state(before, m), _state(after, m)) for m in changed)


def _state(found: dict[int, MachineState], machine_id: int) -> str:
    state = found.get(machine_id)
    return state.state if state is not None else "NotAssigned"


def machines_with(ids: Sequence[int]) -> ColumnElement[bool]:
    """The condition on Machines for those ``ids`` (none: no machine)."""
    return machines.c.id.in_(list(ids)) if ids else false()


async def subfolders_with_machine(
    conn: AsyncConnection, tenant_id: int, root_path: str, machine_id: int
) -> ColumnElement[bool]:
    """The condition on Folders for the folders below ``root_path`` the machine is assigned to."""
    query = (
        select(folders.c.id)
        .join(folder_machines, folder_machines.c.folder_id == folders.c.id)
        .where(folders.c.tenant_id == tenant_id, below(root_path), folder_machines.c.machine_id == machine_id)
    )
    ids = [row.id for row in await conn.execute(query)]
    return folders.c.id.in_(ids) if ids else false()


async def machines_with_robots(conn: AsyncConnection, machine_ids: Sequence[int]) -> set[int]:
    query = select(robots.c.machine_id).where(robots.c.machine_id.in_(list(machine_ids))).distinct()
    return {row.machine_id for row in await conn.execute(query)}
