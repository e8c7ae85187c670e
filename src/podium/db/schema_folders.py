"""Tables of folders beyond the folder row: machines assigned to folders (``domain/folder_machines.py``)
and the administrators exploring someone's personal workspace (``domain/personal_workspaces.py``).

A personal workspace is a row of ``folders`` (FolderType Personal) whose ``owner_user_id`` is its user.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Table, UniqueConstraint

from podium.db.schema import _id, metadata
from podium.db.types import UTCDateTime

folder_machines = Table(
    "folder_machines",
    metadata,
    _id(),
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE"), nullable=False),
    Column(
        "machine_id", BigInteger, ForeignKey("machines.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    # True: the machine is also available in every subfolder (ToggleFolderMachineInherit)
    Column("propagate_to_subfolders", Boolean, nullable=False, default=False),
    UniqueConstraint("folder_id", "machine_id"),
)

workspace_explorers = Table(
    "workspace_explorers",
    metadata,
    Column("folder_id", BigInteger, ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("start_time", UTCDateTime, nullable=False),
)
