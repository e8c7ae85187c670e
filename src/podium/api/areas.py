"""The one explicit list of areas. An area module declares its entity sets, operations and plain
routes on its own ``area`` (:class:`~podium.odata.registry.Area`); :func:`install` puts them in the
OData registry and returns the routers in this order (routes of FastAPI are tried in order, and the
generic OData route comes last)."""

from __future__ import annotations

from fastapi import APIRouter

from podium.api import (
    account,
    alerts,
    app_tasks,
    asset_folders,
    asset_robots,
    assets,
    attachments,
    audit_logs,
    blob_files,
    bucket_files,
    buckets,
    calendars,
    credential_stores,
    docs,
    environments,
    external_apps,
    folders,
    generic_tasks,
    job_attachments,
    job_triggers,
    jobs,
    libraries,
    machine_admin,
    machines,
    package_feeds,
    personal_access_tokens,
    process_schedules,
    processes,
    queue_admin,
    queue_definitions,
    queue_folders,
    queue_items,
    queue_retention,
    queue_stats,
    queue_transactions,
    releases,
    robot_admin,
    robot_logs,
    robot_protocol,
    robots,
    roles,
    sessions,
    settings,
    task_catalogs,
    task_forms,
    tasks,
    users,
    webhooks,
)
from podium.odata.registry import Area, Registry, registry
from podium.odata.routes import router as odata_router

AREAS: tuple[Area, ...] = (
    account.area,
    external_apps.area,
    users.area,
    roles.area,
    personal_access_tokens.area,
    folders.area,
    machines.area,
    machine_admin.area,
    robots.area,
    robot_admin.area,
    environments.area,
    releases.area,
    jobs.area,
    job_triggers.area,
    sessions.area,
    robot_protocol.area,
    robot_logs.area,
    processes.area,
    process_schedules.area,
    package_feeds.area,
    libraries.area,
    queue_definitions.area,
    queue_items.area,
    queue_transactions.area,
    queue_admin.area,
    queue_folders.area,
    queue_stats.area,
    queue_retention.area,
    credential_stores.area,
    assets.area,
    asset_folders.area,
    asset_robots.area,
    buckets.area,
    bucket_files.area,
    blob_files.area,
    tasks.area,
    generic_tasks.area,
    task_forms.area,
    app_tasks.area,
    task_catalogs.area,
    attachments.area,
    job_attachments.area,
    settings.area,
    calendars.area,
    audit_logs.area,
    alerts.area,
    webhooks.area,
    docs.area,
)


def install(target: Registry = registry) -> list[APIRouter]:
    """Registers every area's declarations in ``target`` and returns the routers to include."""
    for area in AREAS:
        target.include(area)
    return [area.router for area in AREAS] + [odata_router]
