"""The queue SLA check: an alert (Queues, Warn) for each queue whose unfinished items reached their
RiskSlaDate since the last round (``domain/alerts.py``). Every ``PODIUM_QUEUE_SLA_INTERVAL`` seconds
(60); one server process at a time."""

from __future__ import annotations

import datetime as dt

from podium.db.types import utcnow
from podium.domain import alerts
from podium.http.state import AppState
from podium.services.base import Service

DEFAULT_INTERVAL = 60.0
_checked_until: dict[int, dt.datetime] = {}  # per app: where the last round of this process ended


async def check_slas(state: AppState) -> None:
    """Looks at the risk dates since the end of this process's last round (one interval back for the
    first round, or after taking the lease over), so consecutive rounds leave no gap."""
    until = utcnow()
    interval = dt.timedelta(seconds=SERVICE.settings(state.settings).interval)
    since = max(_checked_until.get(id(state), until - interval), until - 2 * interval)
    async with state.db.write() as conn:
        await alerts.raise_sla_risks(conn, since, until)
    _checked_until[id(state)] = until


SERVICE = Service("queue-sla", check_slas, lambda settings: DEFAULT_INTERVAL, summary=__doc__ or "")
