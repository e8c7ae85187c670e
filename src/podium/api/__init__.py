"""HTTP areas: one module per area with its entity declarations and actions; thin."""

from __future__ import annotations

from fastapi import APIRouter


def load_areas() -> list[APIRouter]:
    """Imports every area (registering its entity sets and operations) and returns the routers."""
    from podium.api import (  # noqa: F401  (registration)  # noqa: F401  (sessions: registration)  # noqa: F401  (registration)  # package feeds (before the generic OData route)  # noqa: F401  (registration)
        account,
        asset_folders,
        asset_robots,
        assets,
        blob_files,
        bucket_files,
        buckets,
        credential_stores,
        external_apps,
        folders,
        jobs,
        libraries,
        logs,
        processes,
        queue_folders,
        queue_retention,
        queue_stats,
        queues,
        robot_protocol,
        robots,
        sessions,
        users,
    )
    from podium.api.docs import router as docs_router
    from podium.odata.routes import router as odata_router

    return [
        account.router,
        external_apps.router,
        folders.router,
        jobs.router,
        users.router,
        queues.router,
        queue_retention.router,
        robot_protocol.router,
        logs.router,
        bucket_files.router,
        blob_files.router,
        processes.router,
        libraries.router,
        docs_router,
        odata_router,
    ]
