"""Tables of Action Center: tasks, their catalogs, notes and activities; attachments and their links to jobs.

A task lives in one folder. ``status`` is the Orchestrator number (Unassigned 0, Pending 1, Completed 2),
changed only by ``domain/task_states.py``; ``data``, ``tags`` and ``form_layout`` are JSON text. A deleted
task stays (``is_deleted``): a process waiting for it must learn that it was deleted.

An attachment is a file of the tenant's attachment store (``<data dir>/attachments``, the same blob stores
as buckets) named by its ``key`` (a GUID, the DTO's ``Id``); ``job_attachments`` links it to jobs.
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

from podium.db.schema import _audit, _folder, _id, _tenant, metadata
from podium.db.types import UTCDateTime

task_catalogs = Table(
    "task_catalogs",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("description", String(512)),
    Column("encrypted", Boolean, nullable=False, default=False),
    Column("tags", Text),
    Column("retention_action", SmallInteger, nullable=False, default=2),
    Column("retention_period", Integer),
    *_audit(),
    UniqueConstraint("folder_id", "name"),
)

tasks = Table(
    "tasks",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("key", String(36), nullable=False, unique=True),
    Column("title", String(512), nullable=False),
    Column("type", SmallInteger, nullable=False),
    Column("priority", SmallInteger, nullable=False, default=1),
    Column("status", SmallInteger, nullable=False, default=0),
    Column("is_completed", Boolean, nullable=False, default=False),  # status == Completed, for TaskDto
    Column("data", Text, nullable=False),
    Column("action", String(256)),
    Column("external_tag", String(256)),
    Column("tags", Text),
    Column("task_catalog_id", BigInteger, ForeignKey("task_catalogs.id", ondelete="SET NULL")),
    Column("task_catalog_name", String(128)),  # the catalog's name, kept with it (TaskDto.TaskCatalogName)
    Column("form_layout", Text),
    Column("form_layout_id", BigInteger),
    Column("bulk_form_layout_id", BigInteger),
    Column("task_schema_key", String(128)),
    Column("app_id", String(256)),
    Column("app_version", Integer),
    Column("assigned_to_user_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("last_assigned_time", UTCDateTime),
    Column("completion_time", UTCDateTime),
    Column("completed_by_user_id", BigInteger),
    Column("creator_job_key", String(36)),
    Column("wait_job_key", String(36)),
    Column("parent_operation_id", String(128)),
    Column("is_deleted", Boolean, nullable=False, default=False),
    Column("deleter_user_id", BigInteger),
    Column("deletion_time", UTCDateTime),
    *_audit(),
)
Index("ix_tasks_folder_status", tasks.c.folder_id, tasks.c.status)
Index("ix_tasks_assigned_to_user_id", tasks.c.assigned_to_user_id)

task_notes = Table(
    "task_notes",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("task_id", BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("key", String(36), nullable=False),
    Column("text", String(4000), nullable=False),
    Column("creator_user_id", BigInteger),
    Column("creation_time", UTCDateTime, nullable=False),
)

task_activities = Table(
    "task_activities",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("task_id", BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("key", String(36), nullable=False),
    Column("activity_type", SmallInteger, nullable=False),
    Column("creator_user_id", BigInteger),
    Column("target_user_id", BigInteger),
    Column("task_note_id", BigInteger),
    Column("creation_time", UTCDateTime, nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(512), nullable=False),
    *_audit(),
)

job_attachments = Table(
    "job_attachments",
    metadata,
    _id(),
    _tenant(),
    Column("attachment_id", BigInteger, ForeignKey("attachments.id", ondelete="CASCADE"), nullable=False),
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("category", String(128)),
    Column("creation_time", UTCDateTime, nullable=False),
    Column("creator_user_id", BigInteger),
    UniqueConstraint("attachment_id", "job_id"),
)
