"""``StopProcessExpression`` / ``KillProcessExpression``: a running job over its time span is stopped.

The expressions are time spans: ``HH:MM:SS`` or ``D.HH:MM:SS`` (.NET), ISO 8601 durations
(``PT10M``), or a number of seconds.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.types import utcnow
from podium.domain.enums import JobState, StopStrategy
from podium.domain.jobs import stop_job

_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)
_DOTNET = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def parse_time_span(text: str | None) -> dt.timedelta | None:
    """The duration written in ``text``; None when empty or not a time span."""
    if not text or not text.strip():
        return None
    value = text.strip()
    try:
        return dt.timedelta(seconds=float(value))
    except ValueError:
        pass
    match = _DOTNET.match(value)
    if match:
        days, hours, minutes, seconds = match.groups()
        return dt.timedelta(
            days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds)
        )
    match = _ISO.match(value)
    if match and any(match.groups()):
        days, hours, minutes, seconds = match.groups()
        return dt.timedelta(
            days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
        )
    return None


async def enforce(conn: AsyncConnection) -> int:
    """Soft-stops running jobs past their StopProcessExpression and kills those past their
    KillProcessExpression (counted from StartTime); returns how many jobs were asked to stop."""
    rows = (
        (
            await conn.execute(
                select(jobs).where(
                    jobs.c.state.in_((int(JobState.Running), int(JobState.Stopping))),
                    or_(
                        jobs.c.stop_process_expression.is_not(None),
                        jobs.c.kill_process_expression.is_not(None),
                    ),
                )
            )
        )
        .mappings()
        .all()
    )
    now, acted = utcnow(), 0
    for job in rows:
        if job["start_time"] is None:
            continue
        elapsed = now - job["start_time"]
        kill = parse_time_span(job["kill_process_expression"])
        stop = parse_time_span(job["stop_process_expression"])
        if kill is not None and elapsed >= kill:
            await stop_job(conn, dict(job), StopStrategy.Kill)
            acted += 1
        elif stop is not None and elapsed >= stop and job["state"] == int(JobState.Running):
            await stop_job(conn, dict(job), StopStrategy.SoftStop)
            acted += 1
    return acted
