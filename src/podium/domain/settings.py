"""The settings store: typed keys named as Orchestrator names them, values per tenant (and per user for
the few keys a user may set), defaults from the environment.

Why a registry: the Settings API (``api/settings.py``) takes any name and text; each key here says what
its value is (integer within bounds, boolean, one of some names, text with a check), so a wrong value is
a 400 before anything is written, and readers get a typed value. Only values someone set are stored
(``tenant_settings``, ``user_settings``); a key without a row has its default, which is the
environment's where Podium already had a variable for it (``PODIUM_LOCKOUT_ATTEMPTS`` → the lockout
keys), so a server configured by its environment keeps behaving as configured until a tenant changes it.

Reading, for other areas::

    from podium.domain import settings
    attempts = await settings.value(conn, tenant_id, settings.LOCKOUT_ATTEMPTS)        # one query
    period = await settings.cached_value(conn, tenant_id, settings.HEARTBEAT_PERIOD)   # hot paths

A new key is one more :class:`Key` in :data:`KEYS` below (one list, so every key is known wherever the
store is used: the API, the CLI, services). ``cached_value`` keeps a tenant's stored values for
:data:`CACHE_SECONDS`; a change forgets them at once in the process that made it and, on PostgreSQL, in
every other server process (a revocation of :attr:`~podium.domain.revocations.Subject.SETTINGS` rides
on the writing transaction). On SQLite with several workers the others see it within the cache time.
"""

from __future__ import annotations

import enum
import re
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool

from podium.config import Settings as Environment
from podium.db.schema import tenants
from podium.db.schema_settings import tenant_settings, user_settings
from podium.db.types import utcnow
from podium.domain import revocations
from podium.domain.timezones import resolve_zone
from podium.errors import PodiumError, bad_request

T = TypeVar("T", int, bool, str)

CACHE_SECONDS = 5.0
MAX_TEXT = 4000


class SettingScope(enum.IntEnum):
    """SettingsDto.Scope."""

    Application = 0
    Tenant = 1
    User = 2
    All = 3


@dataclass(frozen=True)
class Key(Generic[T]):
    """One setting: its Orchestrator name, value type, default and rules.

    ``default`` is a value or a function of the environment (``podium.config.Settings``). ``low``/``high``
    bound integers; ``choices`` lists the allowed texts of a text key (matched without regard to case,
    stored as listed); ``check`` returns an error message for a value it refuses. ``user``: a user may
    set their own value (``UpdateUserSetting``), read with :func:`user_value`. ``group`` files the key
    under an answer of the API (``Authentication``: GetAuthenticationSettings; ``Web``: GetWebSettings).
    """

    name: str
    kind: type[T]
    default: T | Callable[[Environment], T]
    summary: str
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    check: Callable[[T], str | None] | None = None
    user: bool = False
    groups: tuple[str, ...] = ()
    changes: str = field(default="", compare=False)  # what the value changes (README, GET answers)

    def default_value(self, environment: Environment | None = None) -> T:
        if callable(self.default):
            return self.default(environment or Environment())
        return self.default

    def parse(self, text: Any) -> T:
        """The typed value of ``text`` (the API's string), or a 400 naming the key."""
        if not isinstance(text, str):
            raise bad_request(f"The value of setting '{self.name}' must be a string.")
        if self.kind is bool:
            lowered = text.strip().lower()
            if lowered not in ("true", "false"):
                raise bad_request(f"The value of setting '{self.name}' must be true or false.")
            return self.kind(lowered == "true")
        if self.kind is int:
            digits = text.strip()
            if not re.fullmatch(r"-?[0-9]{1,18}", digits):
                raise bad_request(f"The value of setting '{self.name}' must be an integer.")
            number = int(digits)
            if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
                raise bad_request(
                    f"The value of setting '{self.name}' must be an integer from {self.low} to {self.high}."
                )
            return self.kind(number)
        if len(text) > MAX_TEXT or any(ord(c) < 32 for c in text):
            raise bad_request(f"The value of setting '{self.name}' is too long or has control characters.")
        if self.choices:
            found = next((c for c in self.choices if c.lower() == text.strip().lower()), None)
            if found is None:
                raise bad_request(
                    f"The value of setting '{self.name}' must be one of: {', '.join(self.choices)}."
                )
            text = found
        value = self.kind(text)
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise bad_request(f"The value of setting '{self.name}' is not valid: {problem}")
        return value

    def text(self, value: T) -> str:
        """The value as the API carries it (``true``, ``10``, ``UTC``)."""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)


# ---------------------------------------------------------------------------------------------------
# the environment the defaults come from: the server's settings, per database (several apps may run in
# one process, as in tests); the process environment for a connection of no app (the CLI)

_environments: weakref.WeakKeyDictionary[Pool, Environment] = weakref.WeakKeyDictionary()


def use_environment(environment: Environment, engines: Iterable[AsyncEngine]) -> None:
    """Defaults of connections of ``engines`` come from ``environment`` (the server's settings)."""
    for engine in engines:
        _environments[engine.sync_engine.pool] = environment


def environment_of(conn: AsyncConnection | None) -> Environment:
    if conn is not None:
        found = _environments.get(conn.sync_engine.pool)
        if found is not None:
            return found
    return Environment()


# ---------------------------------------------------------------------------------------------------
# the keys

LANGUAGES: dict[str, str] = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "ja": "日本語",
    "pt-BR": "Português (Brasil)",
    "zh-CN": "中文 (简体)",
}


def _known_time_zone(name: str) -> str | None:
    """A Windows or IANA zone (``domain/timezones.py``)."""
    try:
        resolve_zone(name, "Abp.Timing.TimeZone")
    except PodiumError:
        return "not a known time zone: a Windows id as Settings/GetTimezones lists them, or an IANA id."
    return None


LOCKOUT_ENABLED: Key[bool] = Key(
    "Abp.Zero.UserManagement.UserLockOut.IsEnabled",
    bool,
    lambda env: env.lockout_attempts > 0 and env.lockout_seconds > 0,
    "Whether users are locked out after failed sign-ins",
    groups=("Authentication",),
    changes="false: wrong passwords never lock a user out",
)
LOCKOUT_ATTEMPTS: Key[int] = Key(
    "Abp.Zero.UserManagement.UserLockOut.MaxFailedAccessAttemptsBeforeLockout",
    int,
    lambda env: env.lockout_attempts if env.lockout_attempts > 0 else 10,
    "Failed sign-ins in a row before a user is locked out",
    low=1,
    high=1000,
    groups=("Authentication",),
    changes="wrong passwords in a row that lock a user out (PODIUM_LOCKOUT_ATTEMPTS)",
)
LOCKOUT_SECONDS: Key[int] = Key(
    "Abp.Zero.UserManagement.UserLockOut.DefaultAccountLockoutSeconds",
    int,
    lambda env: env.lockout_seconds if env.lockout_seconds > 0 else 300,
    "How long a locked-out user stays locked out (seconds)",
    low=1,
    high=30 * 24 * 3600,
    groups=("Authentication",),
    changes="seconds a locked-out user is refused (PODIUM_LOCKOUT_SECONDS)",
)
PASSWORD_LENGTH: Key[int] = Key(
    "Abp.Zero.UserManagement.PasswordComplexity.RequiredLength",
    int,
    8,
    "Shortest password a user may be given",
    low=1,
    high=256,
    groups=("Authentication",),
    changes="shortest password accepted for a user (Users create/edit)",
)
PASSWORD_DIGIT: Key[bool] = Key(
    "Abp.Zero.UserManagement.PasswordComplexity.RequireDigit",
    bool,
    False,
    "Passwords must contain a digit",
    groups=("Authentication",),
    changes="a new password needs a digit",
)
PASSWORD_LOWERCASE: Key[bool] = Key(
    "Abp.Zero.UserManagement.PasswordComplexity.RequireLowercase",
    bool,
    False,
    "Passwords must contain a lowercase letter",
    groups=("Authentication",),
    changes="a new password needs a lowercase letter",
)
PASSWORD_UPPERCASE: Key[bool] = Key(
    "Abp.Zero.UserManagement.PasswordComplexity.RequireUppercase",
    bool,
    False,
    "Passwords must contain an uppercase letter",
    groups=("Authentication",),
    changes="a new password needs an uppercase letter",
)
PASSWORD_SYMBOL: Key[bool] = Key(
    "Abp.Zero.UserManagement.PasswordComplexity.RequireNonAlphanumeric",
    bool,
    False,
    "Passwords must contain a character that is neither a letter nor a digit",
    groups=("Authentication",),
    changes="a new password needs a symbol",
)
TIME_ZONE: Key[str] = Key(
    "Abp.Timing.TimeZone",
    str,
    "UTC",
    "The tenant's time zone (a Windows id as GetTimezones lists them, or an IANA id)",
    check=_known_time_zone,
    groups=("Web",),
    changes="default time zone of the tenant: calendars (GetCalendar) and triggers without their own",
)
LANGUAGE: Key[str] = Key(
    "Abp.Localization.DefaultLanguageName",
    str,
    "en",
    "Default language of the tenant's users",
    choices=tuple(LANGUAGES),
    user=True,
    groups=("Web",),
    changes="the default of GetLanguages; a user may set their own (UpdateUserSetting, ChangeCulture)",
)
QUEUE_ABANDON_MINUTES: Key[int] = Key(
    "inProgressMaxNumberOfMinutes",
    int,
    lambda env: max(1, env.queue_abandon_timeout_seconds // 60),
    "Minutes a queue item may stay InProgress before it is Abandoned",
    low=1,
    high=366 * 24 * 60,
    changes="InProgress items older than this become Abandoned (PODIUM_QUEUE_ABANDON_TIMEOUT / 60)",
)
HEARTBEAT_PERIOD: Key[int] = Key(
    "Scalability.Heartbeat.PeriodSeconds",
    int,
    lambda env: env.heartbeat_interval_seconds,
    "How often robots report (seconds)",
    low=1,
    high=3600,
    changes="heartbeat interval told to robots at connect (PODIUM_HEARTBEAT_INTERVAL)",
)
HEARTBEAT_FAILURES: Key[int] = Key(
    "Scalability.Heartbeat.FailureThreshold",
    int,
    lambda env: max(1, -(-env.heartbeat_timeout_seconds // max(1, env.heartbeat_interval_seconds))),
    "Missed heartbeats after which a robot is Disconnected",
    low=1,
    high=1000,
    changes="a robot silent for PeriodSeconds x FailureThreshold is Disconnected, its running job Faulted "
    "(default: PODIUM_HEARTBEAT_TIMEOUT while neither heartbeat key is set)",
)

AUDIT_RETENTION_DAYS: Key[int] = Key(
    "Audit.RetentionDays",
    int,
    lambda env: env.audit_retention_days,
    "Days the audit log keeps an entry (0: forever); a name of Podium's",
    low=0,
    high=36_500,
    changes="older entries are deleted by the audit-retention service (PODIUM_AUDIT_RETENTION_DAYS)",
)

TRIGGERS_FAILED_COUNT: Key[int] = Key(
    "Triggers.DisableWhenFailedCount",
    int,
    10,
    "Failed launches in a row after which a trigger is disabled (0: never)",
    low=0,
    high=1_000_000,
    changes="a trigger whose launches failed this many times in a row, within DisableWhenFailingSinceDays, "
    "is disabled with its reason and an alert",
)
TRIGGERS_FAILING_DAYS: Key[int] = Key(
    "Triggers.DisableWhenFailingSinceDays",
    int,
    1,
    "Days within which the failed launches of DisableWhenFailedCount must fall",
    low=1,
    high=3650,
    changes="failures older than this start the count afresh",
)
TRIGGERS_JOBS_COUNT: Key[str] = Key(
    "Triggers.JobsCountStrategy",
    str,
    "PerTrigger",
    "When a time trigger fires while a job it started is still Pending: PerTrigger (no new job), "
    "PerProcess (no new job while the process has a Pending job), None (always a new job)",
    choices=("PerTrigger", "PerProcess", "None"),
    changes="whether a fire creates jobs while earlier ones are still Pending",
)
TRIGGERS_MISSED_SECONDS: Key[int] = Key(
    "Triggers.MissedFireMaxAgeSeconds",
    int,
    3600,
    "A fire missed while no server ran is made up (once, however many were missed) when the latest "
    "missed occurrence is at most this old; else the trigger goes on with its next occurrence; "
    "a name of Podium's",
    low=0,
    high=366 * 24 * 3600,
    changes="missed fires coalesced into one, or skipped (recorded on the trigger either way)",
)

KEYS: tuple[Key[Any], ...] = (
    LOCKOUT_ENABLED,
    LOCKOUT_ATTEMPTS,
    LOCKOUT_SECONDS,
    PASSWORD_LENGTH,
    PASSWORD_DIGIT,
    PASSWORD_LOWERCASE,
    PASSWORD_UPPERCASE,
    PASSWORD_SYMBOL,
    TIME_ZONE,
    LANGUAGE,
    QUEUE_ABANDON_MINUTES,
    HEARTBEAT_PERIOD,
    HEARTBEAT_FAILURES,
    AUDIT_RETENTION_DAYS,
    TRIGGERS_FAILED_COUNT,
    TRIGGERS_FAILING_DAYS,
    TRIGGERS_JOBS_COUNT,
    TRIGGERS_MISSED_SECONDS,
)

_BY_NAME: dict[str, Key[Any]] = {item.name.lower(): item for item in KEYS}
assert len(_BY_NAME) == len(KEYS), "two settings keys share a name"


def key(name: Any) -> Key[Any]:
    """The key named ``name`` (any case), or a 400: unknown keys are refused, never stored."""
    found = _BY_NAME.get(name.lower()) if isinstance(name, str) else None
    if found is None:
        raise bad_request(f"Unknown setting '{name}'.")
    return found


# ---------------------------------------------------------------------------------------------------
# reading


async def stored(conn: AsyncConnection, tenant_id: int) -> dict[str, str]:
    """The tenant's stored values by key name (keys without a row are absent)."""
    query = select(tenant_settings.c.name, tenant_settings.c.value).where(
        tenant_settings.c.tenant_id == tenant_id, tenant_settings.c.is_set.is_(True)
    )
    return {row.name: row.value for row in await conn.execute(query)}


def _typed(item: Key[T], text: str | None, environment: Environment) -> T:
    """A stored text as its key's value; the default when absent (or no longer valid: rules tightened)."""
    if text is not None:
        try:
            return item.parse(text)
        except PodiumError:  # an old value the key now refuses counts as unset
            pass
    return item.default_value(environment)


async def value(conn: AsyncConnection, tenant_id: int, item: Key[T]) -> T:
    """The tenant's value of ``item`` (its default when not set): one query."""
    query = select(tenant_settings.c.value).where(
        tenant_settings.c.tenant_id == tenant_id,
        tenant_settings.c.name == item.name,
        tenant_settings.c.is_set.is_(True),
    )
    return _typed(item, (await conn.execute(query)).scalar(), environment_of(conn))


async def user_value(conn: AsyncConnection, tenant_id: int, user_id: int | None, item: Key[T]) -> T:
    """The user's own value of a user key, else the tenant's."""
    if item.user and user_id is not None:
        query = select(user_settings.c.value).where(
            user_settings.c.user_id == user_id, user_settings.c.name == item.name
        )
        text = (await conn.execute(query)).scalar()
        if text is not None:
            return _typed(item, text, environment_of(conn))
    return await value(conn, tenant_id, item)


async def effective(conn: AsyncConnection, tenant_id: int) -> list[tuple[Key[Any], str, bool]]:
    """Every key with the text of its value and whether the tenant set it (else it is the default)."""
    values, environment = await stored(conn, tenant_id), environment_of(conn)
    return [
        (item, item.text(_typed(item, values.get(item.name), environment)), item.name in values)
        for item in KEYS
    ]


# ---------------------------------------------------------------------------------------------------
# the cache of hot paths


@dataclass
class _Cache:
    """Stored values per (engine, tenant) for CACHE_SECONDS; a change forgets them (``forget``)."""

    by_engine: weakref.WeakKeyDictionary[Pool, dict[int, tuple[float, dict[str, str]]]] = field(
        default_factory=weakref.WeakKeyDictionary
    )
    generation: int = 0


_cache = _Cache()


async def cached_value(conn: AsyncConnection, tenant_id: int, item: Key[T]) -> T:
    """As :func:`value`, from this process's cache of the tenant's values (at most CACHE_SECONDS old,
    forgotten at once when a change is heard)."""
    entries = _cache.by_engine.setdefault(conn.sync_engine.pool, {})
    entry = entries.get(tenant_id)
    now = time.monotonic()
    if entry is None or entry[0] < now:
        generation = _cache.generation
        values = await stored(conn, tenant_id)
        if generation == _cache.generation:  # no change heard while loading: keep it
            entries[tenant_id] = (now + CACHE_SECONDS, values)
    else:
        values = entry[1]
    return _typed(item, values.get(item.name), environment_of(conn))


def forget(tenant_id: int | None = None) -> None:
    """Forgets the cached values of a tenant (every tenant for None): its settings changed."""
    _cache.generation += 1
    for entries in list(_cache.by_engine.values()):
        if tenant_id is None:
            entries.clear()
        else:
            entries.pop(tenant_id, None)


# ---------------------------------------------------------------------------------------------------
# writing


def check_changes(changes: Iterable[tuple[Any, Any]]) -> dict[Key[Any], str]:
    """Each (name, text) checked: the key and the text to store, or a 400 for the first bad one (so a
    bulk update writes all or nothing). A name given twice is refused too."""
    checked: dict[Key[Any], str] = {}
    for name, text in changes:
        item = key(name)
        if item in checked:
            raise bad_request(f"Setting '{item.name}' is given twice.")
        checked[item] = item.text(item.parse(text))
    return checked


async def update(
    conn: AsyncConnection, tenant_id: int, changes: Mapping[Key[Any], str], user_id: int | None = None
) -> None:
    """Stores checked values (from :func:`check_changes`) for the tenant; every process forgets its cache."""
    if changes:
        await _write(conn, tenant_id, {item: (text, True) for item, text in changes.items()}, user_id)


async def reset(
    conn: AsyncConnection, tenant_id: int, names: Iterable[Any], user_id: int | None = None
) -> None:
    """Back to their defaults (unknown names: 400, nothing changed)."""
    items = [key(name) for name in names]
    environment = environment_of(conn)
    defaults = {item: (item.text(item.default_value(environment)), False) for item in items}
    if defaults:
        await _write(conn, tenant_id, defaults, user_id)


async def _write(
    conn: AsyncConnection, tenant_id: int, rows: Mapping[Key[Any], tuple[str, bool]], user_id: int | None
) -> None:
    names = [item.name for item in rows]
    await conn.execute(
        delete(tenant_settings).where(
            tenant_settings.c.tenant_id == tenant_id, tenant_settings.c.name.in_(names)
        )
    )
    now = utcnow()
    await conn.execute(
        insert(tenant_settings),
        [
            {
                "tenant_id": tenant_id,
                "name": item.name,
                "value": text,
                "is_set": is_set,
                "last_modification_time": now,
                "last_modifier_user_id": user_id,
            }
            for item, (text, is_set) in rows.items()
        ],
    )
    await revocations.note(conn, revocations.settings(tenant_id))


async def sync_defaults(conn: AsyncConnection, tenant_id: int | None = None) -> None:
    """Every tenant (or one) has a row for every key; rows not set hold the text of the current default
    (the environment of this server). Run at server start and when a tenant is made; safe in several
    processes at once (a row another process inserted meanwhile is left alone)."""
    environment = environment_of(conn)
    tenant_query = select(tenants.c.id)
    if tenant_id is not None:
        tenant_query = tenant_query.where(tenants.c.id == tenant_id)
    tenant_ids = [int(row.id) for row in await conn.execute(tenant_query)]
    if not tenant_ids:
        return
    ts = tenant_settings.c
    rows = await conn.execute(
        select(ts.tenant_id, ts.name, ts.value, ts.is_set).where(ts.tenant_id.in_(tenant_ids))
    )
    present = {(row.tenant_id, row.name): (row.value, row.is_set) for row in rows}
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    for item in KEYS:
        default = item.text(item.default_value(environment))
        missing = [t for t in tenant_ids if (t, item.name) not in present]
        if missing:
            await conn.execute(
                dialect.insert(tenant_settings)
                .values(
                    [{"tenant_id": t, "name": item.name, "value": default, "is_set": False} for t in missing]
                )
                .on_conflict_do_nothing(index_elements=["tenant_id", "name"])
            )
        stale = [
            t
            for t in tenant_ids
            if (t, item.name) in present
            and not present[(t, item.name)][1]
            and present[(t, item.name)][0] != default
        ]
        if stale:
            await conn.execute(
                sql_update(tenant_settings)
                .where(ts.tenant_id.in_(stale), ts.name == item.name, ts.is_set.is_(False))
                .values(value=default)
            )


async def update_user(
    conn: AsyncConnection, tenant_id: int, user_id: int, name: Any, text: Any
) -> tuple[Key[Any], str]:
    """Sets a user's own value of a user key (others: 400)."""
    item = key(name)
    if not item.user:
        raise bad_request(f"Setting '{item.name}' cannot be set per user.")
    stored_text = item.text(item.parse(text))
    await conn.execute(
        delete(user_settings).where(user_settings.c.user_id == user_id, user_settings.c.name == item.name)
    )
    await conn.execute(
        insert(user_settings).values(
            tenant_id=tenant_id,
            user_id=user_id,
            name=item.name,
            value=stored_text,
            last_modification_time=utcnow(),
        )
    )
    return item, stored_text


# ---------------------------------------------------------------------------------------------------
# derived values other areas use


async def lockout(conn: AsyncConnection, tenant_id: int) -> tuple[int, int]:
    """(attempts, seconds) of the tenant's sign-in lockout; (0, 0) when lockout is off."""
    if not await value(conn, tenant_id, LOCKOUT_ENABLED):
        return 0, 0
    return await value(conn, tenant_id, LOCKOUT_ATTEMPTS), await value(conn, tenant_id, LOCKOUT_SECONDS)


async def heartbeat_timeout_seconds(conn: AsyncConnection, tenant_id: int) -> int:
    """Seconds of silence after which the tenant's robots are Disconnected: PeriodSeconds x
    FailureThreshold once the tenant set either, else the environment's PODIUM_HEARTBEAT_TIMEOUT."""
    values, environment = await stored(conn, tenant_id), environment_of(conn)
    if HEARTBEAT_PERIOD.name not in values and HEARTBEAT_FAILURES.name not in values:
        return environment.heartbeat_timeout_seconds
    period = _typed(HEARTBEAT_PERIOD, values.get(HEARTBEAT_PERIOD.name), environment)
    return period * _typed(HEARTBEAT_FAILURES, values.get(HEARTBEAT_FAILURES.name), environment)


async def check_password(conn: AsyncConnection, tenant_id: int, password: str) -> None:
    """A 400 saying what the tenant's password policy misses in ``password``."""
    values, environment = await stored(conn, tenant_id), environment_of(conn)
    length = _typed(PASSWORD_LENGTH, values.get(PASSWORD_LENGTH.name), environment)
    missing = []
    if len(password) < length:
        missing.append(f"at least {length} characters")
    rules = (
        (PASSWORD_DIGIT, str.isdigit, "a digit"),
        (PASSWORD_LOWERCASE, str.islower, "a lowercase letter"),
        (PASSWORD_UPPERCASE, str.isupper, "an uppercase letter"),
        (PASSWORD_SYMBOL, lambda c: not c.isalnum(), "a character that is not a letter or digit"),
    )
    for item, test, what in rules:
        if _typed(item, values.get(item.name), environment) and not any(test(c) for c in password):
            missing.append(what)
    if missing:
        raise bad_request("The password must have " + ", ".join(missing) + ".")
