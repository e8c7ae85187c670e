"""Tables kept beside jobs: each release's job retention policy, and the media (screenshots) a robot
uploads for a job.

``release_retention`` has one row per release (made with the release; Orchestrator's built-in policy until
someone sets another), in the release's folder so that the folder's Processes permissions govern it.
``execution_media`` rows name files of the attachment store (``storage_location``); a row goes with its
job (ON DELETE CASCADE) and whoever deletes jobs removes the files (``domain/execution_media.py``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, SmallInteger, String, Table

from podium.db.schema import _folder, _id, _tenant, metadata
from podium.db.types import UTCDateTime

release_retention = Table(
    "release_retention",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column(
        "release_id", BigInteger, ForeignKey("releases.id", ondelete="CASCADE"), nullable=False, unique=True
    ),
    Column("action", SmallInteger, nullable=False, default=0),  # RetentionAction: Delete, Archive, None
    Column("period", Integer, nullable=False, default=30),  # days
    Column("bucket_id", BigInteger),
    Column("last_run_time", UTCDateTime),
)

execution_media = Table(
    "execution_media",
    metadata,
    _id(),
    _tenant(),
    _folder(),
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("storage_location", String(1024), nullable=False),  # the file's path in the attachment store
    Column("content_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("creation_time", UTCDateTime, nullable=False),
)
Index("ix_execution_media_job", execution_media.c.job_id, execution_media.c.id)
