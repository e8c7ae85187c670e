"""Time zones (domain/timezones.py): Windows ids as Orchestrator takes them, IANA ids as users ask for
them, the list Settings/GetTimezones answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podium.domain.timezones import resolve_zone, timezone_list
from podium.errors import PodiumError


@pytest.mark.parametrize(
    ("name", "windows", "iana"),
    [
        ("GTB Standard Time", "GTB Standard Time", "Europe/Bucharest"),
        ("gtb standard time", "GTB Standard Time", "Europe/Bucharest"),  # ids ignore case, as in .NET
        ("UTC", "UTC", "Etc/UTC"),
        ("Pacific Standard Time", "Pacific Standard Time", "America/Los_Angeles"),
        ("Eastern Standard Time", "Eastern Standard Time", "America/New_York"),
        ("Tokyo Standard Time", "Tokyo Standard Time", "Asia/Tokyo"),
        ("Europe/Athens", "GTB Standard Time", "Europe/Athens"),  # IANA, with CLDR's Windows id
        ("europe/athens", "GTB Standard Time", "Europe/Athens"),
        ("America/New_York", "Eastern Standard Time", "America/New_York"),
        (" Asia/Kolkata ", "India Standard Time", "Asia/Kolkata"),
    ],
)
def test_windows_and_iana_ids_resolve(name: str, windows: str, iana: str) -> None:
    resolved = resolve_zone(name, "TimeZoneId")
    assert (resolved.windows_id, resolved.iana, resolved.zone.key) == (windows, iana, iana)


def test_an_iana_zone_without_a_windows_id() -> None:
    resolved = resolve_zone("Antarctica/Troll", "TimeZoneId")
    assert (resolved.windows_id, resolved.iana) == (None, "Antarctica/Troll")
    offset = resolve_zone("Etc/GMT+5", "TimeZoneId").zone.utcoffset(datetime(2025, 1, 1))
    assert offset is not None and offset.total_seconds() == -5 * 3600  # POSIX sign: GMT+5 is UTC-5


def test_zones_compute_daylight_saving() -> None:
    athens = resolve_zone("GTB Standard Time", "TimeZoneId").zone
    assert datetime(2025, 7, 1, tzinfo=UTC).astimezone(athens).isoformat().endswith("+03:00")
    assert datetime(2025, 1, 1, tzinfo=UTC).astimezone(athens).isoformat().endswith("+02:00")


@pytest.mark.parametrize(
    "name",
    ["", "   ", None, 5, "Mars Standard Time", "Europe/Atlantis", "../../etc/passwd", "localtime", "x" * 300],
)
def test_unknown_zones_are_a_400_naming_the_field(name: object) -> None:
    with pytest.raises(PodiumError) as caught:
        resolve_zone(name, "TimeZoneId")
    assert caught.value.status == 400 and caught.value.message.startswith("TimeZoneId")
    assert len(caught.value.message) < 400


def test_timezone_list() -> None:
    entries = timezone_list()
    by_id = {entry.windows_id: entry for entry in entries}
    assert len(by_id) == len(entries) > 130
    assert by_id["GTB Standard Time"].display_name == "(UTC+02:00) Athens, Bucharest"
    assert by_id["GTB Standard Time"].iana == "Europe/Bucharest"
    assert by_id["UTC"].display_name == "(UTC) Coordinated Universal Time"
    assert entries[0].windows_id == "Dateline Standard Time"  # Windows' order: by offset
    assert entries[-1].windows_id == "Line Islands Standard Time"
    for entry in entries:  # every listed id resolves to itself
        assert resolve_zone(entry.windows_id, "TimeZoneId").windows_id == entry.windows_id
