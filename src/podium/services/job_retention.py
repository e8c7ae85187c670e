"""The job retention sweep: every release's ended jobs older than its retention period are deleted or
archived (``domain/release_retention.py``), and the files of their execution media removed. Every
``PODIUM_JOB_RETENTION_INTERVAL`` seconds (default 1 h); one server process at a time."""

from __future__ import annotations

import logging

from podium.domain import release_retention
from podium.http.state import AppState
from podium.services.base import Service
from podium.storage.factory import attachment_store

log = logging.getLogger("podium.jobs")


async def sweep_jobs(state: AppState) -> release_retention.SweepReport:
    report = await release_retention.apply_retention(state.db, state.settings.data_dir)
    store = attachment_store(state.settings)
    for path in report.media_files:  # their rows went with the jobs, committed
        try:
            await store.delete(path)
        except Exception:  # a file left behind is harmless: nothing names it any more
            log.warning("job retention: could not remove media file %s", path, exc_info=True)
    if report.deleted:
        log.info(
            "job retention: %d jobs deleted, %d archived",
            sum(report.deleted.values()),
            sum(report.archived.values()),
        )
    return report


async def _round(state: AppState) -> None:
    await sweep_jobs(state)


SERVICE = Service("job-retention", _round, lambda settings: 3600, summary=__doc__ or "")
