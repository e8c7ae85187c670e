"""Tables of the robots' runtime: robot sessions (heartbeats), robot logs and leases.

A session is the live connection of one robot: which machine it runs on, when it last reported and
its state (``RobotState``). Robot logs are written in bulk by robots and job processes. A lease row
lets one server process of several run a periodic sweep. A job claim is a job handed to a robot that the
robot has not yet acknowledged (``domain.job_claims``).
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
    # MaintenanceMode: Enabled takes the session out of dispatch (SetMaintenanceMode)
    Column("maintenance_mode", SmallInteger, nullable=False, default=0, server_default="0"),
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

# A job handed to a robot by jobs/next: the robot acknowledges it with the token (expires_at becomes
# NULL); unacknowledged after expires_at, the job returns to Pending (to assigned_robot_id, its robot
# before the claim; NULL: any eligible robot; and to assigned_machine_id, the machine it was started for
# by a MachineRobots pair, which the claim overwrote with the claiming robot's). Rows of ended jobs are
# removed by the sweep.
job_claims = Table(
    "job_claims",
    metadata,
    Column("job_id", BigInteger, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    _tenant(),
    Column("robot_id", BigInteger, nullable=False),
    Column("assigned_robot_id", BigInteger),
    Column("assigned_machine_id", BigInteger),
    Column("token", String(36), nullable=False),
    Column("expires_at", UTCDateTime),
)
Index("ix_job_claims_expires_at", job_claims.c.expires_at)
