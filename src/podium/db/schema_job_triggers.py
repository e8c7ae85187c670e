"""Tables of suspended jobs: what each waits for (``job_triggers``) and the runtime state its process
left to be resumed with (``job_runtime_states``).

A trigger row is one wait of one suspension of a job (``resume_version``: the job's ResumeVersion
when it suspended): a task (``item_id`` = task id), another job (``item_id`` = that job's id), a
time (``timer``) or an inbox for an external payload (``inbox_id``, also answered as ``ItemKey``).
``interrupt_id`` is the runtime's own name for the wait (the ``uipath`` runtime's ``interruptId``);
``payload`` holds what fired it (the task's data, the job's outcome, the delivered body) as JSON text.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)

from podium.db.schema import _id, _tenant, metadata
from podium.db.types import UTCDateTime

job_triggers = Table(
    "job_triggers",
    metadata,
    _id(),
    _tenant(),
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("folder_id", BigInteger, nullable=False),  # the job's folder (permissions)
    Column("trigger_type", SmallInteger, nullable=False),  # JobTriggerType
    Column("status", SmallInteger, nullable=False, default=0),  # JobTriggerStatus
    Column("resume_version", Integer, nullable=False, default=0),
    Column("interrupt_id", String(128)),
    Column("item_id", BigInteger),
    Column("item_key", String(64)),
    Column("item_name", String(512)),
    Column("item_folder_path", String(512)),  # where the waited-for item lives, as the runtime named it
    Column("timer", UTCDateTime),
    Column("inbox_id", String(64)),
    Column("trigger_message", Text),
    Column("payload", Text),
    Column("creation_time", UTCDateTime, nullable=False),
    Column("modified_time", UTCDateTime),
)
Index("ix_job_triggers_job", job_triggers.c.job_id, job_triggers.c.id)
# The lookups when a condition is met: a task completed or a job ended (by id), a payload (by inbox),
# the due timers (by time).
Index("ix_job_triggers_item", job_triggers.c.trigger_type, job_triggers.c.item_id, job_triggers.c.status)
Index("ix_job_triggers_inbox", job_triggers.c.inbox_id)
Index("ix_job_triggers_timer", job_triggers.c.status, job_triggers.c.timer)

job_runtime_states = Table(
    "job_runtime_states",
    metadata,
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    _tenant(),
    Column("resume_version", Integer, nullable=False, default=0),
    Column("data", LargeBinary, nullable=False),  # a tar.gz of the runtime's state folder
    Column("modified_time", UTCDateTime, nullable=False),
)
