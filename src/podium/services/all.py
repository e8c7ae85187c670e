"""The one list of background services every server process starts (see ``runner.py``)."""

from __future__ import annotations

from podium.services import (
    audit_retention,
    job_retention,
    job_timers,
    queue_abandon,
    queue_retention,
    queue_sla,
    queue_triggers,
    robot_sweep,
    robot_wakeups,
    triggers,
    webhooks,
)
from podium.services.base import Service

SERVICES: tuple[Service, ...] = (
    robot_wakeups.SERVICE,
    robot_sweep.SERVICE,
    queue_abandon.SERVICE,
    queue_retention.SERVICE,
    job_timers.SERVICE,
    queue_sla.SERVICE,
    audit_retention.SERVICE,
    job_retention.SERVICE,
    triggers.SERVICE,
    queue_triggers.SERVICE,
    webhooks.FANOUT,
    webhooks.DELIVERY,
    webhooks.RETENTION,
)
