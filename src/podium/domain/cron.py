"""Orchestrator's cron dialect (Quartz): parsing, next occurrences in a time zone, a human summary.

Orchestrator triggers carry Quartz expressions: ``sec min hour day-of-month month day-of-week [year]``,
seconds first, day-of-week 1 = Sunday … 7 = Saturday (or ``SUN``-``SAT``), ``?`` in exactly one of the
two day fields, ``L``/``L-n``/``W``/``LW`` in day-of-month, ``L``/``nL``/``n#k`` in day-of-week, an
optional year 1970-2099. Unix 5-field cron is refused with the Quartz spelling of what was sent.

This is our own small evaluator rather than croniter with an adapter: croniter has no ``L-n`` and no
``LW``, numbers the week from 0 = Sunday, reads a 6-field string as seconds *last* unless told, and
its daylight-saving behaviour is not ours to choose (docs/decisions.md). Evaluation works on wall-clock
times in the trigger's zone and maps each one to an instant by one policy:

* a wall time that does not exist (spring forward) fires once, at the first instant after the gap;
* a wall time that happens twice (fall back) fires once, at its first occurrence.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from podium.errors import ErrorCode, PodiumError

MIN_YEAR = 1970
MAX_YEAR = 2099
MAX_LENGTH = 256

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MONTH_WORDS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
DAY_WORDS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
ORDINALS = ("first", "second", "third", "fourth", "fifth")


def cron_error(field_name: str, message: str) -> PodiumError:
    """The 400 every bad expression answers: the field named, Orchestrator's InvalidCron meaning."""
    return PodiumError(f"{field_name}: {message}", status=400, code=ErrorCode.VALIDATION)


@dataclass(frozen=True)
class _Spec:
    """One field's limits and names."""

    label: str
    unit: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 1


SECONDS = _Spec("seconds", "second", 0, 59)
MINUTES = _Spec("minutes", "minute", 0, 59)
HOURS = _Spec("hours", "hour", 0, 23)
DAYS = _Spec("day-of-month", "day", 1, 31)
MONTHS = _Spec("month", "month", 1, 12, MONTH_NAMES)
WEEKDAYS = _Spec("day-of-week", "day", 1, 7, DAY_NAMES)
YEARS = _Spec("year", "year", MIN_YEAR, MAX_YEAR)


@dataclass(frozen=True)
class _Item:
    """One comma-separated part of a field: a value, a range (``a-b``, may wrap), a step over either."""

    start: int
    end: int
    step: int = 1
    every: bool = False  # ``*`` (or ``*/n``)


@dataclass(frozen=True)
class _Field:
    items: tuple[_Item, ...]
    values: frozenset[int]
    is_all: bool = False  # every value of the field ("*", "0/1", "1-31"…)
    ordered: tuple[int, ...] = ()  # ``values`` ascending


class _FieldError(Exception):
    pass


_NUMBER = re.compile(r"[0-9]{1,4}")


def _number(text: str, spec: _Spec) -> int:
    up = text.upper()
    if spec.names and up in spec.names:
        return spec.names.index(up) + spec.name_base
    if not _NUMBER.fullmatch(text):
        raise _FieldError(f"'{text}' is not a valid {spec.label} value")
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise _FieldError(f"{spec.label} values go from {spec.low} to {spec.high}, not {value}")
    return value


def _parse_item(text: str, spec: _Spec) -> _Item:
    base, slash, step_text = text.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or not step_text.isascii():
            raise _FieldError(f"'/' must be followed by a number in '{text}'")
        step = int(step_text)
        if not 1 <= step <= spec.high - spec.low + 1:
            raise _FieldError(f"the {spec.label} increment must be from 1 to {spec.high - spec.low + 1}")
    if base == "*":
        return _Item(spec.low, spec.high, step, every=True)
    first, dash, last = base.partition("-")
    start = _number(first, spec)
    if dash:
        return _Item(start, _number(last, spec), step)
    # "n/s" runs from n to the field's end (Quartz).
    return _Item(start, spec.high if slash else start, step)


def _expand(item: _Item, spec: _Spec) -> list[int]:
    span = spec.high - spec.low + 1
    end = item.end if item.end >= item.start else item.end + span  # wrap-around range ("FRI-MON")
    return [spec.low + (v - spec.low) % span for v in range(item.start, end + 1, item.step)]


def _parse_field(text: str, spec: _Spec) -> _Field:
    if not text:
        raise _FieldError(f"the {spec.label} field is empty")
    items = tuple(_parse_item(part, spec) for part in text.split(","))
    values = frozenset(v for item in items for v in _expand(item, spec))
    return _Field(items, values, len(values) == spec.high - spec.low + 1, tuple(sorted(values)))


# Day-of-month and day-of-week specials.
@dataclass(frozen=True)
class _DomRule:
    """Day-of-month: plain values, or one of ``L``, ``L-n``, ``LW``, ``nW``."""

    plain: _Field | None = None
    last_offset: int | None = None  # L (0) or L-n
    last_weekday: bool = False  # LW
    nearest_weekday: int | None = None  # nW


@dataclass(frozen=True)
class _DowRule:
    """Day-of-week (1 = Sunday): plain values, or one of ``nL`` (last n-day), ``n#k`` (k-th n-day)."""

    plain: _Field | None = None
    last_of: int | None = None
    nth: tuple[int, int] | None = None  # (day, k)


_L_MINUS = re.compile(r"L-([0-9]{1,2})")
_NEAREST = re.compile(r"([0-9]{1,2})W")


def _parse_dom(text: str) -> _DomRule:
    up = text.upper()
    if up == "L":
        return _DomRule(last_offset=0)
    if up == "LW":
        return _DomRule(last_weekday=True)
    if match := _L_MINUS.fullmatch(up):
        offset = int(match.group(1))
        if offset > 30:
            raise _FieldError("the offset in 'L-n' must be from 0 to 30")
        return _DomRule(last_offset=offset)
    if match := _NEAREST.fullmatch(up):
        return _DomRule(nearest_weekday=_number(match.group(1), DAYS))
    if "L" in up or "W" in up:
        raise _FieldError(
            f"'{text}' is not valid in day-of-month: 'L', 'L-n', 'LW' and 'nW' stand alone, "
            "not in lists or ranges"
        )
    return _DomRule(plain=_parse_field(text, DAYS))


def _parse_dow(text: str) -> _DowRule:
    up = text.upper()
    if up == "L":  # alone, Quartz reads it as 7 = Saturday
        return _DowRule(plain=_parse_field("7", WEEKDAYS))
    if up.endswith("L") and "," not in up and "-" not in up and "/" not in up:
        return _DowRule(last_of=_number(text[:-1], WEEKDAYS))
    if "#" in up:
        day_text, _, nth_text = text.partition("#")
        if "," in up or "-" in day_text or "/" in up:
            raise _FieldError("'#' takes one day of the week, as in '6#3' (the third Friday)")
        if not (nth_text.isascii() and nth_text.isdigit()) or not 1 <= int(nth_text) <= 5:
            raise _FieldError(f"the week number after '#' must be from 1 to 5 in '{text}'")
        return _DowRule(nth=(_number(day_text, WEEKDAYS), int(nth_text)))
    if "L" in up:  # no day name has an L
        raise _FieldError(f"'{text}' is not valid in day-of-week: 'nL' stands alone")
    return _DowRule(plain=_parse_field(text, WEEKDAYS))


def _weekday_quartz(year: int, month: int, day: int) -> int:
    """Quartz day-of-week of a date: 1 = Sunday … 7 = Saturday."""
    return (date(year, month, day).weekday() + 1) % 7 + 1


@dataclass(frozen=True, eq=False)
class QuartzCron:
    """A parsed Quartz expression; ``expression`` is kept as sent (Orchestrator stores it verbatim)."""

    expression: str
    seconds: _Field
    minutes: _Field
    hours: _Field
    months: _Field
    years: _Field | None
    dom: _DomRule | None  # exactly one of dom/dow is set (the other was '?')
    dow: _DowRule | None
    _days_cache: dict[tuple[int, int], tuple[int, ...]] = field(default_factory=dict, repr=False)

    # --- evaluation ---------------------------------------------------------------------------

    def _days(self, year: int, month: int) -> tuple[int, ...]:
        """The days of ``month`` that match, ascending (cached: a few hundred months at most)."""
        key = (year, month)
        cached = self._days_cache.get(key)
        if cached is not None:
            return cached
        last = calendar.monthrange(year, month)[1]
        days: list[int] = []
        if self.dom is not None:
            rule = self.dom
            if rule.plain is not None:
                days = [d for d in sorted(rule.plain.values) if d <= last]
            elif rule.last_offset is not None:
                if last - rule.last_offset >= 1:
                    days = [last - rule.last_offset]
            elif rule.last_weekday:
                d = last
                while _weekday_quartz(year, month, d) in (1, 7):
                    d -= 1
                days = [d]
            elif rule.nearest_weekday is not None and rule.nearest_weekday <= last:
                days = [_nearest_weekday(year, month, rule.nearest_weekday, last)]
        elif self.dow is not None:
            rule_w = self.dow
            first = _weekday_quartz(year, month, 1)
            if rule_w.plain is not None:
                days = [d for d in range(1, last + 1) if (first + d - 2) % 7 + 1 in rule_w.plain.values]
            elif rule_w.last_of is not None:
                d = last
                while _weekday_quartz(year, month, d) != rule_w.last_of:
                    d -= 1
                days = [d]
            elif rule_w.nth is not None:
                day, k = rule_w.nth
                d = 1 + (day - first) % 7 + 7 * (k - 1)
                days = [d] if d <= last else []
        result = tuple(days)
        if len(self._days_cache) < 4096:
            self._days_cache[key] = result
        return result

    def _next_wall(self, start: datetime) -> datetime | None:
        """The first wall-clock time at or after ``start`` (naive, whole seconds) that matches."""
        secs, mins, hours = self.seconds.ordered, self.minutes.ordered, self.hours.ordered
        months = self.months.ordered
        years = self.years.values if self.years is not None else None
        y, mo, d = start.year, start.month, start.day
        h, mi, s = start.hour, start.minute, start.second
        while y <= MAX_YEAR:
            if years is not None and y not in years:
                later = [v for v in years if v > y]
                if not later:
                    return None
                y, mo, d, h, mi, s = min(later), 1, 1, 0, 0, 0
                continue
            mo_next = _at_least(months, mo)
            if mo_next is None:
                y, mo, d, h, mi, s = y + 1, 1, 1, 0, 0, 0
                continue
            if mo_next != mo:
                mo, d, h, mi, s = mo_next, 1, 0, 0, 0
            d_next = _at_least(self._days(y, mo), d)
            if d_next is None:
                y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
                d, h, mi, s = 1, 0, 0, 0
                continue
            if d_next != d:
                d, h, mi, s = d_next, 0, 0, 0
            h_next = _at_least(hours, h)
            if h_next is None:
                y, mo, d = _day_after(y, mo, d)
                h, mi, s = 0, 0, 0
                continue
            if h_next != h:
                h, mi, s = h_next, 0, 0
            mi_next = _at_least(mins, mi)
            if mi_next is None:
                h, mi, s = h + 1, 0, 0
                if h == 24:
                    y, mo, d = _day_after(y, mo, d)
                    h = 0
                continue
            if mi_next != mi:
                mi, s = mi_next, 0
            s_next = _at_least(secs, s)
            if s_next is None:
                mi, s = mi + 1, 0
                if mi == 60:
                    h, mi = h + 1, 0
                    if h == 24:
                        y, mo, d = _day_after(y, mo, d)
                        h = 0
                continue
            return datetime(y, mo, d, h, mi, s_next)
        return None

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first occurrence strictly after ``after`` (aware; naive is read as UTC), as aware UTC, or
        None when there is none (a past year). Wall times are read in ``zone`` (module docstring)."""
        after_utc = _as_utc(after)
        if after_utc.year > MAX_YEAR:  # no occurrence, and the zone's wall clock may not fit a datetime
            return None
        wall = after_utc.astimezone(zone).replace(tzinfo=None, fold=0, microsecond=0)
        # Walls before ``wall`` map to instants <= after; a few after it may too (the second pass of a
        # repeated hour maps to the first one), hence the loop. Bounded: a repeated hour holds at most
        # 3,600 matching seconds.
        for _ in range(10_000):
            candidate = self._next_wall(wall)
            if candidate is None:
                return None
            instant = wall_to_utc(candidate, zone)
            if instant > after_utc:
                return instant
            wall = candidate + timedelta(seconds=1)
        return None

    def occurrences(self, after: datetime, zone: ZoneInfo, count: int) -> list[datetime]:
        """The next ``count`` occurrences after ``after`` (fewer when the expression runs out)."""
        found: list[datetime] = []
        current: datetime | None = after
        while current is not None and len(found) < count:
            current = self.next_after(current, zone)
            if current is not None:
                found.append(current)
        return found

    # --- description ---------------------------------------------------------------------------

    def summary(self) -> str:
        """A human sentence: "Every day at 09:30", "At 08:00 on Monday through Friday", "Every 5 minutes"."""
        return _summary(self)


def _at_least(ordered: tuple[int, ...], value: int) -> int | None:
    """The first of ``ordered`` (ascending) that is ``value`` or more."""
    index = bisect.bisect_left(ordered, value)
    return ordered[index] if index < len(ordered) else None


def _nearest_weekday(year: int, month: int, day: int, last: int) -> int:
    """Quartz ``nW``: the weekday nearest ``day``, never leaving the month."""
    weekday = _weekday_quartz(year, month, day)
    if weekday == 7:  # Saturday → Friday, or Monday when that is the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 1:  # Sunday → Monday, or Friday when that is the month's last day
        return day + 1 if day < last else day - 2
    return day


def _day_after(y: int, mo: int, d: int) -> tuple[int, int, int]:
    nxt = date(y, mo, d) + timedelta(days=1)
    return nxt.year, nxt.month, nxt.day


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def wall_to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant of a naive wall-clock time in ``zone``: its first occurrence when the hour repeats
    (fall back), the first instant after the gap when it does not exist (spring forward)."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # In a gap fold=0 uses the offset before the transition (a later instant), fold=1 the one after
    # (an earlier instant); the transition lies between: find its second.
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    after_offset = high.astimezone(zone).utcoffset()
    lo_s, hi_s = int(low.timestamp()), int(high.timestamp())
    while lo_s < hi_s:
        mid = (lo_s + hi_s) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == after_offset:
            hi_s = mid
        else:
            lo_s = mid + 1
    return datetime.fromtimestamp(hi_s, UTC)


def next_fire(
    cron: QuartzCron,
    zone: ZoneInfo,
    after: datetime,
    excluded: Callable[[date], bool] | None = None,
    *,
    excluded_zone: ZoneInfo | None = None,
) -> datetime | None:
    """The next occurrence after ``after`` whose local date is not ``excluded`` (a calendar's days off).

    The date is read in ``excluded_zone`` when given, else in ``excluded.zone`` when the callable has
    one (calendars.ExcludedDates), else in ``zone``. An excluded day is skipped whole: the search goes
    on from the next local midnight, at most 10,000 times (27 years of consecutive days off), then None.
    """
    if excluded is None:
        return cron.next_after(after, zone)
    date_zone = excluded_zone or getattr(excluded, "zone", None) or zone
    current = after
    for _ in range(10_000):
        found = cron.next_after(current, zone)
        if found is None:
            return None
        day = found.astimezone(date_zone).date()
        if not excluded(day):
            return found
        midnight = wall_to_utc(datetime.combine(day + timedelta(days=1), time()), date_zone)
        current = max(found, midnight - timedelta(microseconds=1))
    return None


# --- parsing -------------------------------------------------------------------------------------


def parse_quartz(expression: str, field: str = "StartProcessCron") -> QuartzCron:
    """Parse a Quartz expression or raise a 400 naming ``field`` with what is wrong and how to write it.
    Parsed expressions are cached (a scheduler re-reads the same few expressions of many triggers);
    the result is immutable but for its cache of matching days."""
    if not isinstance(expression, str) or not isinstance(field, str):
        raise cron_error(str(field), "a cron expression is required, for example '0 0 9 ? * MON-FRI'.")
    return _parse_cached(expression, field)


@functools.lru_cache(maxsize=4096)
def _parse_cached(expression: str, field: str) -> QuartzCron:
    if not expression.strip():
        raise cron_error(field, "a cron expression is required, for example '0 0 9 ? * MON-FRI'.")
    if len(expression) > MAX_LENGTH:
        raise cron_error(field, f"the cron expression is longer than {MAX_LENGTH} characters.")
    parts = expression.split()
    if len(parts) == 5:
        raise cron_error(field, _unix_hint(parts))
    if len(parts) not in (6, 7):
        raise cron_error(
            field,
            f"'{expression}' has {len(parts)} fields; a Quartz cron expression has 6 or 7: "
            "seconds minutes hours day-of-month month day-of-week [year], e.g. '0 30 9 ? * MON-FRI'.",
        )
    sec, mins, hours, dom, month, dow = parts[:6]
    year = parts[6] if len(parts) == 7 else None
    try:
        for text, spec in ((sec, SECONDS), (mins, MINUTES), (hours, HOURS), (month, MONTHS)):
            if "?" in text:
                raise _FieldError(f"'?' is allowed only in day-of-month or day-of-week, not in {spec.label}")
        if dom == "?" and dow == "?":
            raise _FieldError("'?' can be in day-of-month or day-of-week, not both")
        if dom != "?" and dow != "?":
            raise _FieldError(
                "one of day-of-month and day-of-week must be '?' (Quartz): "
                f"write '{sec} {mins} {hours} {dom} {month} ?' or '{sec} {mins} {hours} ? {month} {dow}'"
            )
        return QuartzCron(
            expression=expression,
            seconds=_parse_field(sec, SECONDS),
            minutes=_parse_field(mins, MINUTES),
            hours=_parse_field(hours, HOURS),
            months=_parse_field(month, MONTHS),
            years=None if year is None or year == "*" else _parse_field(year, YEARS),
            dom=None if dom == "?" else _parse_dom(dom),
            dow=None if dow == "?" else _parse_dow(dow),
        )
    except _FieldError as exc:
        raise cron_error(field, f"'{expression}' is not a valid Quartz cron expression: {exc}.") from None


def _unix_hint(parts: list[str]) -> str:
    """The refusal of a Unix 5-field expression, with its Quartz spelling when one is obvious."""
    minute, hour, dom, month, dow = parts
    quartz: str | None = None
    if dow == "*":
        quartz = f"0 {minute} {hour} {dom} {month} ?"
    elif dom == "*":
        shifted = _shift_unix_dow(dow)
        quartz = None if shifted is None else f"0 {minute} {hour} ? {month} {shifted}"
    if quartz is not None:
        try:
            parse_quartz(quartz)
        except PodiumError:
            quartz = None
    example = f"'{quartz}'" if quartz else "'0 */5 * * * ?' for '*/5 * * * *'"
    return (
        f"'{' '.join(parts)}' is a Unix cron expression (5 fields); triggers take Quartz cron: "
        "seconds minutes hours day-of-month month day-of-week [year], seconds first, '?' in one of the day "
        f"fields, day-of-week 1 = Sunday. Write {example}."
    )


def _shift_unix_dow(dow: str) -> str | None:
    """Unix day-of-week numbers (0/7 = Sunday) as Quartz's (1 = Sunday); names stay; None if unsure."""

    def shift(token: str) -> str | None:
        if token.isdigit() and 0 <= int(token) <= 7:
            return str(int(token) % 7 + 1)
        return token if token.upper() in DAY_NAMES else None

    out: list[str] = []
    for part in dow.split(","):
        if "/" in part or "#" in part:
            return None
        first, dash, last = part.partition("-")
        a = shift(first)
        b = shift(last) if dash else ""
        if a is None or b is None:
            return None
        out.append(f"{a}-{b}" if dash else a)
    return ",".join(out)


# --- summary -------------------------------------------------------------------------------------


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _single(f: _Field) -> int | None:
    item = f.items[0]
    if len(f.items) == 1 and not item.every and item.start == item.end:
        return item.start
    return None


def _step_only(f: _Field, spec: _Spec) -> int | None:
    """``*/n`` or ``low/n``: every n units over the whole field."""
    item = f.items[0]
    span = spec.high - spec.low + 1
    if len(f.items) == 1 and item.start == spec.low and item.end == spec.high and span % item.step == 0:
        return item.step
    return None


def _describe(f: _Field, spec: _Spec, name: Callable[[int], str]) -> str:
    """A field's items in words: "5", "1 through 5", "every 15 minutes from 0 through 59"."""
    words: list[str] = []
    for item in f.items:
        if item.every and item.step == 1:
            words.append(f"every {spec.unit}")
        elif item.step > 1:
            unit = f"{spec.unit}s"
            if item.start == spec.low and item.end == spec.high:
                words.append(f"every {item.step} {unit}")
            else:
                words.append(f"every {item.step} {unit} from {name(item.start)} through {name(item.end)}")
        elif item.start == item.end:
            words.append(name(item.start))
        else:
            words.append(f"{name(item.start)} through {name(item.end)}")
    return _join(words)


def _plural(n: int, unit: str) -> str:
    return f"every {unit}" if n == 1 else f"every {n} {unit}s"


def _time_part(cron: QuartzCron) -> tuple[str, bool]:
    """The time-of-day phrase, and whether it already says "every …" (so the day part reads "on …")."""
    sec, minute, hour = _single(cron.seconds), _single(cron.minutes), _single(cron.hours)
    if sec is not None and minute is not None and hour is not None:
        clock = f"{hour:02d}:{minute:02d}" + (f":{sec:02d}" if sec else "")
        return f"at {clock}", False
    if (
        sec is not None
        and minute is not None
        and all(not i.every and i.step == 1 and i.start == i.end for i in cron.hours.items)
    ):
        clocks = [f"{h:02d}:{minute:02d}" + (f":{sec:02d}" if sec else "") for h in sorted(cron.hours.values)]
        return f"at {_join(clocks)}", False
    phrase: str | None = None
    if cron.hours.is_all:
        if cron.minutes.is_all and cron.seconds.is_all:
            phrase = "every second"
        elif cron.minutes.is_all and (step := _step_only(cron.seconds, SECONDS)) is not None:
            phrase = _plural(step, "second")
        elif sec is not None and cron.minutes.is_all:
            phrase = "every minute" + (f" at second {sec}" if sec else "")
        elif sec is not None and (step := _step_only(cron.minutes, MINUTES)) is not None:
            phrase = _plural(step, "minute") + (f" at second {sec}" if sec else "")
        elif sec is not None and minute is not None:
            phrase = "every hour" + (f" at minute {minute}" if minute else "")
            phrase += f", second {sec}" if sec else ""
    elif sec is not None and minute is not None and (step := _step_only(cron.hours, HOURS)) is not None:
        phrase = _plural(step, "hour") + (f" at minute {minute}" if minute or sec else "")
        phrase += f", second {sec}" if sec else ""
    elif sec is not None and (step := _step_only(cron.minutes, MINUTES)) is not None:
        between = _hours_between(cron.hours)
        phrase = _plural(step, "minute") + (f" at second {sec}" if sec else "")
        phrase += f" {between}" if between else f" during {_hours_words(cron.hours)}"
    elif sec is not None and minute is not None:
        between = _hours_between(cron.hours)
        phrase = f"at minute {minute}" + (f", second {sec}" if sec else "")
        phrase += f" of each hour {between}" if between else f" of {_hours_words(cron.hours)}"
    if phrase is not None:
        return phrase, True
    # Generic: each field from the finest, coarser fields dropped while they are "every …".
    parts: list[str] = []
    fields = ((cron.seconds, SECONDS), (cron.minutes, MINUTES), (cron.hours, HOURS))
    for f, spec in fields:
        if (f is cron.seconds and sec == 0) or (f.is_all and parts and parts[-1].startswith("every")):
            continue
        text = _describe(f, spec, str)
        parts.append(text if text.startswith("every") else f"{spec.label} {text}")
    text = ", ".join(parts)
    return (text if text.startswith("every") else f"at {text}"), True


def _hours_words(hours: _Field) -> str:
    text = _describe(hours, HOURS, str)
    if text.startswith("every"):
        return text
    return ("hour " if len(hours.values) == 1 else "hours ") + text


def _hours_between(hours: _Field) -> str | None:
    """ "between 08:00 and 09:59" when the hours are one range, else None."""
    item = hours.items[0]
    if len(hours.items) == 1 and item.step == 1 and not item.every and item.start != item.end:
        return f"between {item.start:02d}:00 and {item.end:02d}:59"
    return None


def _day_part(cron: QuartzCron) -> str | None:
    """ "on Monday through Friday", "on the last day of the month"…; None for every day."""
    if cron.dom is not None:
        rule = cron.dom
        if rule.plain is not None:
            if rule.plain.is_all:
                return None
            return f"on day {_describe(rule.plain, DAYS, str)} of the month"
        if rule.last_weekday:
            return "on the last weekday of the month"
        if rule.nearest_weekday is not None:
            return f"on the weekday nearest day {rule.nearest_weekday} of the month"
        if rule.last_offset:
            unit = "day" if rule.last_offset == 1 else "days"
            return f"{rule.last_offset} {unit} before the last day of the month"
        return "on the last day of the month"
    assert cron.dow is not None
    rule_w = cron.dow
    if rule_w.last_of is not None:
        return f"on the last {DAY_WORDS[rule_w.last_of - 1]} of the month"
    if rule_w.nth is not None:
        day, k = rule_w.nth
        return f"on the {ORDINALS[k - 1]} {DAY_WORDS[day - 1]} of the month"
    assert rule_w.plain is not None
    if rule_w.plain.is_all:
        return None
    return "on " + _describe(rule_w.plain, WEEKDAYS, lambda d: DAY_WORDS[d - 1])


def _summary(cron: QuartzCron) -> str:
    time_text, is_every = _time_part(cron)
    day_text = _day_part(cron)
    if day_text is None and not is_every:
        sentence = f"every day {time_text}"
    else:
        separator = ", " if is_every else " "
        sentence = time_text + (separator + day_text if day_text else "")
    if not cron.months.is_all:
        if any(item.step > 1 for item in cron.months.items):
            sentence += ", in " + _join([MONTH_WORDS[m - 1] for m in sorted(cron.months.values)])
        else:
            sentence += ", in " + _describe(cron.months, MONTHS, lambda m: MONTH_WORDS[m - 1])
    if cron.years is not None:
        sentence += ", in " + _describe(cron.years, YEARS, str)
    return sentence[0].upper() + sentence[1:]
