"""Job retention per release (Orchestrator's process data retention policy): ended jobs older than their
release's period are deleted, or archived first.

Each release has one ``release_retention`` row, made with the release; until someone sets another it is
Orchestrator's built-in policy for processes, 30 days and Delete (the same as queues'), and DELETE on
``/odata/ReleaseRetention({id})`` puts it back. A job is eligible when it ended (Successful, Faulted or
Stopped) more than ``Period`` days ago (its EndTime, else its last change, else its creation); a job
still Pending, Running or Suspended is never touched. Jobs of releases without a row (made straight in
the database) follow the built-in policy too.

``Archive`` writes the jobs as JSON lines to ``<data dir>/job-archive/<tenant id>/<release id>/`` and
deletes them only once the file is on disk (``queue_retention.write_archive``): at least once, never
lost. Rows that hang off a job go with it (foreign keys ON DELETE CASCADE: claims, triggers, attachment
links, execution media); the files of its execution media are removed by the caller once the deletion
committed (:attr:`SweepReport.media_files`). Robot logs stay: they are kept by their own rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.engine import Database
from podium.db.schema import jobs, releases
from podium.db.schema_jobs import execution_media, release_retention
from podium.db.types import utcnow
from podium.domain.enums import JobState
from podium.domain.job_states import FINAL
from podium.domain.queue_enums import RETENTION_ARCHIVE, RETENTION_NONE
from podium.domain.queue_retention import write_archive
from podium.domain.retention_policies import DEFAULT_ACTION, DEFAULT_PERIOD

BATCH = 1000
ARCHIVE = "job-archive"
ENDED = sorted(int(state) for state in FINAL)
ENDED_AT = func.coalesce(jobs.c.end_time, jobs.c.last_modification_time, jobs.c.creation_time)


@dataclass
class SweepReport:
    """What one sweep did, per release id: jobs deleted (archived ones included) and archived; the
    archive files written and the execution media files whose rows went with their jobs."""

    deleted: dict[int, int] = field(default_factory=dict)
    archived: dict[int, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    media_files: list[str] = field(default_factory=list)


async def add_default(conn: AsyncConnection, release: Mapping[str, Any]) -> None:
    """The built-in policy for a release just made (``release`` holds id, tenant_id, folder_id)."""
    await conn.execute(
        insert(release_retention).values(
            tenant_id=release["tenant_id"],
            folder_id=release["folder_id"],
            release_id=release["id"],
            action=DEFAULT_ACTION,
            period=DEFAULT_PERIOD,
        )
    )


def archive_folder(data_dir: Path, tenant_id: int, release_id: int) -> Path:
    return data_dir / ARCHIVE / str(tenant_id) / str(release_id)


async def _policies(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every release with its action and period (the built-in policy where no row exists)."""
    rel, pol = releases.c, release_retention.c
    query = (
        select(
            rel.id,
            rel.tenant_id,
            func.coalesce(pol.action, DEFAULT_ACTION).label("action"),
            func.coalesce(pol.period, DEFAULT_PERIOD).label("period"),
        )
        .select_from(releases.outerjoin(release_retention, pol.release_id == rel.id))
        .order_by(rel.id)
    )
    return [dict(row._mapping) for row in await conn.execute(query)]


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def archived_job(row: Mapping[str, Any]) -> dict[str, Any]:
    """A job as its archive line holds it (JobDto's names)."""
    return {
        "Id": row["id"],
        "Key": row["key"],
        "State": JobState(row["state"]).name,
        "ReleaseName": row["release_name"],
        "ReleaseId": row["release_id"],
        "OrganizationUnitId": row["folder_id"],
        "RobotId": row["robot_id"],
        "MachineId": row["machine_id"],
        "HostMachineName": row["host_machine_name"],
        "Source": row["source"],
        "Info": row["info"],
        "InputArguments": row["input_arguments"],
        "OutputArguments": row["output_arguments"],
        "Reference": row["reference"],
        "BatchExecutionKey": row["batch_execution_key"],
        "CreationTime": _when(row["creation_time"]),
        "StartTime": _when(row["start_time"]),
        "EndTime": _when(row["end_time"]),
    }


async def _sweep_batch(
    db: Database, policy: Mapping[str, Any], cutoff: dt.datetime, data_dir: Path, report: SweepReport
) -> int:
    """Deletes (archiving first) up to BATCH expired jobs of one release; returns how many."""
    release_id = int(policy["id"])
    async with db.write() as conn:
        rows = (
            (
                await conn.execute(
                    select(jobs)
                    .where(jobs.c.release_id == release_id, jobs.c.state.in_(ENDED), cutoff > ENDED_AT)
                    .order_by(jobs.c.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return 0
        ids = [int(row["id"]) for row in rows]
        if policy["action"] == RETENTION_ARCHIVE:
            folder = archive_folder(data_dir, int(policy["tenant_id"]), release_id)
            report.files.append(write_archive(folder, utcnow(), [archived_job(dict(row)) for row in rows]))
            report.archived[release_id] = report.archived.get(release_id, 0) + len(ids)
        media = select(execution_media.c.storage_location).where(execution_media.c.job_id.in_(ids))
        media_files = [str(row.storage_location) for row in await conn.execute(media)]
        await conn.execute(delete(jobs).where(jobs.c.id.in_(ids)))
    report.media_files.extend(media_files)
    report.deleted[release_id] = report.deleted.get(release_id, 0) + len(ids)
    return len(ids)


async def apply_retention(db: Database, data_dir: Path, now: dt.datetime | None = None) -> SweepReport:
    """Applies every release's policy once (whoever calls it; the service adds the lease)."""
    now = now or utcnow()
    report = SweepReport()
    async with db.read() as conn:
        policies = await _policies(conn)
    for policy in policies:
        if policy["action"] == RETENTION_NONE:
            continue
        cutoff = now - dt.timedelta(days=int(policy["period"]))
        while await _sweep_batch(db, policy, cutoff, data_dir, report) == BATCH:
            pass
        async with db.write() as conn:
            await conn.execute(
                update(release_retention)
                .where(release_retention.c.release_id == policy["id"])
                .values(last_run_time=now)
            )
    return report
