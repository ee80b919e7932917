"""Working-day calendar: State Council holidays, 调休 make-up days, Monday–Friday for unknown years.

Pure Python (no Flask), safe to call without an app context. Sources, first match wins:
imported overrides (``load_overrides``), chinese_calendar's tables, then Monday–Friday
(such years are provisional / 暂定 until a notice is imported).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from chinese_calendar import constants as _cc

__all__ = [
    "BUSINESS_TZ",
    "add_working_days",
    "business_today",
    "end_of_business_day",
    "format_cn_date",
    "is_provisional",
    "is_working_day",
    "library_is_off",
    "load_overrides",
    "reset",
    "to_business_date",
    "working_days_between",
]

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")

# chinese_calendar.is_workday rescans its table on every call, so read its data once.
_LIB_OFF: frozenset[date] = frozenset(_cc.holidays)
_LIB_ON: frozenset[date] = frozenset(_cc.workdays)
_LIB_YEARS: frozenset[int] = frozenset(range(min(_LIB_OFF).year, max(_LIB_OFF).year + 1))

# Precomputed span; dates outside it take the (correct but slower) day-by-day path.
_FIRST = date(2000, 1, 1).toordinal()
_LAST = date(2100, 12, 31).toordinal()

_WEEKDAYS_CN = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass(frozen=True, slots=True)
class _State:
    """One immutable snapshot of the calendar; replaced whole so readers never see a half-built one."""

    overrides: Mapping[date, bool]  # date -> is_off_day
    known_years: frozenset[int]
    cum: array  # cum[i] = working days in [_FIRST, _FIRST + i]
    work_days: tuple[date, ...]  # work_days[k] = the (k+1)-th working day from _FIRST


def _is_working(overrides: Mapping[date, bool], d: date) -> bool:
    """Classify one day from the sources in priority order."""
    off = overrides.get(d)
    if off is not None:
        return not off
    if d in _LIB_ON:
        return True
    if d in _LIB_OFF:
        return False
    return d.weekday() < 5


def _build(overrides: Mapping[date, bool], official_years: Iterable[int]) -> _State:
    """Build a snapshot with its cumulative working-day table."""
    overrides = dict(overrides)
    cum = array("l")
    work_days: list[date] = []
    for ordinal in range(_FIRST, _LAST + 1):
        d = date.fromordinal(ordinal)
        if _is_working(overrides, d):
            work_days.append(d)
        cum.append(len(work_days))
    return _State(overrides, _LIB_YEARS | frozenset(official_years), cum, tuple(work_days))


#: the library's data alone, built once: a database without imported days (a new install, every test) reuses it
_LIBRARY_ONLY: _State = _build({}, ())
_state: _State = _LIBRARY_ONLY


def load_overrides(days: Iterable[tuple[date, bool]], official_years: Iterable[int] = ()) -> None:
    """Replace the override days (date, is_off_day) and the years with an imported official notice."""
    overrides = {}
    for d, is_off in days:
        _check_date(d)
        overrides[d] = bool(is_off)
    years = frozenset(official_years)
    global _state
    _state = _build(overrides, years) if overrides or years else _LIBRARY_ONLY


def reset() -> None:
    """Drop all overrides and imported years, back to chinese_calendar's data only."""
    global _state
    _state = _LIBRARY_ONLY


def _check_date(d: object) -> None:
    """Refuse datetimes: they never equal a date, so a holiday lookup would silently miss."""
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"expected a datetime.date, got {type(d).__name__}; use to_business_date()")


def library_is_off(d: date) -> bool | None:
    """Whether chinese-calendar's official data makes d a day off; None for a year the library does not know."""
    _check_date(d)
    if d.year not in _LIB_YEARS:
        return None
    return d in _LIB_OFF or (d not in _LIB_ON and d.weekday() >= 5)


def is_working_day(d: date) -> bool:
    """True when d is a working day (make-up weekend days included, holidays excluded)."""
    _check_date(d)
    return _is_working(_state.overrides, d)


def is_provisional(d: date) -> bool:
    """True when d's year has no official data, so Monday–Friday was assumed."""
    _check_date(d)
    return d.year not in _state.known_years


def _count(state: _State, first: int, last: int) -> int:
    """Working days between two ordinals, both inclusive (slow path)."""
    return sum(_is_working(state.overrides, date.fromordinal(o)) for o in range(first, last + 1))


def _prefix(state: _State, d: date) -> int:
    """Working days in [_FIRST, d]; negative before the table so differences stay exact."""
    o = d.toordinal()
    if o < _FIRST:
        return -_count(state, o + 1, _FIRST - 1)
    if o > _LAST:
        return state.cum[-1] + _count(state, _LAST + 1, o)
    return state.cum[o - _FIRST]


def working_days_between(a: date, b: date) -> int:
    """Number of working days in (a, b]; 0 when b <= a."""
    _check_date(a)
    _check_date(b)
    if b <= a:
        return 0
    state = _state
    return _prefix(state, b) - _prefix(state, a)


def add_working_days(d: date, n: int) -> date:
    """The n-th working day strictly after d (the start day is not counted); d itself when n == 0."""
    _check_date(d)
    if n < 0:
        raise ValueError("n must be >= 0")
    if n == 0:
        return d
    state = _state
    o = d.toordinal()
    if _FIRST <= o <= _LAST:
        k = state.cum[o - _FIRST] + n
        if k <= len(state.work_days):
            return state.work_days[k - 1]
    return _walk(state, d, n)


def _walk(state: _State, d: date, n: int) -> date:
    """Slow path for dates beyond the table: step one day at a time."""
    day = timedelta(days=1)
    while n:
        d += day
        n -= _is_working(state.overrides, d)
    return d


def _utc(ts: datetime) -> datetime:
    """Treat a naive timestamp as UTC (timestamps are stored in UTC; SQLite drops tzinfo)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


def to_business_date(ts: datetime) -> date:
    """The Asia/Shanghai calendar date of a timestamp."""
    return _utc(ts).astimezone(BUSINESS_TZ).date()


def business_today(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai; now defaults to the current UTC time."""
    return to_business_date(now if now is not None else datetime.now(UTC))


def start_of_business_day(d: date) -> datetime:
    """00:00 Asia/Shanghai on d, as a UTC-aware datetime (where a business date's figures begin)."""
    _check_date(d)
    return datetime.combine(d, time(0), tzinfo=BUSINESS_TZ).astimezone(UTC)


def end_of_business_day(d: date) -> datetime:
    """23:59:59 Asia/Shanghai on d, as a UTC-aware datetime (a deadline's cut-off)."""
    _check_date(d)
    return datetime.combine(d, time(23, 59, 59), tzinfo=BUSINESS_TZ).astimezone(UTC)


def format_cn_date(d: date, *, today: date | None = None) -> str:
    """Short Chinese date with weekday, e.g. 11月28日（周五）; with the year when it is not this year's
    (2027年1月15日（周五）), so a date in another year is never mistaken for one in this year."""
    this_year = (today or business_today()).year
    year = f"{d.year}年" if d.year != this_year else ""
    return f"{year}{d.month}月{d.day}日（{_WEEKDAYS_CN[d.weekday()]}）"
