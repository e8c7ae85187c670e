"""Permission names and the built-in roles.

A role is a set of permission names (``Jobs.View``). A user holds roles across the tenant (they apply in
every folder) or in a folder (they apply there and in its subfolders).
"""

from __future__ import annotations

VERBS = ("View", "Create", "Edit", "Delete")

AREAS = (
    "Alerts",
    "Assets",
    "Audit",
    "Buckets",
    "Environments",
    "ExecutionMedia",
    "Folders",
    "Jobs",
    "Libraries",
    "License",
    "Logs",
    "Machines",
    "Packages",
    "Processes",
    "Queues",
    "Robots",
    "Roles",
    "Schedules",
    "Settings",
    "TaskAssignment",
    "TaskCatalogs",
    "Tasks",
    "Tenants",
    "Transactions",
    "Users",
    "Webhooks",
)

ALL_PERMISSIONS: tuple[str, ...] = tuple(f"{area}.{verb}" for area in AREAS for verb in VERBS)

BUILTIN_ROLES: dict[str, tuple[int, tuple[str, ...]]] = {
    # name: (RoleType: 0 Mixed, 1 Tenant, 2 Folder; permissions)
    "Administrator": (0, ALL_PERMISSIONS),
    "Robot": (
        0,
        (
            "Assets.View",
            "Buckets.View",
            "Jobs.View",
            "Jobs.Create",
            "Jobs.Edit",
            "Logs.Create",
            "Logs.View",
            "Machines.View",
            "Processes.View",
            "Queues.View",
            "Robots.View",
            "TaskAssignment.Create",
            "TaskAssignment.View",
            "Tasks.Create",
            "Tasks.Edit",
            "Tasks.View",
            "Transactions.View",
            "Transactions.Create",
            "Transactions.Edit",
        ),
    ),
    "Automation User": (
        2,
        (
            "Assets.View",
            "Buckets.View",
            "Environments.View",
            "Jobs.View",
            "Jobs.Create",
            "Jobs.Edit",
            "Logs.View",
            "Processes.View",
            "Queues.View",
            "Robots.View",
            "Tasks.Create",
            "Tasks.Edit",
            "Tasks.View",
            "Transactions.View",
            "Transactions.Create",
            "Transactions.Edit",
        ),
    ),
    "Folder Administrator": (
        2,
        tuple(
            f"{area}.{verb}"
            for area in (
                "Assets",
                "Buckets",
                "Environments",
                "ExecutionMedia",
                "Jobs",
                "Logs",
                "Processes",
                "Queues",
                "Robots",
                "Schedules",
                "TaskAssignment",
                "TaskCatalogs",
                "Tasks",
                "Transactions",
            )
            for verb in VERBS
        ),
    ),
}


def is_known(permission: str) -> bool:
    return permission in _KNOWN


_KNOWN = frozenset(ALL_PERMISSIONS)
