"""The dashboard's figures: this week, this month, the last 8 weeks and the live breach lists."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from markupsafe import Markup

from ... import calendar
from ...domain import ratings, reports
from ...domain.reports import LineFigures
from ...web.svg import Series, bar_chart

TREND_WEEKS = 8
LIST_LIMIT = 10
#: what the trend charts draw; fewer sums keep the 8-week query cheap at 100k cases
TREND_FIGURES = ("opened", "completed", "met", "breached")


@dataclass
class Overview:
    now: datetime
    week: list[LineFigures]
    week_total: LineFigures
    month: dict[str, LineFigures]
    month_total: LineFigures
    week_label: str
    month_label: str
    overdue: list[dict]
    at_risk: list[dict]
    line_charts: list[tuple[str, Markup]]
    compliance_chart: Markup
    trend_labels: list[str]
    trend: list[list[LineFigures]]
    #: 服务评价 per week of the trend (oldest first), each {line_code: RatingFigures} (issue 14)
    rating_weeks: list[dict] | None = None


def cached_overview(now: datetime) -> Overview:
    """The figures as built at most DASHBOARD_CACHE_SECONDS ago in this process (the page says so).

    They are the same for every auditor and cost grouped sums over every case (about a second at 100k
    cases), so each process rebuilds them once a minute instead of once a request. Plain data only: no
    ORM objects outlive the request that built them.
    """
    store = current_app.extensions.setdefault("auditor_overview", {})
    built = store.get("built")
    seconds = current_app.config["DASHBOARD_CACHE_SECONDS"]
    if built is None or time.monotonic() - built[0] >= seconds:
        built = store["built"] = (time.monotonic(), overview(now))
    return built[1]


def overview(now: datetime) -> Overview:
    """Every dashboard figure from one batch of grouped queries (plus the two short lists)."""
    today = calendar.business_today(now)
    monday = today - timedelta(days=today.weekday())
    mondays = [monday - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    trend_periods = [(reports.business_start(m), min(reports.business_start(m + timedelta(days=7)), now))
                     for m in mondays]
    month_start = reports.business_start(today.replace(day=1))
    week, month = reports.period_figures([trend_periods[-1], (month_start, now)])
    trend = reports.period_figures(trend_periods, only=TREND_FIGURES)
    labels = [f"{m.month}/{m.day}" for m in mondays]
    return Overview(
        now=now, week=week, week_total=reports.total(week),
        month={f.code: f for f in month}, month_total=reports.total(month),
        week_label=f"{reports.week_of(monday)}（{calendar.format_cn_date(monday)}起）",
        month_label=f"{today.year}年{today.month}月",
        overdue=reports.clock_list(reports.overdue_at(now), as_of=today, limit=LIST_LIMIT),
        at_risk=reports.clock_list(reports.at_risk_at(now), as_of=today, limit=LIST_LIMIT),
        line_charts=[(figures.name, bar_chart(
            chart_id=f"chart-{figures.code}", title=f"{figures.name}：近 {TREND_WEEKS} 周新增与完成",
            labels=labels, series=[Series("新增", [t[i].opened for t in trend]),
                                   Series("完成", [t[i].completed for t in trend])],
            width=520, height=230)) for i, figures in enumerate(week)],
        compliance_chart=bar_chart(
            chart_id="chart-compliance", title=f"近 {TREND_WEEKS} 周时效达标率（全部服务项目）", labels=labels,
            series=[Series("达标率", [reports.total(t).compliance for t in trend])], percent=True,
            width=1040, height=250),
        trend_labels=labels, trend=trend, rating_weeks=ratings.figures(trend_periods),
    )
