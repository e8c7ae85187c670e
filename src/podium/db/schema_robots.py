"""Tables of the robots' runtime: robot sessions (heartbeats), robot logs and leases.

A session is the live connection of one robot: which machine it runs on, when it last reported and
its state (``RobotState``). Robot logs are written in bulk by robots and job processes. A lease row
lets one server process of several run a periodic sweep.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, SmallInteger, String, Table, Text

from podium.db.schema import _id, _tenant, metadata
from podium.db.types import UTCDateTime

robot_sessions = Table(
    "robot_sessions",
    metadata,
    _id(),
    _tenant(),
    Column("robot_id", BigInteger, ForeignKey("robots.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("machine_id", BigInteger, ForeignKey("machines.id", ondelete="CASCADE")),
    Column("machine_name", String(256)),
    Column("host_machine_name", String(256)),
    Column("state", SmallInteger, nullable=False, default=3),  # RobotState
    Column("reporting_time", UTCDateTime, nullable=False),
    Column("connected_time", UTCDateTime, nullable=False),
    Column("agent_id", String(36)),  # the agent incarnation holding the session
    Column("capacity", Integer, nullable=False, default=1),  # jobs the robot runs at once
    Column("version", String(64)),
    Column("platform", SmallInteger, nullable=False, default=0),
    Column("info", Text),
)
Index("ix_robot_sessions_state_time", robot_sessions.c.state, robot_sessions.c.reporting_time)
Index("ix_robot_sessions_tenant", robot_sessions.c.tenant_id, robot_sessions.c.id)

robot_logs = Table(
    "robot_logs",
    metadata,
    _id(),
    _tenant(),
    Column("folder_id", BigInteger),  # the job's folder; NULL for a robot's own logs
    Column("level", SmallInteger, nullable=False),  # LogLevel
    Column("time_stamp", UTCDateTime, nullable=False),
    Column("message", Text, nullable=False),
    Column("raw_message", Text),
    Column("job_key", String(36)),
    Column("process_name", String(256)),
    Column("robot_name", String(256)),
    Column("host_machine_name", String(256)),
    Column("machine_id", BigInteger),
    Column("machine_key", String(36)),
    Column("windows_identity", String(256)),
    Column("runtime_type", SmallInteger),
)
Index("ix_robot_logs_tenant_time", robot_logs.c.tenant_id, robot_logs.c.time_stamp)
Index("ix_robot_logs_job", robot_logs.c.job_key, robot_logs.c.id)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
