"""Every table module of Podium, imported so that ``metadata`` is complete (migrations, tests)."""

from __future__ import annotations

from podium.db import (
    schema,
    schema_assets,  # noqa: F401
    schema_audit,  # noqa: F401
    schema_buckets,  # noqa: F401
    schema_calendars,  # noqa: F401
    schema_folders,  # noqa: F401
    schema_host,  # noqa: F401
    schema_job_triggers,  # noqa: F401
    schema_jobs,  # noqa: F401
    schema_licensing,  # noqa: F401
    schema_packages,  # noqa: F401
    schema_process_schedules,  # noqa: F401
    schema_queues,  # noqa: F401
    schema_robots,  # noqa: F401
    schema_settings,  # noqa: F401
    schema_tasks,  # noqa: F401
    schema_webhooks,  # noqa: F401
)

metadata = schema.metadata
