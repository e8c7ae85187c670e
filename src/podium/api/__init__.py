"""HTTP areas: one module per area with its entity declarations and actions; thin."""

from __future__ import annotations

from fastapi import APIRouter


def load_areas() -> list[APIRouter]:
    """Imports every area (registering its entity sets and operations) and returns the routers."""
    from podium.api import account, external_apps, folders, jobs, robots, users  # noqa: F401  (registration)
    from podium.api.docs import router as docs_router
    from podium.odata.routes import router as odata_router

    return [account.router, external_apps.router, folders.router, jobs.router, users.router, docs_router, odata_router]
