"""Two ``podium serve`` processes on one PostgreSQL database, each running the scheduler: 500 triggers
all due in the same second are each fired exactly once (one job per trigger, none missing, none
doubled), by whichever process claims them first (``domain/schedule_firing.py``)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from podium.db.schema import folders, jobs, releases, tenants
from podium.db.schema_process_schedules import process_schedules
from podium.db.types import utcnow
from tests.conftest import sync_engine
from tests.e2e.queue_servers import podium_servers

pytestmark = pytest.mark.e2e
TRIGGERS = 500


def test_two_servers_fire_each_trigger_once(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several server processes on one database: PostgreSQL")
    with podium_servers(database_url, tmp_path / "data", 2):
        engine = sync_engine(database_url)
        try:
            with engine.begin() as conn:
                tenant_id = conn.execute(select(tenants.c.id).where(tenants.c.name == "Default")).scalar_one()
                folder_id = conn.execute(
                    select(folders.c.id).where(
                        folders.c.tenant_id == tenant_id, folders.c.display_name == "Shared"
                    )
                ).scalar_one()
                now = utcnow()
                release_id = conn.execute(
                    insert(releases)
                    .values(
                        tenant_id=tenant_id,
                        folder_id=folder_id,
                        key=str(uuid.uuid4()),
                        name="proc",
                        process_key="proc",
                        creation_time=now,
                    )
                    .returning(releases.c.id)
                ).scalar_one()
                due = now.replace(microsecond=0) + dt.timedelta(seconds=2)
                once = f"{due.second} {due.minute} {due.hour} {due.day} {due.month} ? {due.year}"  # due once
                conn.execute(
                    insert(process_schedules),
                    [
                        {
                            "tenant_id": tenant_id,
                            "folder_id": folder_id,
                            "key": str(uuid.uuid4()),
                            "name": f"t{n}",
                            "enabled": True,
                            "release_id": release_id,
                            "start_process_cron": once,
                            "start_strategy": 1,
                            "time_zone_id": "UTC",
                            "time_zone_iana": "UTC",
                            "next_fire_at": due,
                            "creation_time": now,
                        }
                        for n in range(TRIGGERS)
                    ],
                )
            deadline = time.monotonic() + 60
            made = 0
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    made = conn.execute(select(func.count()).select_from(jobs)).scalar_one()
                    waiting = conn.execute(
                        select(func.count())
                        .select_from(process_schedules)
                        .where(process_schedules.c.next_fire_at <= utcnow())
                    ).scalar_one()
                if made >= TRIGGERS and waiting == 0:
                    break
                time.sleep(0.2)
            time.sleep(1.5)  # a doubled fire would show within a round of either process
            with engine.connect() as conn:
                per_trigger = conn.execute(
                    select(jobs.c.starting_schedule_id, func.count()).group_by(jobs.c.starting_schedule_id)
                ).all()
                fired_at = conn.execute(select(func.min(jobs.c.creation_time))).scalar_one()
        finally:
            engine.dispose()
    assert len(per_trigger) == TRIGGERS, f"{TRIGGERS - len(per_trigger)} triggers not fired"
    assert {count for _, count in per_trigger} == {1}, "a trigger fired more than once"
    assert fired_at >= due
