"""Package feeds: the package versions uploaded to each feed, and the versions releases went through.

A feed is named by ``feed``: ``processes`` (the tenant's processes feed), ``libraries`` (the tenant's
libraries feed) or ``folder:<folder id>`` (the own feed of a top-level folder whose FeedType is
FolderHierarchy). The metadata is read from the package once, at upload.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from podium.db.schema import _id, _tenant, metadata
from podium.db.types import UTCDateTime

package_versions = Table(
    "package_versions",
    metadata,
    _id(),
    _tenant(),
    Column("feed", String(48), nullable=False),
    # the folder owning the feed (folder feeds only): its rows go with it
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE")),
    Column("package_id", String(128), nullable=False),  # as the nuspec spells it
    Column("package_id_lower", String(128), nullable=False),  # NuGet ids are case-insensitive
    Column("version", String(64), nullable=False),
    Column("version_normalized", String(64), nullable=False),  # 1.0 == 1.0.0: duplicates are refused
    Column("key", String(200), nullable=False),  # "<id>:<version>", Orchestrator's ProcessDto.Key
    Column("is_latest_version", Boolean, nullable=False, default=False),
    Column("is_prerelease", Boolean, nullable=False, default=False),
    Column("kind", String(32)),  # uipath-python | python | robotframework; NULL for libraries
    Column("title", String(256)),
    Column("description", Text),
    Column("authors", String(512)),
    Column("release_notes", Text),
    Column("tags", String(512)),
    Column("main_entry_point", String(512)),
    Column("supports_multiple_entry_points", Boolean, nullable=False, default=False),
    Column("entry_points", Text),  # JSON: [EntryPointDto]
    Column("arguments", Text),  # JSON: ArgumentMetadata {"Input": "<schema>", "Output": "<schema>"}
    Column("dependencies", Text),  # JSON: ["requests>=2", ...]
    Column("package_size", BigInteger, nullable=False),
    Column("file_name", String(512), nullable=False),  # relative to the package store
    Column("published", UTCDateTime, nullable=False),
    Column("creator_user_id", BigInteger),
    UniqueConstraint("tenant_id", "feed", "package_id_lower", "version_normalized"),
)
Index(
    "ix_package_versions_package",
    package_versions.c.tenant_id,
    package_versions.c.feed,
    package_versions.c.package_id_lower,
)

release_versions = Table(
    "release_versions",
    metadata,
    _id(),
    Column(
        "release_id", BigInteger, ForeignKey("releases.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("version_number", String(64), nullable=False),
    Column("release_name", String(256)),
    Column("creation_time", UTCDateTime, nullable=False),
)
