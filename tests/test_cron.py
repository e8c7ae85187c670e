"""Orchestrator's Quartz cron dialect (domain/cron.py): a table of expressions with their next three
occurrences (worked out by hand from the calendar, not by running the code), daylight-saving cases at
fixed instants, calendars' excluded days, summaries and refusals."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from podium.domain.cron import next_fire, parse_quartz, wall_to_utc
from podium.errors import PodiumError

START = datetime(2025, 1, 1, tzinfo=UTC)  # a Wednesday
UTC_ZONE = ZoneInfo("UTC")
ATHENS = ZoneInfo("Europe/Athens")
NEW_YORK = ZoneInfo("America/New_York")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


TABLE = [
    ("0 0/5 * 1/1 * ? *", ["2025-01-01 00:05", "2025-01-01 00:10", "2025-01-01 00:15"]),
    ("0 */5 * * * ?", ["2025-01-01 00:05", "2025-01-01 00:10", "2025-01-01 00:15"]),
    ("0 0 12 ? * MON-FRI *", ["2025-01-01 12:00", "2025-01-02 12:00", "2025-01-03 12:00"]),
    ("0 0 12 ? * 2-6 *", ["2025-01-01 12:00", "2025-01-02 12:00", "2025-01-03 12:00"]),  # 2 = Monday
    ("0 0 0 ? * 1 *", ["2025-01-05 00:00", "2025-01-12 00:00", "2025-01-19 00:00"]),  # 1 = Sunday
    ("0 0 0 ? * L", ["2025-01-04 00:00", "2025-01-11 00:00", "2025-01-18 00:00"]),  # alone: Saturday
    ("30 10 9 ? * * *", ["2025-01-01 09:10:30", "2025-01-02 09:10:30", "2025-01-03 09:10:30"]),
    ("0 15 10 L * ? *", ["2025-01-31 10:15", "2025-02-28 10:15", "2025-03-31 10:15"]),
    ("0 15 10 ? * 6L *", ["2025-01-31 10:15", "2025-02-28 10:15", "2025-03-28 10:15"]),
    ("0 0 12 ? * FRIL *", ["2025-01-31 12:00", "2025-02-28 12:00", "2025-03-28 12:00"]),
    ("0 15 10 ? * 6#3 *", ["2025-01-17 10:15", "2025-02-21 10:15", "2025-03-21 10:15"]),
    ("0 0 0 ? * 6#5", ["2025-01-31 00:00", "2025-05-30 00:00", "2025-08-29 00:00"]),
    ("0 0 12 15W * ? *", ["2025-01-15 12:00", "2025-02-14 12:00", "2025-03-14 12:00"]),  # Sat 15 → Fri
    ("0 0 0 1W * ?", ["2025-02-03 00:00", "2025-03-03 00:00", "2025-04-01 00:00"]),  # Sat 1st → Mon 3rd
    ("0 0 12 31W * ?", ["2025-01-31 12:00", "2025-03-31 12:00", "2025-05-30 12:00"]),  # Sat 31 → Fri 30
    ("0 0 0 LW * ? *", ["2025-01-31 00:00", "2025-02-28 00:00", "2025-03-31 00:00"]),
    ("0 0 0 LW 8 ? 2025", ["2025-08-29 00:00"]),  # Aug 31 is a Sunday
    ("0 0 12 L-3 * ? *", ["2025-01-28 12:00", "2025-02-25 12:00", "2025-03-28 12:00"]),
    ("0 0 8 ? * MON#1 2026", ["2026-01-05 08:00", "2026-02-02 08:00", "2026-03-02 08:00"]),
    ("0 0/30 8-9 ? * MON-FRI *", ["2025-01-01 08:00", "2025-01-01 08:30", "2025-01-01 09:00"]),
    ("0 0 12 1 1/1 ? *", ["2025-01-01 12:00", "2025-02-01 12:00", "2025-03-01 12:00"]),
    ("0 0 12 ? 1/1 MON#1 *", ["2025-01-06 12:00", "2025-02-03 12:00", "2025-03-03 12:00"]),
    ("0 0 12 ? * MON,WED,FRI *", ["2025-01-01 12:00", "2025-01-03 12:00", "2025-01-06 12:00"]),
    ("0 0 0/1 1/1 * ? *", ["2025-01-01 01:00", "2025-01-01 02:00", "2025-01-01 03:00"]),
    ("0 0 0 ? 1/5 SUN *", ["2025-01-05 00:00", "2025-01-12 00:00", "2025-01-19 00:00"]),
    ("0 0 0 1 1/5 ? *", ["2025-06-01 00:00", "2025-11-01 00:00", "2026-01-01 00:00"]),
    ("0 0 0 31 * ?", ["2025-01-31 00:00", "2025-03-31 00:00", "2025-05-31 00:00"]),
    ("0 0 0 29 FEB ?", ["2028-02-29 00:00", "2032-02-29 00:00", "2036-02-29 00:00"]),
    ("0 0 0 1 1 ? 2026/2", ["2026-01-01 00:00", "2028-01-01 00:00", "2030-01-01 00:00"]),
    ("0 0 23-1 ? * FRI-SUN", ["2025-01-03 00:00", "2025-01-03 01:00", "2025-01-03 23:00"]),  # wrapping
    ("15,45 * * ? * *", ["2025-01-01 00:00:15", "2025-01-01 00:00:45", "2025-01-01 00:01:15"]),
    ("0 0 0 1 1 ? 2020", []),  # past year: never
    ("0 0 0 30 2 ?", []),  # no 30 February
    ("0 0 9 ? jan-mar mon", ["2025-01-06 09:00", "2025-01-13 09:00", "2025-01-20 09:00"]),  # any case
]


@pytest.mark.parametrize(("expression", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_next_three_occurrences(expression: str, expected: list[str]) -> None:
    cron = parse_quartz(expression)
    assert cron.occurrences(START, UTC_ZONE, 3) == [at(text) for text in expected]
    assert cron.expression == expression  # kept as sent


def test_next_after_is_strictly_after_and_utc() -> None:
    cron = parse_quartz("0 0 12 ? * *")
    noon = at("2025-01-01 12:00")
    assert cron.next_after(noon, UTC_ZONE) == at("2025-01-02 12:00")
    found = cron.next_after(at("2025-01-01 11:59:59.500000"), UTC_ZONE)
    assert found == noon and found.tzinfo is UTC
    # a zone shifts the wall clock: noon in Athens (winter, +02:00) is 10:00 UTC
    assert cron.next_after(START, ATHENS) == at("2025-01-01 10:00")
    # naive is read as UTC
    assert cron.next_after(datetime(2025, 1, 1, 11, 59, 59), UTC_ZONE) == noon


# Europe/Athens: 2026-03-29 03:00 → 04:00 (01:00 UTC); 2026-10-25 04:00 → 03:00 (01:00 UTC).
# America/New_York: 2026-03-08 02:00 → 03:00 (07:00 UTC); 2026-11-01 02:00 → 01:00 (06:00 UTC).
DST = [
    # a daily time inside the gap fires once, at the first instant after it
    ("0 30 3 * * ?", ATHENS, "2026-03-28 12:00", ["2026-03-29 01:00", "2026-03-30 00:30"]),
    ("0 30 2 * * ?", NEW_YORK, "2026-03-07 12:00", ["2026-03-08 07:00", "2026-03-09 06:30"]),
    # a recurring expression: the walls inside the gap all collapse onto the same instant, once
    (
        "0 0/20 * * * ?",
        ATHENS,
        "2026-03-29 00:30",
        ["2026-03-29 00:40", "2026-03-29 01:00", "2026-03-29 01:20", "2026-03-29 01:40"],
    ),
    # a repeated hour fires once, at its first occurrence
    ("0 30 3 * * ?", ATHENS, "2026-10-24 12:00", ["2026-10-25 00:30", "2026-10-26 01:30"]),
    ("0 30 1 * * ?", NEW_YORK, "2026-10-31 12:00", ["2026-11-01 05:30", "2026-11-02 06:30"]),
    (
        "0 0/30 * * * ?",
        NEW_YORK,
        "2026-11-01 05:00",
        ["2026-11-01 05:30", "2026-11-01 07:00", "2026-11-01 07:30"],  # 01:00/01:30 EST skipped
    ),
    # asked from inside the second pass of the repeated hour: the next wall time after it
    ("0 0/30 * * * ?", NEW_YORK, "2026-11-01 06:10", ["2026-11-01 07:00", "2026-11-01 07:30"]),
    # a gap at midnight (Santiago, 2026-09-06 00:00 → 01:00) and a half-hour one (Lord Howe, 02:00 → 02:30)
    (
        "0 30 0 * * ?",
        ZoneInfo("America/Santiago"),
        "2026-09-05 12:00",
        ["2026-09-06 04:00", "2026-09-07 03:30"],
    ),
    (
        "0 15 2 * * ?",
        ZoneInfo("Australia/Lord_Howe"),
        "2026-10-03 00:00",
        ["2026-10-03 15:30", "2026-10-04 15:15"],
    ),
    # midnight-based schedules across the change keep their wall time
    ("0 0 9 ? * *", NEW_YORK, "2026-03-07 00:00", ["2026-03-07 14:00", "2026-03-08 13:00"]),
]


@pytest.mark.parametrize(("expression", "zone", "after", "expected"), DST)
def test_daylight_saving(expression: str, zone: ZoneInfo, after: str, expected: list[str]) -> None:
    cron = parse_quartz(expression)
    assert cron.occurrences(at(after), zone, len(expected)) == [at(text) for text in expected]


def test_wall_to_utc_policy() -> None:
    assert wall_to_utc(datetime(2026, 3, 29, 3, 30), ATHENS) == at("2026-03-29 01:00")  # gap
    assert wall_to_utc(datetime(2026, 10, 25, 3, 30), ATHENS) == at("2026-10-25 00:30")  # first pass
    assert wall_to_utc(datetime(2026, 7, 1, 12, 0), ATHENS) == at("2026-07-01 09:00")


def test_next_fire_skips_excluded_days() -> None:
    cron = parse_quartz("0 0 9 ? * MON-FRI")
    holidays = {date(2025, 1, 1), date(2025, 1, 2)}
    assert next_fire(cron, UTC_ZONE, START, holidays.__contains__) == at("2025-01-03 09:00")
    assert next_fire(cron, UTC_ZONE, START) == at("2025-01-01 09:00")
    # the day is read in the zone given: 23:30 UTC on the 1st is already the 2nd in Athens
    late = parse_quartz("0 30 23 ? * *")
    assert next_fire(late, UTC_ZONE, START, {date(2025, 1, 1)}.__contains__) == at("2025-01-02 23:30")
    excluded_in_athens = {date(2025, 1, 2)}.__contains__
    found = next_fire(late, UTC_ZONE, START, excluded_in_athens, excluded_zone=ATHENS)
    assert found == at("2025-01-02 23:30")  # 01:30 on the 2nd in Athens is skipped, the 3rd's is not


def test_next_fire_every_minute_skips_a_whole_day_and_is_bounded() -> None:
    cron = parse_quartz("0 * * ? * *")
    assert next_fire(cron, ATHENS, START, {date(2025, 1, 1)}.__contains__) == at("2025-01-01 22:00")
    assert next_fire(cron, UTC_ZONE, START, lambda day: True) is None  # every day excluded: gives up


def test_occurrences_stop_when_the_expression_runs_out() -> None:
    cron = parse_quartz("0 0 0 1 1 ? 2098-2099")
    assert cron.occurrences(START, UTC_ZONE, 5) == [at("2098-01-01 00:00"), at("2099-01-01 00:00")]
    every_day = parse_quartz("0 0 0 * * ?")
    assert every_day.next_after(at("2099-12-31 12:00"), UTC_ZONE) is None
    assert every_day.next_after(datetime(9999, 12, 31, 23, tzinfo=UTC), ZoneInfo("Asia/Tokyo")) is None


SUMMARIES = [
    ("0 30 9 * * ?", "Every day at 09:30"),
    ("0 30 9 ? * *", "Every day at 09:30"),
    ("0 0 8 ? * MON-FRI", "At 08:00 on Monday through Friday"),
    ("0 0 8 ? * 2-6", "At 08:00 on Monday through Friday"),
    ("0 0/5 * 1/1 * ? *", "Every 5 minutes"),
    ("0 */5 * * * ?", "Every 5 minutes"),
    ("0 * * ? * *", "Every minute"),
    ("* * * ? * *", "Every second"),
    ("0/10 * * ? * *", "Every 10 seconds"),
    ("0 0 0/1 1/1 * ? *", "Every hour"),
    ("0 0 0/2 ? * *", "Every 2 hours"),
    ("0 15 * ? * *", "Every hour at minute 15"),
    ("0 0 8,17 ? * *", "Every day at 08:00 and 17:00"),
    ("0 0/30 8-9 ? * MON-FRI *", "Every 30 minutes between 08:00 and 09:59, on Monday through Friday"),
    ("0 15 10 L * ?", "At 10:15 on the last day of the month"),
    ("0 15 10 L-3 * ?", "At 10:15 3 days before the last day of the month"),
    ("0 0 0 LW * ?", "At 00:00 on the last weekday of the month"),
    ("0 0 12 15W * ?", "At 12:00 on the weekday nearest day 15 of the month"),
    ("0 15 10 ? * 6L", "At 10:15 on the last Friday of the month"),
    ("0 15 10 ? * 6#3", "At 10:15 on the third Friday of the month"),
    ("0 0 12 1,15 * ?", "At 12:00 on day 1 and 15 of the month"),
    ("0 0 0 ? 1/5 SUN *", "At 00:00 on Sunday, in January, June and November"),
    ("0 0 9 ? JAN-MAR MON 2026", "At 09:00 on Monday, in January through March, in 2026"),
    ("0 30 9 ? * MON,WED,FRI", "At 09:30 on Monday, Wednesday and Friday"),
    ("15 30 9 * * ?", "Every day at 09:30:15"),
]


@pytest.mark.parametrize(("expression", "summary"), SUMMARIES)
def test_summary(expression: str, summary: str) -> None:
    assert parse_quartz(expression).summary() == summary


def test_generic_summaries_name_every_field() -> None:
    text = parse_quartz("5,10 1-5 3 ? * *").summary()
    assert "5 and 10" in text and "1 through 5" in text and "3" in text


BAD = [
    ("", "required"),
    ("   ", "required"),
    ("*/5 * * * *", "'0 */5 * * * ?'"),  # Unix cron: refused with its Quartz spelling
    ("0 9 * * 1-5", "'0 0 9 ? * 2-6'"),  # Unix Monday-Friday is Quartz 2-6
    ("30 2 1 * *", "'0 30 2 1 * ?'"),
    ("1 2 3", "6 or 7"),
    ("0 0 0 ? * * * *", "6 or 7"),
    ("0 0 12 * * *", "must be '?'"),
    ("0 0 12 ? * ?", "not both"),
    ("? 0 12 * * ?", "'?' is allowed only"),
    ("60 0 12 * * ?", "0 to 59"),
    ("0 60 12 * * ?", "0 to 59"),
    ("0 0 24 * * ?", "0 to 23"),
    ("0 0 12 0 * ?", "1 to 31"),
    ("0 0 12 32 * ?", "1 to 31"),
    ("0 0 12 1 13 ?", "1 to 12"),
    ("0 0 12 1 FOO ?", "not a valid month"),
    ("0 0 12 ? * 0", "1 to 7"),
    ("0 0 12 ? * 8", "1 to 7"),
    ("0 0 12 ? * FUN", "not a valid day-of-week"),
    ("0 0 12 ? * 6#0", "from 1 to 5"),
    ("0 0 12 ? * 6#6", "from 1 to 5"),
    ("0 0 12 ? * 2#1,3#1", "'#' takes one day"),
    ("0 0 12 ? * 1-L", "stands alone"),
    ("0 0 12 L,15 * ?", "stand alone"),
    ("0 0 12 1-5W * ?", "stand alone"),
    ("0 0 12 L-31 * ?", "L-n"),
    ("0 0 12 32W * ?", "1 to 31"),
    ("0 */0 * ? * *", "increment"),
    ("0 0/61 * ? * *", "increment"),
    ("0 0/ * ? * *", "'/' must be followed"),
    ("0 5-x * ? * *", "not a valid minutes"),
    ("0 0 0 ? * * 1969", "1970 to 2099"),
    ("0 0 0 ? * * 2100", "1970 to 2099"),
    ("0 0 0 ? * * ?", "not a valid year"),
    ("0 0 0 ,1 * ?", "not a valid day-of-month"),
    ("0 0 0 1 * ? " + "1" * 300, "longer than"),
    ("٣ 0 0 ? * *", "not a valid seconds"),  # non-ASCII digits
]


@pytest.mark.parametrize(("expression", "message"), BAD, ids=[row[0][:40] or "empty" for row in BAD])
def test_bad_expressions_are_a_400_naming_the_field(expression: str, message: str) -> None:
    with pytest.raises(PodiumError) as caught:
        parse_quartz(expression, "StartProcessCron")
    assert caught.value.status == 400
    assert caught.value.message.startswith("StartProcessCron")
    assert message in caught.value.message


def test_the_field_name_is_the_callers() -> None:
    with pytest.raises(PodiumError) as caught:
        parse_quartz("* * * * *", "CronExpression")
    assert caught.value.message.startswith("CronExpression")


def test_non_string_is_refused() -> None:
    with pytest.raises(PodiumError):
        parse_quartz(5)  # type: ignore[arg-type]


# -- a cross-check: the search against a day-by-day scan written independently of it ------------------

SECONDS_SETS = {"0": {0}, "30": {30}, "10,40": {10, 40}}
MINUTE_SETS = {
    "*": set(range(60)),
    "0/15": {0, 15, 30, 45},
    "5": {5},
    "10-20": set(range(10, 21)),
    "0,30": {0, 30},
    "*/7": set(range(0, 60, 7)),
    "50-5": set(range(50, 60)) | set(range(6)),
}
HOUR_SETS = {
    "*": set(range(24)),
    "9": {9},
    "22-2": {22, 23, 0, 1, 2},
    "0/6": {0, 6, 12, 18},
    "8,17": {8, 17},
    "23": {23},
}
MONTH_SETS = {
    "*": set(range(1, 13)),
    "JAN-MAR": {1, 2, 3},
    "2": {2},
    "1/4": {1, 5, 9},
    "NOV-FEB": {11, 12, 1, 2},
}


def _last_day(day: date) -> int:
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return (following - date(day.year, day.month, 1)).days


def _quartz_weekday(day: date) -> int:
    return {6: 1, 0: 2, 1: 3, 2: 4, 3: 5, 4: 6, 5: 7}[day.weekday()]


def _nearest_weekday_to(n: int) -> Callable[[date], bool]:
    def check(day: date) -> bool:
        last = _last_day(day)
        if n > last:
            return False
        target = date(day.year, day.month, n)
        if target.weekday() == 5:
            target = target.replace(day=n - 1) if n > 1 else target.replace(day=n + 2)
        elif target.weekday() == 6:
            target = target.replace(day=n + 1) if n < last else target.replace(day=n - 2)
        return day == target

    return check


def _last_weekday(day: date) -> bool:
    last = date(day.year, day.month, _last_day(day))
    while last.weekday() >= 5:
        last = last.replace(day=last.day - 1)
    return day == last


DAY_RULES: dict[tuple[str, str], Callable[[date], bool]] = {
    ("*", "?"): lambda d: True,
    ("?", "*"): lambda d: True,
    ("1,15", "?"): lambda d: d.day in (1, 15),
    ("31", "?"): lambda d: d.day == 31,
    ("L", "?"): lambda d: d.day == _last_day(d),
    ("L-3", "?"): lambda d: d.day == _last_day(d) - 3,
    ("LW", "?"): _last_weekday,
    ("15W", "?"): _nearest_weekday_to(15),
    ("1W", "?"): _nearest_weekday_to(1),
    ("31W", "?"): _nearest_weekday_to(31),
    ("?", "MON-FRI"): lambda d: d.weekday() < 5,
    ("?", "1,7"): lambda d: d.weekday() >= 5,
    ("?", "FRI-MON"): lambda d: d.weekday() in (4, 5, 6, 0),
    ("?", "6L"): lambda d: d.weekday() == 4 and d.day + 7 > _last_day(d),
    ("?", "2#1"): lambda d: d.weekday() == 0 and d.day <= 7,
    ("?", "6#5"): lambda d: d.weekday() == 4 and d.day > 28,
    ("?", "4"): lambda d: _quartz_weekday(d) == 4,
}


def _scan(
    sec: str, minute: str, hour: str, days: tuple[str, str], month: str, after: datetime
) -> list[datetime]:
    """The first three matches after ``after`` (UTC), day by day over ten years."""
    found: list[datetime] = []
    day = after.date()
    for _ in range(3700):
        if day.month in MONTH_SETS[month] and DAY_RULES[days](day):
            for h in sorted(HOUR_SETS[hour]):
                for m in sorted(MINUTE_SETS[minute]):
                    for s in sorted(SECONDS_SETS[sec]):
                        moment = datetime(day.year, day.month, day.day, h, m, s, tzinfo=UTC)
                        if moment > after:
                            found.append(moment)
                            if len(found) == 3:
                                return found
        day = date.fromordinal(day.toordinal() + 1)
    return found


def _combinations() -> list[tuple[str, str, str, tuple[str, str], str, datetime]]:
    chooser = random.Random(20261206)
    cases = []
    for _ in range(300):
        after = START + timedelta(
            minutes=chooser.randrange(0, 3 * 366 * 24 * 60), seconds=chooser.choice([0, 30])
        )
        cases.append(
            (
                chooser.choice(sorted(SECONDS_SETS)),
                chooser.choice(sorted(MINUTE_SETS)),
                chooser.choice(sorted(HOUR_SETS)),
                chooser.choice(sorted(DAY_RULES)),
                chooser.choice(sorted(MONTH_SETS)),
                after,
            )
        )
    return cases


@pytest.mark.parametrize("case", _combinations(), ids=lambda case: " ".join(map(str, case[:5])))
def test_search_agrees_with_a_day_by_day_scan(
    case: tuple[str, str, str, tuple[str, str], str, datetime],
) -> None:
    sec, minute, hour, (dom, dow), month, after = case
    cron = parse_quartz(f"{sec} {minute} {hour} {dom} {month} {dow}")
    assert cron.occurrences(after, UTC_ZONE, 3) == _scan(sec, minute, hour, (dom, dow), month, after)
