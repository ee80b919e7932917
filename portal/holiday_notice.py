"""Parse and validate a State Council holiday notice in the holiday-cn JSON layout.

``{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}, ...]}``
Pure Python; error messages are in Simplified Chinese and name the offending entry (numbered from 1).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

__all__ = ["STATUTORY_HOLIDAYS", "Notice", "NoticeDay", "NoticeError", "check_complete", "missing_holidays",
           "parse_notice"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MIN_YEAR, _MAX_YEAR = 2000, 2100
#: a notice is complete only when it covers all seven (SPEC §5); names may be combined, e.g. 中秋节、国庆节
STATUTORY_HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
_NAME_SEPARATORS = re.compile(r"[、,，/;；\s]+")


class NoticeError(ValueError):
    """A notice that cannot be imported; the message is shown to the supervisor as is."""


class NoticeDay(NamedTuple):
    """One listed day: a holiday (is_off_day) or a make-up working day on a weekend."""

    date: date
    name: str
    is_off_day: bool


@dataclass(frozen=True)
class Notice:
    """A validated notice: its year and its listed days, sorted by date."""

    year: int
    days: list[NoticeDay] = field(default_factory=list)

    def overrides(self) -> list[tuple[date, bool]]:
        """The (date, is_off_day) pairs for ``portal.calendar.load_overrides``."""
        return [(d.date, d.is_off_day) for d in self.days]


def parse_notice(text: str) -> Notice:
    """Parse notice JSON text, raising NoticeError with a Chinese message on any problem."""
    data = _load_json(text)
    year = _read_year(data)
    raw_days = data.get("days")
    if raw_days is None:
        raise NoticeError("缺少日期列表（days）")
    if not isinstance(raw_days, list):
        raise NoticeError("日期列表（days）应为数组")
    if not raw_days:
        raise NoticeError("日期列表（days）为空")
    days = _dedupe([_read_day(i, entry, year) for i, entry in enumerate(raw_days, start=1)])
    _check_mostly_in_year(days, year)
    _check_year_boundary(days, year)
    return Notice(year=year, days=[day for _, day in sorted(days.items())])


def _holiday_key(name: str) -> str:
    """清明 and 清明节 are one holiday."""
    return name if name == "元旦" else name.removesuffix("节")


def missing_holidays(notice: Notice) -> list[str]:
    """The statutory holidays none of the notice's days off names (in the order of STATUTORY_HOLIDAYS)."""
    named = {_holiday_key(part) for day in notice.days if day.is_off_day
             for part in _NAME_SEPARATORS.split(day.name) if part}
    return [name for name in STATUTORY_HOLIDAYS if _holiday_key(name) not in named]


def check_complete(notice: Notice) -> None:
    """Refuse a notice that does not cover the seven statutory holidays: it would make a whole year official."""
    missing = missing_holidays(notice)
    if missing:
        raise NoticeError(
            f"{notice.year} 年通知不完整，缺少：{'、'.join(missing)}。完整的国务院放假通知须包含七个法定节假日"
            f"（{'、'.join(STATUTORY_HOLIDAYS)}；名称可合并，如“中秋节、国庆节”），不完整的通知不予导入，"
            f"{notice.year} 年仍为暂定。只需设置个别日期时请使用“手工设置一天”。")


def _check_year_boundary(days: dict[date, NoticeDay], year: int) -> None:
    """Days of an adjacent year only as part of a holiday run across the New Year (2023 lists 2022-12-31)."""
    for day in days:
        if day.year == year:
            continue
        # every day between it and the boundary, and the first/last day of the notice year, must be listed too
        first, last = (day, date(year, 1, 1)) if day.year < year else (date(year, 12, 31), day)
        run = (first.toordinal() + i for i in range(last.toordinal() - first.toordinal() + 1))
        if not all(date.fromordinal(o) in days for o in run):
            raise NoticeError(
                f"日期“{day.isoformat()}”属于 {day.year} 年：{year} 年的通知只能列出与 {year} 年相连的跨年假期"
                f"中相邻年份的日期（如 2023 年通知中的 2022-12-31）")


def _load_json(text: str) -> dict[str, Any]:
    """Decode the text into a JSON object."""
    try:
        data = json.loads(text.removeprefix("\ufeff"))  # files saved by Windows editors start with a BOM
    except json.JSONDecodeError as exc:
        raise NoticeError(f"不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有错误") from exc
    if not isinstance(data, dict):
        raise NoticeError("通知内容应为 JSON 对象（以 { 开头）")
    return data


def _read_year(data: dict[str, Any]) -> int:
    """The notice year: an integer within the supported span."""
    if "year" not in data:
        raise NoticeError("缺少年份（year）")
    year = data["year"]
    if isinstance(year, bool) or not isinstance(year, int):
        raise NoticeError(f"年份（year）应为整数，实际为“{year}”")
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise NoticeError(f"年份 {year} 超出支持范围（{_MIN_YEAR}–{_MAX_YEAR}）")
    return year


def _read_day(index: int, entry: Any, year: int) -> tuple[int, NoticeDay]:
    """Validate one entry of days[]; index is 1-based for the message."""
    if not isinstance(entry, dict):
        raise NoticeError(f"第 {index} 条应为对象，实际为“{entry}”")
    if "date" not in entry:
        raise NoticeError(f"第 {index} 条缺少日期（date）")
    if "isOffDay" not in entry:
        raise NoticeError(f"第 {index} 条缺少是否放假（isOffDay）")
    day = _read_date(index, entry["date"], year)
    is_off = entry["isOffDay"]
    if not isinstance(is_off, bool):
        raise NoticeError(f"第 {index} 条的 isOffDay 应为 true 或 false，实际为“{is_off}”")
    name = entry.get("name", "")
    if not isinstance(name, str):
        raise NoticeError(f"第 {index} 条的名称（name）应为文字，实际为“{name}”")
    return index, NoticeDay(day, name.strip(), is_off)


def _read_date(index: int, value: Any, year: int) -> date:
    """A strict YYYY-MM-DD date belonging to the notice year (or its New Year bridge)."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise NoticeError(f"第 {index} 条的日期“{value}”格式应为 YYYY-MM-DD")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise NoticeError(f"第 {index} 条的日期“{value}”不是有效日期") from None
    # Notices may list the 元旦 bridge (2023 lists 2022-12-31): allow Dec of year-1 and Jan of year+1 only.
    bridge = (day.year == year - 1 and day.month == 12) or (day.year == year + 1 and day.month == 1)
    if day.year != year and not bridge:
        raise NoticeError(f"第 {index} 条的日期“{value}”不属于 {year} 年的通知")
    return day


def _dedupe(entries: list[tuple[int, NoticeDay]]) -> dict[date, NoticeDay]:
    """Collapse repeated dates; refuse a date listed both as a day off and as a working day."""
    seen: dict[date, tuple[int, NoticeDay]] = {}
    for index, day in entries:
        first = seen.get(day.date)
        if first is None:
            seen[day.date] = (index, day)
        elif first[1].is_off_day != day.is_off_day:
            raise NoticeError(
                f"第 {index} 条的日期“{day.date.isoformat()}”与第 {first[0]} 条重复，但一条为放假、一条为上班"
            )
    return {d: day for d, (_, day) in seen.items()}


def _check_mostly_in_year(days: dict[date, NoticeDay], year: int) -> None:
    """Catch a wrong year field: most listed dates must fall in the notice year itself."""
    in_year = sum(d.year == year for d in days)
    if in_year * 2 <= len(days):
        raise NoticeError(f"通知中只有 {in_year} 天属于 {year} 年（共 {len(days)} 天），请核对年份（year）")
