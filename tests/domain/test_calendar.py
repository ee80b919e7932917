"""Working-day calendar and holiday-notice parsing; expectations written by hand from the notices."""

import json
import random
import re
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from holiday_facts import MAKEUP_WORKDAYS, OFF_DAYS

from portal import calendar as cal
from portal.holiday_notice import NoticeError, parse_notice

D = date
ONE_DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _library_data_only():
    """Each test starts and ends with chinese_calendar's data only."""
    cal.reset()
    yield
    cal.reset()


def _days(first: date, last: date):
    """Every date from first to last, inclusive."""
    d = first
    while d <= last:
        yield d
        d += ONE_DAY


def _naive_add(d: date, n: int) -> date:
    """Reference add_working_days: step day by day over is_working_day."""
    while n:
        d += ONE_DAY
        n -= cal.is_working_day(d)
    return d


def _naive_between(a: date, b: date) -> int:
    """Reference working_days_between: count (a, b] day by day."""
    return sum(cal.is_working_day(d) for d in _days(a + ONE_DAY, b))


# --- is_working_day -----------------------------------------------------------------------------


def test_every_day_of_2024_to_2026_follows_the_notices():
    wrong = []
    for d in _days(D(2024, 1, 1), D(2026, 12, 31)):
        expected = d in MAKEUP_WORKDAYS or (d.weekday() < 5 and d not in OFF_DAYS)
        if cal.is_working_day(d) != expected:
            wrong.append(d)
    assert wrong == []


def test_agrees_with_chinese_calendar_for_every_known_day():
    # Independent oracle: the library's own (slow) is_workday over all years it knows.
    wrong = [
        d
        for d in _days(D(2004, 1, 1), D(2026, 12, 31))
        if cal.is_working_day(d) != chinese_calendar.is_workday(d)
    ]
    assert wrong == []


@pytest.mark.parametrize(
    "d",
    [
        D(2024, 2, 4),  # Sunday before 春节 2024
        D(2024, 2, 18),  # Sunday after 春节 2024
        D(2024, 9, 29),  # Sunday before 国庆 2024
        D(2024, 10, 12),  # Saturday after 国庆 2024
        D(2025, 1, 26),  # Sunday before 春节 2025
        D(2025, 2, 8),  # Saturday after 春节 2025
        D(2025, 9, 28),  # Sunday before 国庆 2025
        D(2025, 10, 11),  # Saturday after 国庆 2025
        D(2026, 1, 4),  # Sunday after 元旦 2026
        D(2026, 2, 14),  # Saturday before 春节 2026
        D(2026, 2, 28),  # Saturday after 春节 2026
    ],
)
def test_makeup_weekend_days_are_working_days(d):
    assert d.weekday() >= 5
    assert cal.is_working_day(d)


@pytest.mark.parametrize(
    "d",
    [
        D(2024, 2, 12),  # 春节 2024, Monday
        D(2024, 2, 16),  # 春节 2024, Friday
        D(2024, 10, 7),  # 国庆 2024, Monday
        D(2025, 1, 28),  # 除夕 2025, Tuesday
        D(2025, 2, 4),  # 春节 2025, Tuesday
        D(2025, 10, 8),  # 国庆 2025, Wednesday
        D(2026, 1, 2),  # 元旦 2026, Friday
        D(2026, 2, 23),  # 春节 2026, Monday
        D(2026, 9, 25),  # 中秋 2026, Friday
    ],
)
def test_weekday_holidays_are_days_off(d):
    assert d.weekday() < 5
    assert not cal.is_working_day(d)


def test_days_the_notices_do_not_mention_follow_the_week():
    assert cal.is_working_day(D(2024, 2, 9))  # 除夕 2024 (Friday) is not in the notice
    assert cal.is_working_day(D(2025, 10, 9))  # Thursday right after 国庆 2025
    assert not cal.is_working_day(D(2024, 2, 3))  # ordinary Saturday next to a make-up Sunday
    assert not cal.is_working_day(D(2025, 9, 27))  # ordinary Saturday before 国庆 2025


def test_refuses_a_datetime():
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2024, 10, 1, 12, 0))


# --- add_working_days -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2024, 9, 30), 1, D(2024, 10, 8)),  # 国庆 2024: 10-01..10-07 off
        (D(2024, 9, 27), 1, D(2024, 9, 29)),  # make-up Sunday counts
        (D(2024, 9, 27), 2, D(2024, 9, 30)),
        (D(2024, 9, 27), 3, D(2024, 10, 8)),
        (D(2024, 10, 1), 1, D(2024, 10, 8)),  # starting on a holiday
        (D(2024, 10, 8), 4, D(2024, 10, 12)),  # make-up Saturday 10-12
        (D(2024, 2, 2), 1, D(2024, 2, 4)),  # 春节 2024: Sunday 02-04 works
        (D(2024, 2, 8), 1, D(2024, 2, 9)),  # 除夕 2024 is a working day
        (D(2024, 2, 8), 2, D(2024, 2, 18)),  # 02-10..02-17 off, Sunday 02-18 works
        (D(2024, 2, 8), 3, D(2024, 2, 19)),
        (D(2025, 1, 24), 1, D(2025, 1, 26)),  # 春节 2025: Sunday 01-26 works
        (D(2025, 1, 24), 2, D(2025, 1, 27)),
        (D(2025, 1, 24), 3, D(2025, 2, 5)),  # 01-28..02-04 off
        (D(2025, 9, 30), 1, D(2025, 10, 9)),  # 国庆 2025: 10-01..10-08 off
        (D(2025, 9, 30), 3, D(2025, 10, 11)),  # make-up Saturday
        (D(2025, 9, 30), 4, D(2025, 10, 13)),
        (D(2025, 9, 26), 10, D(2025, 10, 16)),
        (D(2025, 12, 31), 1, D(2026, 1, 4)),  # 元旦 2026: 01-01..01-03 off, Sunday 01-04 works
        (D(2026, 2, 13), 1, D(2026, 2, 14)),  # 春节 2026: Saturday 02-14 works
        (D(2026, 2, 13), 2, D(2026, 2, 24)),  # 02-15..02-23 off
        (D(2026, 12, 31), 1, D(2027, 1, 1)),  # 2027 unknown: Friday counts (provisional)
    ],
)
def test_add_working_days(start, n, expected):
    assert cal.add_working_days(start, n) == expected


def test_add_zero_working_days_returns_the_day_itself():
    assert cal.add_working_days(D(2024, 10, 1), 0) == D(2024, 10, 1)
    assert cal.add_working_days(D(2025, 1, 26), 0) == D(2025, 1, 26)


def test_add_negative_working_days_is_refused():
    with pytest.raises(ValueError):
        cal.add_working_days(D(2025, 1, 1), -1)


# --- working_days_between ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (D(2024, 9, 30), D(2024, 10, 8), 1),  # (a, b]: a not counted, b counted
        (D(2024, 9, 27), D(2024, 10, 8), 3),  # 09-29, 09-30, 10-08
        (D(2024, 9, 30), D(2024, 10, 7), 0),  # only holidays in between
        (D(2025, 12, 31), D(2026, 1, 5), 2),  # 01-04 make-up Sunday and Monday 01-05
        (D(2025, 1, 24), D(2025, 2, 5), 3),  # 01-26, 01-27, 02-05
        (D(2024, 1, 1), D(2024, 12, 31), 251),  # all of 2024: 262 weekdays - 19 holidays + 8 make-up
        (D(2025, 5, 6), D(2025, 5, 6), 0),  # b == a
        (D(2025, 5, 7), D(2025, 5, 6), 0),  # b < a
    ],
)
def test_working_days_between(a, b, expected):
    assert cal.working_days_between(a, b) == expected


# --- provisional years and imported notices ---------------------------------------------------


def test_unknown_year_is_provisional_monday_to_friday():
    assert cal.is_provisional(D(2027, 3, 1))
    assert cal.is_provisional(D(2003, 6, 1))  # chinese_calendar starts at 2004
    assert not cal.is_provisional(D(2004, 1, 1))
    assert not cal.is_provisional(D(2026, 12, 31))
    assert cal.is_working_day(D(2027, 1, 1))  # Friday
    assert not cal.is_working_day(D(2027, 1, 2))  # Saturday
    assert not cal.is_working_day(D(2027, 2, 6))  # Saturday


def test_imported_notice_decides_its_year():
    cal.load_overrides([(D(2027, 1, 1), True), (D(2027, 2, 6), False)], official_years=[2027])

    assert not cal.is_working_day(D(2027, 1, 1))
    assert cal.is_working_day(D(2027, 2, 6))
    assert cal.is_working_day(D(2027, 1, 4))  # unlisted Monday still works
    assert not cal.is_provisional(D(2027, 3, 1))
    assert cal.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert cal.working_days_between(D(2027, 2, 5), D(2027, 2, 8)) == 2  # Saturday 02-06, Monday 02-08


def test_hand_entered_days_without_a_notice_stay_provisional():
    cal.load_overrides([(D(2027, 1, 1), True)])
    assert not cal.is_working_day(D(2027, 1, 1))
    assert cal.is_provisional(D(2027, 1, 1))


def test_override_beats_library_data():
    cal.load_overrides([(D(2025, 10, 9), True), (D(2025, 10, 11), True)])
    assert not cal.is_working_day(D(2025, 10, 9))
    assert not cal.is_working_day(D(2025, 10, 11))
    assert cal.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 10)


def test_load_overrides_replaces_and_reset_restores():
    cal.load_overrides([(D(2027, 1, 1), True)], official_years=[2027])
    cal.load_overrides([(D(2027, 2, 6), False)], official_years=[2027])
    assert cal.is_working_day(D(2027, 1, 1))  # the first set was replaced, not merged

    cal.reset()
    assert not cal.is_working_day(D(2027, 2, 6))
    assert cal.is_provisional(D(2027, 2, 6))
    assert cal.add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)


# --- consistency and the slow path outside the precomputed table -------------------------------


def test_table_agrees_with_a_naive_loop_on_random_dates():
    cal.load_overrides([(D(2027, 1, 1), True), (D(2027, 2, 6), False)], official_years=[2027])
    rng = random.Random(20240930)
    first, span = D(2023, 1, 1), (D(2027, 12, 31) - D(2023, 1, 1)).days
    for _ in range(400):
        d = first + timedelta(days=rng.randrange(span + 1))
        n = rng.randrange(61)
        end = cal.add_working_days(d, n)
        assert end == _naive_add(d, n), (d, n)
        assert cal.working_days_between(d, end) == n, (d, n)
        assert n == 0 or cal.is_working_day(end)


def test_dates_outside_the_table_stay_correct():
    assert cal.working_days_between(D(1999, 12, 31), D(2000, 1, 3)) == 1  # Sat, Sun, Mon 2000-01-03
    assert cal.add_working_days(D(1999, 12, 31), 1) == D(2000, 1, 3)
    cases = [
        (D(1999, 11, 20), D(2000, 2, 10)),
        (D(1999, 12, 31), D(2101, 1, 5)),
        (D(2100, 11, 1), D(2101, 3, 1)),
        (D(2101, 1, 1), D(2101, 2, 1)),
    ]
    for a, b in cases:
        assert cal.working_days_between(a, b) == _naive_between(a, b), (a, b)
    for d in (D(1999, 12, 1), D(2100, 12, 1), D(2100, 12, 31), D(2101, 6, 1)):
        for n in (0, 1, 5, 40):
            assert cal.add_working_days(d, n) == _naive_add(d, n), (d, n)


# --- business time zone and display ----------------------------------------------------------


def test_end_of_business_day_is_2359_59_shanghai_in_utc():
    assert cal.end_of_business_day(D(2025, 11, 28)) == datetime(2025, 11, 28, 15, 59, 59, tzinfo=UTC)


def test_business_dates_are_shanghai_dates():
    assert cal.business_today(datetime(2025, 11, 27, 15, 59, 59, tzinfo=UTC)) == D(2025, 11, 27)
    assert cal.business_today(datetime(2025, 11, 27, 16, 0, tzinfo=UTC)) == D(2025, 11, 28)
    assert cal.to_business_date(datetime(2025, 11, 27, 16, 30)) == D(2025, 11, 28)  # naive = UTC
    assert isinstance(cal.business_today(), date)


def test_format_cn_date():
    assert cal.format_cn_date(D(2025, 11, 28), today=D(2025, 11, 1)) == "11月28日（周五）"
    assert cal.format_cn_date(D(2025, 11, 30), today=D(2025, 1, 1)) == "11月30日（周日）"
    assert cal.format_cn_date(D(2026, 1, 5), today=D(2026, 12, 31)) == "1月5日（周一）"


def test_format_cn_date_names_the_year_when_it_is_not_this_year():
    """Issue 14 item 6: 1月15日（周四）– 1月14日（周四） read as one day; a date of another year says its year."""
    assert cal.format_cn_date(D(2027, 1, 14), today=D(2026, 12, 1)) == "2027年1月14日（周四）"
    assert cal.format_cn_date(D(2025, 12, 31), today=D(2026, 1, 2)) == "2025年12月31日（周三）"
    assert cal.format_cn_date(D(cal.business_today().year + 1, 3, 1)).startswith(f"{cal.business_today().year + 1}年")


# --- holiday notice parsing -------------------------------------------------------------------


def _notice(days, year=2027) -> str:
    """A holiday-cn style notice as JSON text."""
    return json.dumps({"year": year, "days": days}, ensure_ascii=False)


def _day(date_text, off=True, name="元旦"):
    """One days[] entry."""
    return {"name": name, "date": date_text, "isOffDay": off}


def test_parse_a_valid_notice():
    text = _notice([_day("2027-02-06", off=False, name="春节"), _day("2027-01-01"), _day("2026-12-31")])
    notice = parse_notice(text)
    assert notice.year == 2027
    assert notice.days == [
        (D(2026, 12, 31), "元旦", True),
        (D(2027, 1, 1), "元旦", True),
        (D(2027, 2, 6), "春节", False),
    ]
    assert notice.overrides() == [(D(2026, 12, 31), True), (D(2027, 1, 1), True), (D(2027, 2, 6), False)]


def test_parse_accepts_the_new_year_bridge_and_identical_repeats():
    # The 2023 notice lists 2022-12-31 as 元旦.
    text = _notice(
        [_day("2022-12-31"), _day("2023-01-01"), _day("2023-01-02"), _day("2023-01-02")], year=2023
    )
    assert [d.date for d in parse_notice(text).days] == [D(2022, 12, 31), D(2023, 1, 1), D(2023, 1, 2)]


def test_parse_accepts_a_byte_order_mark():
    assert parse_notice("\ufeff" + _notice([_day("2027-01-01")])).year == 2027


def test_parsed_notice_drives_the_calendar():
    notice = parse_notice(_notice([_day("2027-01-01"), _day("2027-02-06", off=False, name="春节")]))
    cal.load_overrides(notice.overrides(), official_years=[notice.year])
    assert not cal.is_working_day(D(2027, 1, 1))
    assert cal.is_working_day(D(2027, 2, 6))
    assert not cal.is_provisional(D(2027, 6, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"year": 2027, "days": [', "不是有效的 JSON"),
        ("[]", "通知内容应为 JSON 对象"),
        (json.dumps({"days": [_day("2027-01-01")]}), "缺少年份（year）"),
        (json.dumps({"year": "2027", "days": [_day("2027-01-01")]}), "年份（year）应为整数，实际为“2027”"),
        (json.dumps({"year": True, "days": [_day("2027-01-01")]}), "年份（year）应为整数"),
        (json.dumps({"year": 1999, "days": [_day("1999-01-01")]}), "年份 1999 超出支持范围"),
        (json.dumps({"year": 2027}), "缺少日期列表（days）"),
        (json.dumps({"year": 2027, "days": {}}), "日期列表（days）应为数组"),
        (_notice([]), "日期列表（days）为空"),
        (_notice([_day("2027-01-01"), "2027-01-02"]), "第 2 条应为对象，实际为“2027-01-02”"),
        (_notice([_day("2027-01-01"), {"name": "元旦", "isOffDay": True}]), "第 2 条缺少日期（date）"),
        (_notice([{"name": "元旦", "date": "2027-01-01"}]), "第 1 条缺少是否放假（isOffDay）"),
        (_notice([_day("2027-01-01", off="yes")]), "第 1 条的 isOffDay 应为 true 或 false，实际为“yes”"),
        (_notice([_day("2027-01-01", name=7)]), "第 1 条的名称（name）应为文字"),
        (
            _notice([_day("2027-01-01"), _day("2027-01-02"), _day("2027-02-30")]),
            "第 3 条的日期“2027-02-30”不是有效日期",
        ),
        (_notice([_day("2027/01/01")]), "第 1 条的日期“2027/01/01”格式应为 YYYY-MM-DD"),
        (_notice([_day("20270101")]), "第 1 条的日期“20270101”格式应为 YYYY-MM-DD"),
        (_notice([_day("2027-01-01"), _day("2025-10-01")]), "第 2 条的日期“2025-10-01”不属于 2027 年的通知"),
        (_notice([_day("2026-06-01"), _day("2027-01-01")]), "第 1 条的日期“2026-06-01”不属于 2027 年的通知"),
        (
            _notice([_day("2027-01-01"), _day("2027-01-02"), _day("2027-01-01", off=False)]),
            "第 3 条的日期“2027-01-01”与第 1 条重复",
        ),
        (_notice([_day("2026-12-30"), _day("2026-12-31")]), "请核对年份（year）"),
    ],
)
def test_parse_refuses_bad_notices_in_chinese(text, message):
    with pytest.raises(NoticeError, match=re.escape(message)):
        parse_notice(text)


def test_notice_error_is_a_value_error():
    assert issubclass(NoticeError, ValueError)
