"""Tables of the Assets area: assets, their per-robot and per-user values, the folders they are
shared to, and credential stores.

Every value row has the same value columns; ``secret`` holds the sealed password (credentials) or
value (secrets), never clear text (see ``podium.domain.crypto``).
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


def _value_columns() -> list[Column[object]]:
    return [
        Column("value_type", SmallInteger, nullable=False),
        Column("value", Text),  # Orchestrator's derived ``Value`` text
        Column("string_value", Text),
        Column("bool_value", Boolean, nullable=False, default=False),
        Column("int_value", BigInteger, nullable=False, default=0),
        Column("credential_username", String(512)),
        Column("secret", Text),  # sealed: "pe1:<key id>:<nonce|ciphertext|tag>"
        Column("key_value_list", Text),  # JSON list of {"Key", "Value"}
    ]


credential_stores = Table(
    "credential_stores",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(256), nullable=False),
    Column("type", String(64), nullable=False),  # "Database" (built in); others: API shape only
    Column("proxy_id", BigInteger),
    Column("host_name", String(256)),
    Column("additional_configuration", Text),
    Column("is_read_only", Boolean, nullable=False, default=False),
    Column("is_builtin", Boolean, nullable=False, default=False),
    *_audit(),
    UniqueConstraint("tenant_id", "name"),
)

credential_store_defaults = Table(
    "credential_store_defaults",
    metadata,
    _id(),
    _tenant(),
    Column("resource_type", SmallInteger, nullable=False),
    Column(
        "credential_store_id",
        BigInteger,
        ForeignKey("credential_stores.id", ondelete="CASCADE"),
        nullable=False,
    ),
    UniqueConstraint("tenant_id", "resource_type"),
)

assets = Table(
    "assets",
    metadata,
    _id(),
    _tenant(),
    _folder(),  # the folder the asset was created in; asset_folders lists every folder it is in
    Column("key", String(36), nullable=False, unique=True),
    Column("name", String(256), nullable=False),
    Column("description", String(1000)),
    Column("value_scope", SmallInteger, nullable=False, default=0),
    *_value_columns(),
    Column("has_default_value", Boolean, nullable=False, default=True),
    Column("allow_direct_api_access", Boolean, nullable=False, default=False),
    Column("credential_store_id", BigInteger, ForeignKey("credential_stores.id")),
    Column("external_name", String(256)),
    Column("tags", Text),  # JSON list of TagDto
    Column("folders_count", Integer, nullable=False, default=1),
    *_audit(),
    UniqueConstraint("folder_id", "name"),
)

asset_folders = Table(
    "asset_folders",
    metadata,
    _id(),
    Column("asset_id", BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("asset_id", "folder_id"),
)
Index("ix_asset_folders_folder", asset_folders.c.folder_id, asset_folders.c.asset_id)

asset_robot_values = Table(
    "asset_robot_values",
    metadata,
    _id(),
    Column("asset_id", BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("robot_id", BigInteger, ForeignKey("robots.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("robot_name", String(256)),
    *_value_columns(),
    UniqueConstraint("asset_id", "robot_id"),
)

asset_user_values = Table(
    "asset_user_values",
    metadata,
    _id(),
    Column("asset_id", BigInteger, ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_name", String(256)),
    Column("machine_id", BigInteger, ForeignKey("machines.id", ondelete="CASCADE")),
    Column("machine_name", String(256)),
    *_value_columns(),
    UniqueConstraint("asset_id", "user_id", "machine_id"),
)
