"""Jinja filters: dates in business time and Chinese, masked ID numbers, money."""

from datetime import date, datetime

from flask import Flask

from .. import calendar
from ..domain.identity import mask_id


def cn_date(value: date | datetime | None) -> str:
    """11月28日（周五）; datetimes are first converted to Asia/Shanghai."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = calendar.to_business_date(value)
    return calendar.format_cn_date(value)


def cn_datetime(value: datetime | None) -> str:
    """2026-11-28 14:30 in Asia/Shanghai."""
    if value is None:
        return ""
    return value.astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def money(value) -> str:
    return f"{value:,.2f}"


def clock_waits(clock) -> str:
    """For a clock not started yet: what it waits for, e.g. 安排就医时限（40 个工作日）待“医疗签证已获批”后起算."""
    from ..domain import lines, sla

    waits = sla.waiting_for(clock.case, clock)
    if not waits:
        return ""
    steps = "、".join(f"“{lines.milestone_label(clock.case.line_code, code)}”" for code in waits)
    return f"{sla.clock_label(clock.kind)}（{clock.days} 个工作日）待{steps}后起算"


def register(app: Flask) -> None:
    app.add_template_global(clock_waits)
    app.add_template_filter(cn_date)
    app.add_template_filter(cn_datetime)
    app.add_template_filter(mask_id)
    app.add_template_filter(money)
