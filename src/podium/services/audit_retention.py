"""The audit retention sweep: each tenant's audit log entries older than its ``Audit.RetentionDays``
setting (``PODIUM_AUDIT_RETENTION_DAYS``, 365; 0 keeps them) are deleted, in batches of their own
transactions. Every ``PODIUM_AUDIT_RETENTION_INTERVAL`` seconds (1 h); one server process at a time."""

from __future__ import annotations

import datetime as dt
import logging

from podium.db.types import utcnow
from podium.domain import audit_logs
from podium.http.state import AppState
from podium.services.base import Service

log = logging.getLogger("podium.audit")


async def sweep_audit_log(state: AppState) -> None:
    async with state.db.read() as conn:
        kept = await audit_logs.retention_days(conn)
    now = utcnow()
    for tenant_id, days in kept:
        if days <= 0:
            continue
        cutoff, deleted = now - dt.timedelta(days=days), audit_logs.RETENTION_BATCH
        total = 0
        while deleted == audit_logs.RETENTION_BATCH:
            async with state.db.write() as conn:
                deleted = await audit_logs.delete_older_than(conn, tenant_id, cutoff)
            total += deleted
        if total:
            log.info(
                "audit retention: %d entries older than %d days deleted in tenant %d", total, days, tenant_id
            )


SERVICE = Service("audit-retention", sweep_audit_log, lambda settings: 3600.0, summary=__doc__ or "")
