"""Tables of the ProcessSchedules area (``domain/process_schedules.py``, ``domain/schedule_firing.py``,
``domain/queue_triggers.py``): a folder's triggers, time-based (cron) or queue-based.

The DTO's fields are stored as sent (``start_process_cron_details``, ``input_arguments`` are JSON text;
``executor_robots`` and ``machine_robots`` JSON lists). ``next_fire_at`` is the firing state: the UTC
instant of the next due fire of an enabled time trigger, NULL when it will not fire (disabled, a queue
trigger, past its StopProcessDate). A fire is claimed by moving ``next_fire_at`` from the value read to
the next one in a conditional UPDATE: only one server process wins it. CalendarName, ReleaseName and the
queue's name are joined from their tables when read, never copied.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from podium.db.schema import _audit, _folder, _id, _tags, _tenant, metadata
from podium.db.types import UTCDateTime

process_schedules = Table(
    "process_schedules",
    metadata,
    _id(),
    _tenant(),
    _tags(),
    _folder(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("description", String(500)),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("release_id", BigInteger, ForeignKey("releases.id", ondelete="CASCADE"), nullable=False),
    Column("job_priority", SmallInteger),  # NULL: the release's priority
    Column("specific_priority_value", Integer),
    Column("runtime_type", SmallInteger),
    Column("start_process_cron", String(256), nullable=False),
    Column("start_process_cron_details", Text),
    Column("start_process_cron_summary", String(512)),
    Column("start_strategy", Integer, nullable=False, default=1),
    Column("executor_robots", Text),  # JSON list of robot ids
    Column("machine_robots", Text),  # JSON list of MachineRobotSessionDto
    Column("stop_process_expression", String(64)),
    Column("stop_strategy", SmallInteger),
    Column("kill_process_expression", String(64)),
    Column("external_job_key", String(256)),
    Column("external_job_key_scheduler", String(256)),
    Column("time_zone_id", String(64), nullable=False),
    Column("time_zone_iana", String(64), nullable=False),
    Column("calendar_id", BigInteger, ForeignKey("calendars.id")),
    Column("stop_process_date", UTCDateTime),
    Column("input_arguments", Text),
    Column(
        "queue_definition_id", BigInteger, ForeignKey("queue_definitions.id", ondelete="CASCADE"), unique=True
    ),
    Column("activate_on_job_complete", Boolean, nullable=False, default=True),
    Column("items_activation_threshold", Integer),
    Column("items_per_job_activation_target", Integer),
    Column("max_jobs_for_activation", Integer),
    Column("resume_on_same_context", Boolean, nullable=False, default=False),
    Column("alert_pending_expression", String(64)),
    Column("alert_running_expression", String(64)),
    Column("run_as_me", Boolean, nullable=False, default=False),
    Column("consecutive_job_failures_threshold", Integer),
    Column("job_failures_grace_period_in_hours", Integer),
    # firing state (Podium's; answered read-only)
    Column("next_fire_at", UTCDateTime),
    Column("last_fire_time", UTCDateTime),
    Column("failed_launches", Integer, nullable=False, default=0),
    Column("failing_since", UTCDateTime),
    Column("disabled_reason", String(1024)),
    Column("last_misfire", String(1024)),
    *_audit(),
    UniqueConstraint("folder_id", "name"),
)
Index("ix_process_schedules_due", process_schedules.c.next_fire_at)
Index("ix_process_schedules_release", process_schedules.c.release_id)
