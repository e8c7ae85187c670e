"""Tables of the Storage buckets area: buckets and the folders each one is shared to.

``buckets.folder_id`` is the folder the bucket was created in; ``bucket_folders`` lists every folder
that sees it (the creation folder included), which is what reads are scoped by. ``secret`` holds the
sealed secret access key of an S3-compatible store, never clear text.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from podium.db.schema import _audit, _folder, _id, _tags, _tenant, metadata

buckets = Table(
    "buckets",
    metadata,
    _id(),
    _tenant(),
    _tags(),
    _folder(),
    Column("identifier", String(36), nullable=False),
    Column("name", String(128), nullable=False),
    Column("description", String(512)),
    Column("storage_provider", String(64)),  # None: Podium's own local storage ("Orchestrator")
    Column("storage_parameters", String(2048)),
    Column("storage_container", String(512)),
    Column("options", SmallInteger, nullable=False, default=0),
    Column("credential_store_id", BigInteger),
    Column("external_name", String(512)),
    Column("secret", Text),
    Column("folders_count", Integer, nullable=False, default=1),
    *_audit(),
    UniqueConstraint("tenant_id", "identifier"),
)

bucket_folders = Table(
    "bucket_folders",
    metadata,
    Column("bucket_id", BigInteger, ForeignKey("buckets.id", ondelete="CASCADE"), primary_key=True),
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    _tenant(),
)
