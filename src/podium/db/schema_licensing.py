"""Tables of licence use (``domain/licensing.py``): Podium takes no licence, but it keeps what changes the
use it reports.

- ``disabled_runtimes``: a machine's runtimes of one robot type taken out of licensing
  (``LicensesRuntime ToggleEnabled``): they are not available, and that machine's robots of that type get
  no jobs (``domain/dispatch.py``).
- ``license_units``: units a robot (or a user) acquired through ``/api/Licensing/Acquire`` under a
  reference, until ``Release``; they count as used.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, SmallInteger, String, Table, UniqueConstraint

from podium.db.schema import _id, _tenant, metadata
from podium.db.types import UTCDateTime

disabled_runtimes = Table(
    "disabled_runtimes",
    metadata,
    _id(),
    _tenant(),
    Column("machine_id", BigInteger, ForeignKey("machines.id", ondelete="CASCADE"), nullable=False),
    Column("robot_type", SmallInteger, nullable=False),  # RobotType
    UniqueConstraint("machine_id", "robot_type"),
)

license_units = Table(
    "license_units",
    metadata,
    _id(),
    _tenant(),
    Column("reference", String(256), nullable=False),
    Column("robot_type", SmallInteger, nullable=False),  # RobotType
    Column("count", Integer, nullable=False),
    # the robot that acquired them (None: a user); its live session is not counted besides its units
    Column("robot_id", BigInteger, ForeignKey("robots.id", ondelete="CASCADE")),
    Column("acquired_time", UTCDateTime, nullable=False),
    UniqueConstraint("tenant_id", "reference", "robot_type"),
)
