"""Tables of what Podium tells about itself: the audit log (every change made through the API) and the
alerts of each user.

An audit entry is written in the transaction of the change it records (``domain/audit_logs.py``), so a
change that fails leaves none. An alert is copied to every user who may see it when it is raised
(``domain/alerts.py``): each copy carries that user's ``UserNotificationId`` and read state.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, SmallInteger, String, Table, Text

from podium.db.schema import _id, _tenant, metadata
from podium.db.types import UTCDateTime

audit_logs = Table(
    "audit_logs",
    metadata,
    _id(),
    _tenant(),
    Column("service_name", String(128), nullable=False),
    Column("method_name", String(128), nullable=False),
    Column("parameters", Text),  # JSON of the call's arguments, secrets redacted
    Column("execution_time", UTCDateTime, nullable=False),
    Column("action", SmallInteger, nullable=False),  # AuditAction
    Column("component", SmallInteger, nullable=False),  # AuditComponent
    Column("display_name", String(512)),
    Column("entity_id", BigInteger),
    Column("operation_text", Text, nullable=False),
    Column("user_name", String(256)),
    Column("user_type", SmallInteger, nullable=False),  # AuditUserType
    Column("user_id", BigInteger),
    Column("user_is_deleted", Boolean, nullable=False, default=False),  # set when the user is deleted
    Column("external_client_id", String(64)),
)
Index("ix_audit_logs_tenant_time", audit_logs.c.tenant_id, audit_logs.c.execution_time)

audit_log_entities = Table(
    "audit_log_entities",
    metadata,
    _id(),
    Column(
        "audit_log_id",
        BigInteger,
        ForeignKey("audit_logs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("entity_id", BigInteger),
    Column("entity_name", String(128), nullable=False),
    Column("action", SmallInteger, nullable=False),  # AuditAction
    Column("custom_data", Text),
)

# one row per user the alert was raised for: that user's notification of it
alert_notifications = Table(
    "alert_notifications",
    metadata,
    _id(),
    _tenant(),
    Column("key", String(36), nullable=False, unique=True),  # UserNotificationId
    Column("alert_key", String(36), nullable=False),  # Id: the same for every user's copy
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE")),
    Column("notification_name", String(128), nullable=False),
    Column("data", Text),
    Column("component", SmallInteger, nullable=False),  # AlertComponent
    Column("severity", SmallInteger, nullable=False),  # AlertSeverity
    Column("creation_time", UTCDateTime, nullable=False),
    Column("state", SmallInteger, nullable=False, default=0),  # AlertState: Unread, Read
    Column("deep_link", String(512)),
)
Index(
    "ix_alert_notifications_user",
    alert_notifications.c.user_id,
    alert_notifications.c.state,
    alert_notifications.c.creation_time,
)
