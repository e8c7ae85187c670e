"""Starting, stopping, restarting and resuming jobs; the jobs (and exports) the Jobs area reads."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from podium import inputs
from podium.db import bulk
from podium.db.schema import environment_robots, exports, folder_robots, jobs, releases, robots
from podium.db.types import utcnow
from podium.domain import events, job_triggers, keys, wakeups
from podium.domain.enums import JobPriority, JobSourceType, JobState, StartStrategy, StopStrategy, parse_enum
from podium.domain.folders import with_folder_path
from podium.domain.job_states import FINAL, transition
from podium.errors import ErrorCode, PodiumError, bad_request, not_found

MAX_INPUT_ARGUMENTS = 10_000


@dataclass
class StartRequest:
    strategy: StartStrategy
    robot_ids: list[int]
    jobs_count: int
    no_of_robots: int
    input_arguments: str | None
    source: str
    priority: JobPriority | None
    specific_priority: int | None
    reference: str | None
    entry_point_path: str | None
    batch_key: str
    stop_expression: str | None
    kill_expression: str | None
    resume_on_same_context: bool = False
    # set by triggers (domain/schedule_firing.py): SourceType Schedule/Queue, StartingScheduleId, the
    # trigger's RuntimeType, and its MachineRobots as (robot, machine) pairs, one job each
    source_type: int | None = None
    starting_schedule_id: int | None = None
    runtime_type: int | None = None
    machine_robots: list[tuple[int | None, int | None]] | None = None


def validate_input_arguments(value: Any) -> str | None:
    """InputArguments is a JSON object serialized as a string, at most 10,000 characters."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request("InputArguments must be a string holding a JSON object.")
    if len(value) > MAX_INPUT_ARGUMENTS:
        raise PodiumError(
            f"InputArguments is {len(value)} characters long; at most {MAX_INPUT_ARGUMENTS} are accepted.",
            status=400,
            code=ErrorCode.INPUT_TOO_LONG,
        )
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise bad_request("InputArguments is not valid JSON.") from None
    if not isinstance(parsed, dict):
        raise bad_request("InputArguments must be a JSON object.")
    return value


def _count(value: Any, name: str) -> int:
    return 0 if value is None else inputs.integer(value, name, high=10_000)


def parse_start_info(info: Mapping[str, Any]) -> StartRequest:
    robot_ids = inputs.id_list(info.get("RobotIds"), "RobotIds", allow_empty=True, what="robot ids")
    try:
        strategy = (
            parse_enum(StartStrategy, info["Strategy"])
            if info.get("Strategy") is not None
            else (StartStrategy.Specific if robot_ids else StartStrategy.ModernJobsCount)
        )
        priority = (
            parse_enum(JobPriority, info["JobPriority"]) if info.get("JobPriority") is not None else None
        )
    except ValueError as error:
        raise bad_request(str(error)) from None
    source = inputs.text(info.get("Source") or "Manual", "Source", max_length=128)
    batch = info.get("BatchExecutionKey")
    try:
        batch_key = str(uuid.UUID(str(batch))) if batch else str(uuid.uuid4())
    except ValueError:
        raise bad_request("BatchExecutionKey must be a GUID.") from None
    specific = info.get("SpecificPriorityValue")
    return StartRequest(
        strategy=StartStrategy(int(strategy)),
        robot_ids=robot_ids,
        jobs_count=_count(info.get("JobsCount"), "JobsCount"),
        no_of_robots=_count(info.get("NoOfRobots"), "NoOfRobots"),
        input_arguments=validate_input_arguments(info.get("InputArguments")),
        source=source,
        priority=JobPriority(int(priority)) if priority is not None else None,
        specific_priority=specific if inputs.is_integer(specific) else None,
        reference=inputs.optional_text(info.get("Reference"), "Reference", max_length=128),
        entry_point_path=inputs.optional_text(info.get("EntryPointPath"), "EntryPointPath", max_length=512),
        batch_key=batch_key,
        stop_expression=inputs.optional_text(
            info.get("StopProcessExpression"), "StopProcessExpression", max_length=64
        ),
        kill_expression=inputs.optional_text(
            info.get("KillProcessExpression"), "KillProcessExpression", max_length=64
        ),
        resume_on_same_context=info.get("ResumeOnSameContext") is not None
        and inputs.boolean(info["ResumeOnSameContext"], "ResumeOnSameContext"),
    )


async def releases_named(
    conn: AsyncConnection, tenant_id: int, info: Mapping[str, Any], folder_id: int | None
) -> list[dict[str, Any]]:
    """The releases a start request names by ReleaseKey or ReleaseName (in ``folder_id`` when given),
    each with its folder's path as ``folder_path``; which of them the caller may start is the caller's
    business."""
    key, name = info.get("ReleaseKey"), info.get("ReleaseName")
    if key:
        condition = releases.c.key == str(key).lower()
    elif name and isinstance(name, str):
        condition = releases.c.name == name
    else:
        raise bad_request("ReleaseKey or ReleaseName is required.")
    query = with_folder_path(releases).where(condition, releases.c.tenant_id == tenant_id)
    if folder_id is not None:
        query = query.where(releases.c.folder_id == folder_id)
    return [dict(row) for row in (await conn.execute(query)).mappings().all()]


async def eligible_robot_ids(conn: AsyncConnection, release: Mapping[str, Any]) -> list[int]:
    """Robots that may run the release: its environment's robots, else the robots of its folder."""
    if release["environment_id"] is not None:
        members = select(environment_robots.c.robot_id).where(
            environment_robots.c.environment_id == release["environment_id"]
        )
    else:
        members = select(folder_robots.c.robot_id).where(folder_robots.c.folder_id == release["folder_id"])
    rows = await conn.execute(
        select(robots.c.id).where(robots.c.id.in_(members), robots.c.enabled.is_(True)).order_by(robots.c.id)
    )
    return [row.id for row in rows]


async def _robots_for(
    conn: AsyncConnection,
    release: Mapping[str, Any],
    request: StartRequest,
    known: dict[int, list[int]] | None = None,
) -> list[int | None]:
    """One entry per job to create: a robot id, or None for "any robot"."""
    strategy = request.strategy
    if strategy in (StartStrategy.JobsCount, StartStrategy.ModernJobsCount):
        return [None] * max(request.jobs_count, 1)
    if known is None:
        eligible = await eligible_robot_ids(conn, release)
    elif release["id"] in known:
        eligible = known[release["id"]]
    else:
        eligible = known[release["id"]] = await eligible_robot_ids(conn, release)
    if strategy is StartStrategy.Specific:
        if not request.robot_ids:
            raise bad_request("RobotIds is required with the Specific strategy.")
        unknown = [r for r in request.robot_ids if r not in eligible]
        if unknown:
            raise bad_request(
                f"Robots {unknown} cannot run this process (not in its environment or folder).",
                ErrorCode.NO_ROBOTS,
            )
        return list(dict.fromkeys(request.robot_ids))
    if not eligible:
        raise bad_request("There are no robots that can run this process.", ErrorCode.NO_ROBOTS)
    if strategy is StartStrategy.All:
        return list(eligible)
    wanted = request.no_of_robots or 1
    if wanted > len(eligible):
        raise bad_request(
            f"NoOfRobots is {wanted} but only {len(eligible)} robots can run this process.",
            ErrorCode.NO_ROBOTS,
        )
    return list(eligible[:wanted])


async def start_jobs(
    conn: AsyncConnection, release: Mapping[str, Any], request: StartRequest, user_id: int | None
) -> list[int]:
    """Creates the Pending jobs the strategy asks for, in one transaction; returns their ids."""
    pairs = await job_targets(conn, release, request)
    [ids] = await create_jobs(conn, [(release, request, pairs)], user_id)
    return ids


async def job_targets(
    conn: AsyncConnection,
    release: Mapping[str, Any],
    request: StartRequest,
    eligible: dict[int, list[int]] | None = None,
) -> list[tuple[int | None, int | None]]:
    """(robot id, machine id) of each job the request's strategy asks for; PodiumError when it cannot
    be started (no robots, a robot that may not run it). Reads nothing for a jobs count; ``eligible``
    keeps the robots read for a release (by release id) for the next start of the same release."""
    if request.machine_robots:
        return list(request.machine_robots)
    return [(robot_id, None) for robot_id in await _robots_for(conn, release, request, eligible)]


async def create_jobs(
    conn: AsyncConnection,
    starts: Sequence[tuple[Mapping[str, Any], StartRequest, list[tuple[int | None, int | None]]]],
    user_id: int | None,
) -> list[list[int]]:
    """The Pending jobs of several starts (release, request, their :func:`job_targets`) with one INSERT,
    their ``job.created`` events with one more (``db/bulk.py``: one small statement whatever the number
    of rows on PostgreSQL), and the robots' wake-ups; each start's job ids, in order.
    The trigger scheduler fires a batch of triggers this way (``domain/schedule_firing.py``)."""
    now = utcnow()
    fresh = iter(keys.new_keys(sum(len(pairs) for _release, _request, pairs in starts)))
    rows: list[dict[str, Any]] = []
    for release, request, pairs in starts:
        rows.extend(_job_rows(release, request, pairs, user_id, now, fresh))
    if not rows:
        return [[] for _ in starts]
    made = await bulk.insert_rows(conn, jobs, rows, returning=("id", "key"))
    id_of = {key: int(job_id) for job_id, key in made}
    ids = [id_of[row["key"]] for row in rows]
    await events.record_many(
        conn,
        [
            (
                row["tenant_id"],
                "job.created",
                row["key"],
                {"JobId": job_id, "Key": row["key"]},
                row["folder_id"],
            )
            for job_id, row in zip(ids, rows, strict=True)
        ],
    )
    targets: dict[int, list[int | None]] = {}
    for row in rows:
        targets.setdefault(row["tenant_id"], []).append(row["robot_id"])
    for tenant_id, robot_ids in targets.items():
        await wakeups.announce_jobs(conn, tenant_id, robot_ids)
    answer: list[list[int]] = []
    at = 0
    for _release, _request, pairs in starts:
        answer.append(ids[at : at + len(pairs)])
        at += len(pairs)
    return answer


def _job_rows(
    release: Mapping[str, Any],
    request: StartRequest,
    pairs: list[tuple[int | None, int | None]],
    user_id: int | None,
    now: dt.datetime,
    fresh: Iterator[str],
) -> list[dict[str, Any]]:
    priority = request.priority if request.priority is not None else JobPriority(release["job_priority"])
    return [
        {
            "tenant_id": release["tenant_id"],
            "folder_id": release["folder_id"],
            "key": next(fresh),
            "release_id": release["id"],
            "release_name": release["name"],
            "robot_id": robot_id,
            "machine_id": machine_id,
            "state": int(JobState.Pending),
            "source": request.source,
            "source_type": (
                request.source_type if request.source_type is not None else int(_source_type(request.source))
            ),
            "type": 0,
            "runtime_type": request.runtime_type if request.runtime_type is not None else 2,
            "starting_schedule_id": request.starting_schedule_id,
            "batch_execution_key": request.batch_key,
            "creation_time": now,
            "input_arguments": request.input_arguments or release["input_arguments"],
            "job_priority": int(priority),
            "specific_priority_value": request.specific_priority,
            "reference": request.reference,
            "entry_point_path": request.entry_point_path or release["entry_point_path"],
            "creator_user_id": user_id,
            "stop_process_expression": request.stop_expression,
            "kill_process_expression": request.kill_expression,
            "resume_on_same_context": request.resume_on_same_context,
        }
        for robot_id, machine_id in pairs
    ]


def _source_type(source: str) -> Any:
    try:
        return parse_enum(JobSourceType, source)
    except ValueError:
        return JobSourceType.Manual  # type: ignore[attr-defined]


def parse_stop_strategy(value: Any) -> StopStrategy:
    try:
        return StopStrategy(int(parse_enum(StopStrategy, value)))
    except ValueError:
        raise bad_request("strategy must be SoftStop (1) or Kill (2).") from None


async def stop_job(conn: AsyncConnection, job: Mapping[str, Any], strategy: StopStrategy) -> None:
    """SoftStop asks a running job to stop (Stopping); Kill terminates it (Terminating). A job that has
    not started yet stops at once."""
    state = JobState(job["state"])
    if state in FINAL:
        raise PodiumError(f"The job is already {state.name}.", status=400, code=ErrorCode.INVALID_JOB_STATE)
    if state in (JobState.Pending, JobState.Suspended, JobState.Resumed):  # no process runs it
        await transition(conn, job, JobState.Stopped, stop_strategy=int(strategy))
    elif strategy is StopStrategy.Kill:
        if state is not JobState.Terminating:
            await transition(conn, job, JobState.Terminating, stop_strategy=int(strategy))
    elif state is not JobState.Stopping and state is not JobState.Terminating:
        await transition(conn, job, JobState.Stopping, stop_strategy=int(strategy))


async def restart_job(conn: AsyncConnection, job: Mapping[str, Any], user_id: int | None) -> int:
    """A new Pending job with the same process, robot and input as a finished one."""
    if JobState(job["state"]) not in FINAL:
        raise PodiumError(
            "Only a finished job can be restarted.", status=400, code=ErrorCode.INVALID_JOB_STATE
        )
    release = (
        (await conn.execute(select(releases).where(releases.c.id == job["release_id"]))).mappings().first()
    )
    if release is None:
        raise not_found("The job's process no longer exists.")
    keep = (
        "tenant_id",
        "folder_id",
        "release_id",
        "release_name",
        "robot_id",
        "source",
        "source_type",
        "type",
        "runtime_type",
        "input_arguments",
        "job_priority",
        "specific_priority_value",
        "reference",
        "entry_point_path",
        "stop_process_expression",
        "kill_process_expression",
        "resume_on_same_context",
    )
    row = {name: job[name] for name in keep}
    row.update(
        key=str(uuid.uuid4()),
        state=int(JobState.Pending),
        batch_execution_key=str(uuid.uuid4()),
        creation_time=utcnow(),
        creator_user_id=user_id,
    )
    job_id = (await conn.execute(insert(jobs).values(**row).returning(jobs.c.id))).scalar_one()
    await events.record(
        conn,
        row["tenant_id"],
        "job.created",
        row["key"],
        {"JobId": job_id, "RestartOf": job["id"]},
        row["folder_id"],
    )
    await wakeups.announce_jobs(conn, row["tenant_id"], [row["robot_id"]])
    return int(job_id)


async def resume_job(conn: AsyncConnection, job: Mapping[str, Any]) -> None:
    """ResumeJob: a Suspended job goes back to dispatch now (400 for any other state)."""
    await job_triggers.resume_now(conn, job)


def with_ids(ids: list[int]) -> ColumnElement[bool]:
    return jobs.c.id.in_(ids)


def with_key(key: str) -> ColumnElement[bool]:
    return jobs.c.key == key.lower()


async def jobs_where(
    conn: AsyncConnection, tenant_id: int, condition: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """The tenant's jobs matching ``condition`` (:func:`with_ids`, :func:`with_key`), each with its
    folder's path as ``folder_path`` (for the caller's permission check)."""
    rows = await conn.execute(with_folder_path(jobs).where(condition, jobs.c.tenant_id == tenant_id))
    return [dict(row) for row in rows.mappings().all()]


async def export_file(conn: AsyncConnection, tenant_id: int, export_id: int) -> tuple[str, str] | None:
    """A finished export of the tenant as (file name, CSV): Jobs.Export writes them, and the Logs and
    Queues exports too (``odata/export.py``); ``GET /api/Exports/{id}/Download`` serves them."""
    row = (
        await conn.execute(
            select(exports.c.name, exports.c.content).where(
                exports.c.id == export_id, exports.c.tenant_id == tenant_id
            )
        )
    ).first()
    return None if row is None else (str(row.name), row.content or "")
