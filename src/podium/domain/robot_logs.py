"""Robot logs: validating the entries robots and job processes send, and writing them in bulk.

An entry is an object (or its JSON text, as UiPath robots send them) with ``message`` and ``level``
(``Trace…Fatal``, or the robot's ``Verbose/Information/Warning/Critical``, or 0 to 5) and optionally
``timeStamp``, ``jobKey`` (also ``jobId``), ``processName``, ``robotName``, ``machineName``,
``windowsIdentity``. A batch is all or nothing: one bad entry answers 400 naming it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium.db.schema import jobs
from podium.db.schema_robots import robot_logs
from podium.db.types import utcnow
from podium.domain.robot_enums import LogLevel
from podium.errors import bad_request

MAX_BATCH = 1000
MAX_MESSAGE = 100_000
LEVELS: dict[str, int] = {level.name.lower(): int(level) for level in LogLevel}
LEVELS.update(verbose=0, information=2, warning=3, critical=5)
TEXT_FIELDS = {  # entry name -> (column, max length)
    "processName": ("process_name", 256),
    "robotName": ("robot_name", 256),
    "machineName": ("host_machine_name", 256),
    "hostMachineName": ("host_machine_name", 256),
    "windowsIdentity": ("windows_identity", 256),
}


@dataclass(frozen=True)
class LogSource:
    """Who sends the logs: defaults for the entries' columns, and the tenant."""

    tenant_id: int
    defaults: Mapping[str, Any]
    job_key: str | None = None  # a job token's job: its logs belong to it


def _level(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 5:
        return value
    if isinstance(value, str) and value.lower() in LEVELS:
        return LEVELS[value.lower()]
    raise bad_request(f"{where}: level must be one of Trace, Debug, Info, Warn, Error, Fatal.")


def _time(value: Any, where: str) -> dt.datetime:
    if value is None:
        return utcnow()
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise bad_request(f"{where}: timeStamp must be an ISO 8601 date and time.")


def _job_key(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) != 36:
        raise bad_request(f"{where}: jobKey must be the job's key (a GUID).")
    return value.lower()


def parse_entry(raw: Any, index: int, source: LogSource) -> dict[str, Any]:
    """One validated row of ``robot_logs`` (without the job's folder yet)."""
    where = f"entry {index}"
    text = raw if isinstance(raw, str) else None
    if text is not None:
        try:
            raw = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise bad_request(f"{where} is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise bad_request(f"{where} must be a JSON object.")
    message = raw.get("message", raw.get("Message"))
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        raise bad_request(f"{where}: message must be a string of at most {MAX_MESSAGE} characters.")
    row: dict[str, Any] = {
        **source.defaults,
        "tenant_id": source.tenant_id,
        "message": message,
        "level": _level(raw.get("level", raw.get("Level", "Info")), where),
        "time_stamp": _time(raw.get("timeStamp", raw.get("TimeStamp")), where),
        "raw_message": text,
        "folder_id": None,
    }
    key = _job_key(raw.get("jobKey", raw.get("jobId", raw.get("JobKey"))), where)
    row["job_key"] = source.job_key or key
    for name, (column, limit) in TEXT_FIELDS.items():
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit:
            raise bad_request(f"{where}: {name} must be a string of at most {limit} characters.")
        row[column] = value
    return row


class JobFolders:
    """Job key → (folder id, process name), remembered: most batches name the same few jobs."""

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._known: dict[tuple[int, str], tuple[int, str | None]] = {}

    async def resolve(
        self, conn: AsyncConnection, tenant_id: int, keys: set[str]
    ) -> dict[str, tuple[int, str | None]]:
        found = {k: self._known[(tenant_id, k)] for k in keys if (tenant_id, k) in self._known}
        missing = keys - found.keys()
        if missing:
            rows = await conn.execute(
                select(jobs.c.key, jobs.c.folder_id, jobs.c.release_name).where(
                    jobs.c.tenant_id == tenant_id, jobs.c.key.in_(missing)
                )
            )
            if len(self._known) > self.limit:
                self._known.clear()
            for key, folder_id, release_name in rows:
                found[key] = self._known[(tenant_id, key)] = (folder_id, release_name)
        unknown = keys - found.keys()
        if unknown:
            raise bad_request(f"Unknown job key {sorted(unknown)[0]}.")
        return found


async def write(conn: AsyncConnection, rows: list[dict[str, Any]], folders: JobFolders) -> None:
    """Fills each entry's folder (and process name) from its job, then one bulk INSERT."""
    if not rows:
        return
    keys = {row["job_key"] for row in rows if row["job_key"]}
    known = await folders.resolve(conn, rows[0]["tenant_id"], keys) if keys else {}
    columns = set(robot_logs.c.keys()) - {"id"}
    for row in rows:
        if row["job_key"]:
            folder_id, process = known[row["job_key"]]
            row["folder_id"] = folder_id
            if not row.get("process_name"):
                row["process_name"] = process
        for column in columns - row.keys():
            row[column] = None
    if conn.dialect.name == "postgresql":
        await _copy(conn, rows)
    else:
        await conn.execute(insert(robot_logs), rows)


COPY_COLUMNS = tuple(c.name for c in robot_logs.c if c.name != "id")


async def _copy(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY`` on the transaction's own connection (several times faster than INSERT)."""
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    statement = f"COPY robot_logs ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    async with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            await copy.write_row([row[name] for name in COPY_COLUMNS])


def parse_batch(entries: Any, source: LogSource) -> list[dict[str, Any]]:
    if not isinstance(entries, list):
        raise bad_request("The body must be a list of log entries.")
    if len(entries) > MAX_BATCH:
        raise bad_request(f"At most {MAX_BATCH} log entries are accepted at once.")
    return [parse_entry(entry, index, source) for index, entry in enumerate(entries)]
