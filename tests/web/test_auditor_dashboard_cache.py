"""The dashboard's figures (grouped sums over every case) are built by the scheduler every minute into one row;
an auditor's request only reads that row (issue 20)."""

import re
from datetime import timedelta

from portal import jobs
from portal.blueprints.auditor import overview as overview_module
from portal.extensions import db
from portal.models import DashboardSnapshot, utcnow


def _as_of(body: str) -> str:
    return re.search(r"数据截至 ([^（]+)（", body).group(1)


def _counting_builds(monkeypatch) -> list:
    builds = []
    real = overview_module.figures

    def counted(now):
        builds.append(now)
        return real(now)

    monkeypatch.setattr(overview_module, "figures", counted)
    return builds


def test_a_request_reads_the_figures_the_scheduler_built_and_says_when(app, product, login_as, monkeypatch):
    taken = utcnow() - timedelta(seconds=40)
    jobs.refresh_dashboard(app, now=taken)
    builds = _counting_builds(monkeypatch)
    client = login_as("auditor")
    first = client.get("/audit/").get_data(as_text=True)
    second = client.get("/audit/").get_data(as_text=True)
    assert builds == []  # no request summed anything
    assert "数据每分钟更新" in first
    assert _as_of(first) == _as_of(second) == taken.astimezone(overview_module.calendar.BUSINESS_TZ) \
        .strftime("%Y-%m-%d %H:%M")


def test_the_scheduler_job_replaces_the_one_snapshot(app, product, login_as):
    jobs.refresh_dashboard(app, now=utcnow() - timedelta(minutes=5))
    later = utcnow()
    jobs.refresh_dashboard(app, now=later)
    rows = db.session.query(DashboardSnapshot).all()
    assert len(rows) == 1 and abs(rows[0].built_at - later) < timedelta(seconds=1)


def test_before_the_first_scheduled_build_the_first_request_builds_and_keeps_them(app, product, login_as,
                                                                                     monkeypatch):
    builds = _counting_builds(monkeypatch)
    client = login_as("auditor")
    client.get("/audit/")
    client.get("/audit/")
    assert len(builds) == 1
    assert db.session.query(DashboardSnapshot).count() == 1
