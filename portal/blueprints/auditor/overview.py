"""The dashboard's figures: this week, this month, the last 8 weeks and the live breach lists.

They are the same for every auditor; they come from the figure rollups and a few bounded index reads
(`reports.period_figures`), and the scheduler still builds them every minute (`jobs.refresh_dashboard`) into
one `dashboard_snapshot` row that a request only reads (issue 20); the page says when they were taken."""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from markupsafe import Markup

from ... import calendar
from ...domain import ratings, reports
from ...domain.reports import LineFigures
from ...extensions import db
from ...models import DashboardSnapshot
from ...web.svg import Series, bar_chart

SNAPSHOT_ID = 1
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


def current_overview(now: datetime) -> Overview:
    """The figures the scheduler built last (`refresh`, every minute): one row read, no sums in the request.
    Until the scheduler has built them once (a fresh installation), this request builds and stores them."""
    snapshot = db.session.get(DashboardSnapshot, SNAPSHOT_ID)
    if snapshot is None:
        snapshot = refresh(now)
        db.session.commit()
    return from_figures(snapshot.data)


def refresh(now: datetime) -> DashboardSnapshot:
    """Build the figures as of `now` and keep them as the one snapshot (the scheduler's job; flushes)."""
    data = figures(now)
    snapshot = db.session.get(DashboardSnapshot, SNAPSHOT_ID)
    if snapshot is None:
        snapshot = DashboardSnapshot(id=SNAPSHOT_ID, built_at=now, data=data)
        db.session.add(snapshot)
    else:
        snapshot.built_at, snapshot.data = now, data
    db.session.flush()
    return snapshot


def figures(now: datetime) -> dict:
    """Every dashboard figure from one batch of grouped queries (plus the two short lists), as plain JSON."""
    today = calendar.business_today(now)
    monday = today - timedelta(days=today.weekday())
    mondays = [monday - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
    trend_periods = [(reports.business_start(m), min(reports.business_start(m + timedelta(days=7)), now))
                     for m in mondays]
    month_start = reports.business_start(today.replace(day=1))
    week, month = reports.period_figures([trend_periods[-1], (month_start, now)], now=now)
    trend = reports.period_figures(trend_periods, only=TREND_FIGURES)
    return {
        "now": now.isoformat(),
        "week": [asdict(f) for f in week], "month": [asdict(f) for f in month],
        "trend": [[asdict(f) for f in period] for period in trend],
        "week_label": f"{reports.week_of(monday)}（{calendar.format_cn_date(monday)}起）",
        "month_label": f"{today.year}年{today.month}月",
        "labels": [f"{m.month}/{m.day}" for m in mondays],
        "overdue": reports.live_list("overdue", now, limit=LIST_LIMIT),
        "at_risk": reports.live_list("at_risk", now, limit=LIST_LIMIT),
        "ratings": ratings.as_json(ratings.figures(trend_periods)),
    }


def overview(now: datetime) -> Overview:
    """The figures as of `now`, built now (what the scheduler's job costs)."""
    return from_figures(figures(now))


def from_figures(data: dict) -> Overview:
    """The page's view of stored figures: totals and the SVG charts are drawn here (cheap, no database)."""
    week = [LineFigures(**f) for f in data["week"]]
    month = [LineFigures(**f) for f in data["month"]]
    trend = [[LineFigures(**f) for f in period] for period in data["trend"]]
    labels = data["labels"]
    return Overview(
        now=datetime.fromisoformat(data["now"]), week=week, week_total=reports.total(week),
        month={f.code: f for f in month}, month_total=reports.total(month),
        week_label=data["week_label"], month_label=data["month_label"],
        overdue=data["overdue"], at_risk=data["at_risk"],
        line_charts=[(figures.name, bar_chart(
            chart_id=f"chart-{figures.code}", title=f"{figures.name}：近 {TREND_WEEKS} 周新增与完成",
            labels=labels, series=[Series("新增", [t[i].opened for t in trend]),
                                   Series("完成", [t[i].completed for t in trend])],
            width=520, height=230)) for i, figures in enumerate(week)],
        compliance_chart=bar_chart(
            chart_id="chart-compliance", title=f"近 {TREND_WEEKS} 周时效达标率（全部服务项目）", labels=labels,
            series=[Series("达标率", [reports.total(t).compliance for t in trend])], percent=True,
            width=1040, height=250),
        trend_labels=labels, trend=trend, rating_weeks=data.get("ratings") or [],
    )
