"""Every table of Podium, as SQLAlchemy Core. Migrations in ``db/migrations`` are generated from this.

Conventions: integer ids (``BigInteger``, identity), a ``tenant_id`` on every tenant-owned row, a
``folder_id`` on folder-owned rows, enums stored as small integers, times as :class:`UTCDateTime`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false

from podium.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> Column[int]:
    return Column("id", BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True)


def _tenant() -> Column[int]:
    return Column("tenant_id", BigInteger, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False)


def _folder() -> Column[int]:
    return Column("folder_id", BigInteger, ForeignKey("folders.id"), nullable=False)


def _tags() -> Column[str]:
    """TagDto list as JSON text (``domain/tags.py``)."""
    return Column("tags", Text, nullable=False, server_default="[]")


def _audit() -> list[Column[object]]:
    return [
        Column("creation_time", UTCDateTime, nullable=False),
        Column("last_modification_time", UTCDateTime),
        Column("creator_user_id", BigInteger),
        Column("last_modifier_user_id", BigInteger),
    ]


tenants = Table(
    "tenants",
    metadata,
    _id(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("display_name", String(128)),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("creation_time", UTCDateTime, nullable=False),
    Column("admin_user_key", String(36)),  # the key of the administrator made with the tenant
    Column("last_login_time", UTCDateTime),  # its users' last sign-in (TenantDto.LastLoginTime)
)

folders = Table(
    "folders",
    metadata,
    _id(),
    _tenant(),
    Column("key", String(36), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("fully_qualified_name", String(1024), nullable=False),
    Column("description", String(500)),
    Column("parent_id", BigInteger, ForeignKey("folders.id")),
    Column("folder_type", SmallInteger, nullable=False, default=0),
    Column("provision_type", SmallInteger, nullable=False, default=0),
    Column("permission_model", SmallInteger, nullable=False, default=1),
    Column("feed_type", SmallInteger, nullable=False, default=0),
    # a personal workspace's user (FolderType Personal); kept when it is converted to a standard folder
    Column("owner_user_id", BigInteger, index=True),
    *_audit(),
    UniqueConstraint("tenant_id", "fully_qualified_name"),
)

users = Table(
    "users",
    metadata,
    _id(),
    _tenant(),
    Column("key", String(36), nullable=False, unique=True),
    Column("user_name", String(256), nullable=False),
    Column("name", String(64)),
    Column("surname", String(64)),
    Column("email_address", String(256)),
    Column("password_hash", String(256)),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("type", SmallInteger, nullable=False, default=0),
    Column("last_login_time", UTCDateTime),
    *_audit(),
    UniqueConstraint("tenant_id", "user_name"),
)

roles = Table(
    "roles",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(64), nullable=False),
    Column("display_name", String(64)),
    Column("type", SmallInteger, nullable=False, default=0),
    Column("is_static", Boolean, nullable=False, default=False),
    Column("is_editable", Boolean, nullable=False, default=True),
    *_audit(),
    UniqueConstraint("tenant_id", "name"),
)

role_permissions = Table(
    "role_permissions",
    metadata,
    _id(),
    Column("role_id", BigInteger, ForeignKey("roles.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("is_granted", Boolean, nullable=False, default=True),
    UniqueConstraint("role_id", "name"),
)

user_roles = Table(
    "user_roles",
    metadata,
    _id(),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role_id", BigInteger, ForeignKey("roles.id", ondelete="CASCADE"), nullable=False),
    # NULL: the role holds across the tenant (and every folder); else in this folder and below it.
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE")),
    UniqueConstraint("user_id", "role_id", "folder_id"),
)

folder_users = Table(
    "folder_users",
    metadata,
    _id(),
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    UniqueConstraint("folder_id", "user_id"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    _id(),
    _tenant(),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE")),
    Column("name", String(128), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # "pat" (personal access token)
    Column("expires_at", UTCDateTime),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("last_used_time", UTCDateTime),
    Column("creation_time", UTCDateTime, nullable=False),
)

# failed sign-ins of a user in a row, and until when it is locked out (podium.domain.account); a row of
# its own so that a failed sign-in never writes the user's row
user_lockouts = Table(
    "user_lockouts",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("failed_count", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime),
    Column("last_failure_time", UTCDateTime, nullable=False),
)

external_apps = Table(
    "external_apps",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(128), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("secret_hash", String(256), nullable=False),
    # the app acts as this (robot-type) user, whose roles decide what it may do
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("creation_time", UTCDateTime, nullable=False),
)

machines = Table(
    "machines",
    metadata,
    _id(),
    _tenant(),
    _tags(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("description", String(500)),
    Column("type", SmallInteger, nullable=False, default=0),
    Column("scope", SmallInteger, nullable=False, default=0),
    Column("license_key", String(64), unique=True),
    Column("client_id", String(64), unique=True),
    Column("client_secret_hash", String(256)),
    Column("non_production_slots", Integer, nullable=False, default=0),
    Column("unattended_slots", Integer, nullable=False, default=1),
    *_audit(),
    UniqueConstraint("tenant_id", "name"),
)

robots = Table(
    "robots",
    metadata,
    _id(),
    _tenant(),
    Column("key", String(36), nullable=False, unique=True),
    Column("machine_id", BigInteger, ForeignKey("machines.id")),
    Column("machine_name", String(256)),
    Column("license_key", String(64)),
    Column("name", String(256), nullable=False),
    Column("username", String(256)),
    Column("external_name", String(256)),
    Column("description", String(500)),
    Column("type", SmallInteger, nullable=False, default=2),
    Column("hosting_type", SmallInteger, nullable=False, default=0),
    Column("provision_type", SmallInteger, nullable=False, default=0),
    Column("credential_type", SmallInteger, nullable=False, default=0),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("user_id", BigInteger, ForeignKey("users.id")),
    Column("robot_environments", Text, nullable=False, default=""),
    Column("execution_settings", Text),
    Column("limit_concurrent_execution", Boolean, nullable=False, default=False),
    *_audit(),
    UniqueConstraint("tenant_id", "name"),
)

folder_robots = Table(
    "folder_robots",
    metadata,
    _id(),
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column("robot_id", BigInteger, ForeignKey("robots.id", ondelete="CASCADE"), nullable=False, index=True),
    UniqueConstraint("folder_id", "robot_id"),
)

environments = Table(
    "environments",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("name", String(256), nullable=False),
    Column("description", String(500)),
    Column("type", SmallInteger, nullable=False, default=0),
    *_audit(),
    UniqueConstraint("folder_id", "name"),
)

environment_robots = Table(
    "environment_robots",
    metadata,
    _id(),
    Column("environment_id", BigInteger, ForeignKey("environments.id", ondelete="CASCADE"), nullable=False),
    Column("robot_id", BigInteger, ForeignKey("robots.id", ondelete="CASCADE"), nullable=False, index=True),
    UniqueConstraint("environment_id", "robot_id"),
)

releases = Table(
    "releases",
    metadata,
    _id(),
    _tenant(),
    _tags(),
    _folder(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("process_key", String(256), nullable=False),
    Column("process_version", String(64), nullable=False, default=""),
    Column("is_latest_version", Boolean, nullable=False, default=False),
    Column("is_process_deleted", Boolean, nullable=False, default=False),
    Column("description", String(500)),
    Column("environment_id", BigInteger, ForeignKey("environments.id")),
    Column("environment_name", String(256)),
    Column("entry_point_path", String(512)),
    Column("input_arguments", Text),
    Column("process_type", SmallInteger, nullable=False, default=1),
    Column("job_priority", SmallInteger, nullable=False, default=1),
    Column("specific_priority_value", Integer),
    Column("requires_user_interaction", Boolean, nullable=False, default=False),
    Column("is_attended", Boolean, nullable=False, default=False),
    *_audit(),
    UniqueConstraint("folder_id", "name"),
)

jobs = Table(
    "jobs",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("key", String(36), nullable=False, unique=True),
    Column("release_id", BigInteger, ForeignKey("releases.id")),
    Column("release_name", String(256)),
    Column("robot_id", BigInteger, ForeignKey("robots.id")),
    Column("machine_id", BigInteger, ForeignKey("machines.id")),
    Column("state", SmallInteger, nullable=False, default=0),
    Column("source", String(128), nullable=False, default="Manual"),
    Column("source_type", SmallInteger, nullable=False, default=0),
    Column("type", SmallInteger, nullable=False, default=0),
    Column("runtime_type", SmallInteger, nullable=False, default=2),
    Column("batch_execution_key", String(36), nullable=False),
    Column("info", Text),
    Column("creation_time", UTCDateTime, nullable=False),
    Column("start_time", UTCDateTime),
    Column("end_time", UTCDateTime),
    Column("last_modification_time", UTCDateTime),
    Column("starting_schedule_id", BigInteger),
    Column("input_arguments", Text),
    Column("output_arguments", Text),
    Column("host_machine_name", String(256)),
    Column("job_priority", SmallInteger, nullable=False, default=1),
    Column("specific_priority_value", Integer),
    Column("stop_strategy", SmallInteger),
    Column("reference", String(128)),
    Column("entry_point_path", String(512)),
    Column("resume_version", Integer),
    Column("persistence_id", String(36)),
    Column("resume_time", UTCDateTime),
    # ResumeOnSameContext: a resumed job goes back to the robot (so the machine) it suspended on
    Column("resume_on_same_context", Boolean, nullable=False, default=False, server_default=false()),
    Column("creator_user_id", BigInteger),
    Column("requires_user_interaction", Boolean, nullable=False, default=False),
    Column("kill_process_expression", String(64)),
    Column("stop_process_expression", String(64)),
)

# Indexes for the documented filters: by robot and state, by folder newest first, pending per robot.
# Every query carries the tenant: leading with it lets counts be index-only scans. A folder-scoped query
# (the SDK's, a robot's: any request with a folder header) also carries ``folder_id IN (...)``, which
# PostgreSQL checks from the index too when the index includes the column (migration 0030); without it a
# count read the table's row of every match (benchmarks/odata_jobs.py: 10x the PostgreSQL time).
FOLDER_INCLUDED = ["folder_id"]
Index(
    "ix_jobs_robot_state",
    jobs.c.tenant_id,
    jobs.c.robot_id,
    jobs.c.state,
    jobs.c.id,
    postgresql_include=FOLDER_INCLUDED,
)
# a robot's jobs in the pages' order (Robot/Id, Robot/Id + EndTime: no state): with only
# robot/state, PostgreSQL walked the whole table by id until it found a page of that robot's jobs
Index("ix_jobs_robot", jobs.c.tenant_id, jobs.c.robot_id, jobs.c.id, postgresql_include=FOLDER_INCLUDED)
Index("ix_jobs_folder_id", jobs.c.folder_id, jobs.c.id)
Index("ix_jobs_tenant_state", jobs.c.tenant_id, jobs.c.state, jobs.c.id, postgresql_include=FOLDER_INCLUDED)
Index("ix_jobs_release", jobs.c.tenant_id, jobs.c.release_id, jobs.c.id, postgresql_include=FOLDER_INCLUDED)
Index("ix_jobs_creation_time", jobs.c.tenant_id, jobs.c.creation_time, postgresql_include=FOLDER_INCLUDED)
# the triggers' pending-job rule (PerTrigger, PerProcess): without them a fire read every Pending job
Index("ix_jobs_schedule_state", jobs.c.starting_schedule_id, jobs.c.state)
Index(
    "ix_jobs_release_state",
    jobs.c.tenant_id,
    jobs.c.release_id,
    jobs.c.state,
    postgresql_include=FOLDER_INCLUDED,
)
Index("ix_releases_environment", releases.c.environment_id)
Index("ix_robots_machine", robots.c.machine_id)

# Domain events, written in the transaction that caused them: the outbox the webhook fan-out reads (only
# events of tenants with an enabled webhook are written, domain/events.py).
events = Table(
    "events",
    metadata,
    _id(),
    Column("tenant_id", BigInteger, nullable=False),
    Column("folder_id", BigInteger),
    Column("type", String(64), nullable=False),
    Column("entity_key", String(64)),
    Column("payload", Text, nullable=False),
    Column("creation_time", UTCDateTime, nullable=False),
    Column("dispatched", Boolean, nullable=False, default=False),
)
# only the events not dispatched yet (issue 11): the fan-out reads them oldest first; marking one
# dispatched adds no entry here, and the index stays as small as the backlog, not the table's history
Index(
    "ix_events_pending",
    events.c.id,
    postgresql_where=events.c.dispatched.is_(False),
    sqlite_where=events.c.dispatched.is_(False),
)

exports = Table(
    "exports",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(256), nullable=False),
    Column("type", SmallInteger, nullable=False),
    Column("status", SmallInteger, nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("executed_at", UTCDateTime),
    Column("size", BigInteger),
    Column("content", Text),
    Column("creator_user_id", BigInteger),
)
