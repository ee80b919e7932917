"""Jinja filters (dates in business time and Chinese, masked ID numbers, money) and the label globals."""

from datetime import date, datetime

from flask import Flask

from .. import calendar
from ..domain.identity import mask_id
from .labels import TEMPLATE_GLOBALS


def cn_date(value: date | datetime | None, *, year: bool = False) -> str:
    """11月28日（周五）, with the year when it is not this year's (or always, with year=True: policy periods);
    datetimes are first converted to Asia/Shanghai."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = calendar.to_business_date(value)
    if year:
        return f"{value.year}年{value.month}月{value.day}日"
    return calendar.format_cn_date(value)


def cn_datetime(value: datetime | None) -> str:
    """2026-11-28 14:30 in Asia/Shanghai."""
    if value is None:
        return ""
    return value.astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def cn_time(value: datetime | None) -> str:
    """14:30 in Asia/Shanghai (the date is shown beside it, or is the same as the start's)."""
    if value is None:
        return ""
    return value.astimezone(calendar.BUSINESS_TZ).strftime("%H:%M")


def money(value) -> str:
    return f"{value:,.2f}"


#: clock starts that are not milestones of a line (the raw code once reached the insured's page)
START_LABELS = {"admission_slip": "住院条开具日期"}


def clock_waits(clock) -> str:
    """For a clock not started yet: what it waits for, e.g. 安排就医时限（40 个工作日）待“医疗签证已获批”后起算."""
    from ..domain import lines, sla

    waits = sla.waiting_for(clock.case, clock)
    if not waits:
        return ""
    steps = "、".join(f"“{START_LABELS.get(code) or lines.milestone_label(clock.case.line_code, code)}”"
                      for code in waits)
    return f"{sla.clock_label(clock.kind)}（{clock.days} 个工作日）待{steps}后起算"


def register(app: Flask) -> None:
    app.add_template_global(clock_waits)
    app.add_template_filter(cn_date)
    app.add_template_filter(cn_datetime)
    app.add_template_filter(cn_time)
    app.add_template_filter(mask_id)
    app.add_template_filter(money)
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
