"""Tables of the queues area: queue definitions (and the folders they are shared to), their items,
the items' history and comments, and per-queue retention settings.

The dequeue reads one index: ``ix_queue_items_dequeue`` orders a queue's ``New`` items exactly as
StartTransaction hands them out (items with a DueDate first, then by Priority, DueDate, Id), so
picking the next item is one index descent whatever the size of the queue. ``unique_reference``
holds the Reference of an original (not retried, not deleted) item of a queue that enforces unique
references, NULL otherwise: the unique constraint on it makes duplicates impossible even when two
servers add the same reference at the same moment.
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

queue_definitions = Table(
    "queue_definitions",
    metadata,
    _id(),
    _tenant(),
    _tags(),
    _folder(),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(512), nullable=False),
    Column("description", String(750)),
    Column("max_number_of_retries", Integer, nullable=False, default=0),
    Column("accept_automatically_retry", Boolean, nullable=False, default=False),
    Column("enforce_unique_reference", Boolean, nullable=False, default=False),
    Column("encrypted", Boolean, nullable=False, default=False),
    Column("specific_data_json_schema", Text),
    Column("output_data_json_schema", Text),
    Column("analytics_data_json_schema", Text),
    Column("sla_in_minutes", Integer, nullable=False, default=0),
    Column("risk_sla_in_minutes", Integer, nullable=False, default=0),
    Column("release_id", BigInteger),
    Column("process_schedule_id", BigInteger),
    Column("folders_count", Integer, nullable=False, default=1),  # rows of queue_definition_folders
    *_audit(),
    UniqueConstraint("folder_id", "name"),
)

# every folder that sees a queue (its creation folder included): reads of QueueDefinitions are scoped
# by it (EntitySet.shared_through), as bucket_folders does for buckets
queue_definition_folders = Table(
    "queue_definition_folders",
    metadata,
    Column(
        "queue_definition_id",
        BigInteger,
        ForeignKey("queue_definitions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    _tenant(),
)
Index("ix_queue_definition_folders_folder", queue_definition_folders.c.folder_id)

queue_items = Table(
    "queue_items",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column(
        "queue_definition_id",
        BigInteger,
        ForeignKey("queue_definitions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # the queue's name, kept equal to it, so that `$filter=QueueDefinitionName eq '…'` (the SDK) is a column
    Column("queue_definition_name", String(512), nullable=False),
    Column("key", String(36), nullable=False),  # shared by an item and its retries
    Column("unique_key", String(36), nullable=False),  # this attempt's own key
    Column("status", SmallInteger, nullable=False, default=0),
    Column("review_status", SmallInteger, nullable=False, default=0),
    Column("reviewer_user_id", BigInteger),
    Column("priority", SmallInteger, nullable=False, default=1),
    Column("due_order", SmallInteger, nullable=False, default=1),  # 0: has a DueDate (served first), 1: none
    Column("reference", String(128)),
    Column("unique_reference", String(128)),
    Column("specific_content", Text),
    Column("output", Text),
    Column("analytics", Text),
    Column("progress", Text),
    Column("processing_exception_type", SmallInteger),
    Column("processing_exception", Text),  # ProcessingExceptionDto as JSON
    Column("defer_date", UTCDateTime),
    Column("due_date", UTCDateTime),
    Column("risk_sla_date", UTCDateTime),
    Column("start_processing", UTCDateTime),
    Column("end_processing", UTCDateTime),
    Column("seconds_in_previous_attempts", Integer, nullable=False, default=0),
    Column("ancestor_id", BigInteger),
    Column("ancestor_unique_key", String(36)),
    Column("retry_number", Integer, nullable=False, default=0),
    Column("manual_ancestor_id", BigInteger),
    Column("manual_ancestor_unique_key", String(36)),
    Column("manual_retry_number", Integer, nullable=False, default=0),
    Column("robot_id", BigInteger, ForeignKey("robots.id", ondelete="SET NULL")),
    Column("processing_user_id", BigInteger),  # the caller that started the transaction (its holder)
    Column("source", String(128)),
    Column("parent_operation_id", String(128)),
    Column("operation_id", String(128)),
    *_audit(),
    UniqueConstraint("queue_definition_id", "unique_reference"),
)
Index(
    "ix_queue_items_dequeue",
    queue_items.c.queue_definition_id,
    queue_items.c.status,
    queue_items.c.due_order,
    queue_items.c.priority,
    queue_items.c.due_date,
    queue_items.c.id,
)
Index("ix_queue_items_reference", queue_items.c.queue_definition_id, queue_items.c.reference)
Index("ix_queue_items_status_start", queue_items.c.status, queue_items.c.start_processing)
Index("ix_queue_items_folder", queue_items.c.folder_id, queue_items.c.id)
Index("ix_queue_items_ancestor", queue_items.c.ancestor_id)

# The history carries its item's tenant and folder without foreign keys of its own: each key checked on
# insert share-locks the parent row, so every transaction of every robot would lock the same tenant row
# and folder row (a MultiXact and a WAL record each time, under contention). The item's keys already
# guarantee both, and the item's ON DELETE CASCADE removes its history (issue 11).
queue_item_events = Table(
    "queue_item_events",
    metadata,
    _id(),
    Column("tenant_id", BigInteger, nullable=False),
    Column("folder_id", BigInteger, nullable=False),
    Column("queue_item_id", BigInteger, ForeignKey("queue_items.id", ondelete="CASCADE"), nullable=False),
    Column("timestamp", UTCDateTime, nullable=False),
    Column("action", SmallInteger, nullable=False),
    Column("data", Text),
    Column("user_id", BigInteger),
    Column("user_name", String(256)),
    Column("status", SmallInteger, nullable=False),
    Column("review_status", SmallInteger, nullable=False, default=0),
    Column("reviewer_user_id", BigInteger),
    Column("reviewer_user_name", String(256)),
    Column("external_client_id", String(64)),
)
Index("ix_queue_item_events_item", queue_item_events.c.queue_item_id, queue_item_events.c.id)

queue_item_comments = Table(
    "queue_item_comments",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("queue_item_id", BigInteger, ForeignKey("queue_items.id", ondelete="CASCADE"), nullable=False),
    Column("text", String(512), nullable=False),
    Column("user_id", BigInteger),
    Column("user_name", String(256)),
    *_audit(),
)
Index("ix_queue_item_comments_item", queue_item_comments.c.queue_item_id)

# one row per queue, written when the queue is created (Orchestrator's built-in 30 days + Delete);
# folder_id is the queue's folder, so that the generic OData layer scopes QueueRetention like queues
queue_retention = Table(
    "queue_retention",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column(
        "queue_definition_id",
        BigInteger,
        ForeignKey("queue_definitions.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("action", SmallInteger, nullable=False, default=0),
    Column("period", Integer, nullable=False, default=30),
    Column("bucket_id", BigInteger),
    Column("last_run_time", UTCDateTime),
)
