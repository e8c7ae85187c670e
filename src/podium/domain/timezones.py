"""Time zones as Orchestrator names them (Windows ids, "GTB Standard Time") and as users ask for them
(IANA ids, "Europe/Athens").

Orchestrator accepts only Windows ids; Podium accepts both and evaluates every zone with ``zoneinfo``
(IANA data from the ``tzdata`` package when the system has none). A Windows id maps to its IANA zone by
the CLDR windowsZones table that tzlocal ships (``tzlocal.windows_tz``: data only, nothing of tzlocal's
local-zone detection is used); an IANA id answers the Windows id CLDR gives it, when there is one.
"""

from __future__ import annotations

import functools
import zoneinfo
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import tz_win, win_tz

from podium.domain.timezone_names import WINDOWS_ZONES
from podium.errors import bad_request

NOT_ZONES = frozenset({"localtime", "Factory", "posixrules", "posix", "right"})


@dataclass(frozen=True)
class ResolvedZone:
    """A zone a request named: its Windows id (None for an IANA zone CLDR maps to no Windows id), its
    IANA id (Orchestrator's ``TimeZoneIana``) and the zone to compute with."""

    windows_id: str | None
    iana: str
    zone: ZoneInfo


@dataclass(frozen=True)
class TimeZoneEntry:
    """One line of Settings/GetTimezones: ``Value`` (the Windows id), ``Name`` (its display name)."""

    windows_id: str
    display_name: str
    iana: str


@functools.cache
def _windows_ids() -> dict[str, str]:
    """Lower-cased Windows id → the id as Windows spells it (lookups ignore case, as .NET's do)."""
    return {name.lower(): name for name in win_tz}


@functools.cache
def _iana_ids() -> dict[str, str]:
    """Lower-cased IANA id → its spelling, for every zone zoneinfo can load here (less the system files
    that are not zones: "localtime" is whatever this machine is set to)."""
    return {name.lower(): name for name in zoneinfo.available_timezones() if name not in NOT_ZONES}


@functools.cache
def _zone(iana: str) -> ZoneInfo:
    return ZoneInfo(iana)


def resolve_zone(name: object, field: str = "TimeZoneId") -> ResolvedZone:
    """A Windows or IANA time-zone id, or a 400 naming ``field``."""
    if not isinstance(name, str) or not name.strip():
        raise bad_request(
            f"{field} is required: a Windows time-zone id such as 'GTB Standard Time' or an IANA id."
        )
    key = name.strip().lower()
    windows = _windows_ids().get(key)
    if windows is not None:
        iana = win_tz[windows]
        return ResolvedZone(windows, iana, _zone(iana))
    iana_name = _iana_ids().get(key)
    if iana_name is not None:
        return ResolvedZone(tz_win.get(iana_name), iana_name, _zone(iana_name))
    shown = name if len(name) <= 64 else name[:64] + "…"
    raise bad_request(
        f"{field}: '{shown}' is not a known time zone. Use a Windows time-zone id such as "
        "'GTB Standard Time' or 'UTC' (Settings/GetTimezones lists them) "
        "or an IANA id such as 'Europe/Athens'."
    )


@functools.cache
def _entries() -> tuple[TimeZoneEntry, ...]:
    return tuple(TimeZoneEntry(wid, display, win_tz[wid]) for wid, display in WINDOWS_ZONES if wid in win_tz)


def timezone_list() -> list[TimeZoneEntry]:
    """Every Windows zone with its display name and IANA id, in Windows' order (by offset): what
    Settings/GetTimezones answers as ``{"Items": [{"Name": display_name, "Value": windows_id}]}``."""
    return list(_entries())
