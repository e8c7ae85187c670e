"""The robot sweep: returns jobs whose claim was never acknowledged to Pending, disconnects silent
robots (their running jobs fault) and stops jobs over their time limits. One process at a time."""

from __future__ import annotations

import datetime as dt

from podium.config import Settings
from podium.domain import job_claims, job_limits, robot_sessions, settings, tenancy
from podium.http.state import AppState
from podium.services.base import Service


def sweep_seconds(environment: Settings) -> float:
    """Often enough to notice a silent robot or an unacknowledged claim well within its timeout."""
    return max(
        0.5, min(5.0, environment.heartbeat_timeout_seconds / 4, environment.claim_ack_timeout_seconds / 2)
    )


async def sweep_once(state: AppState) -> None:
    async with state.db.write() as conn:
        # claims never acknowledged first: those jobs never started and go back to Pending
        await job_claims.withdraw_expired(conn)
        # each tenant's timeout: Scalability.Heartbeat.* (domain/settings.py), else PODIUM_HEARTBEAT_TIMEOUT
        for tenant_id in await tenancy.tenant_ids(conn):
            seconds = await settings.heartbeat_timeout_seconds(conn, tenant_id)
            await robot_sessions.disconnect_silent(conn, dt.timedelta(seconds=seconds), tenant_id)
        await job_limits.enforce(conn)


SERVICE = Service("robot-sweep", sweep_once, sweep_seconds, summary=__doc__ or "")
