"""Auditor dashboard (SVG charts), delivered reports with bills, weekly reports (page, XLSX, CSV), audit log, CLI."""

import csv
import io
import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from helpers import PDF
from openpyxl import load_workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import calendar
from portal.cli.reports import report as report_cli
from portal.domain import documents, reports
from portal.extensions import db
from portal.models import AuditLog, Bill, Case, SlaClock, WeeklyReport

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 19, 15, 0, tzinfo=SH)  # Thursday of 2026-W47
_refs = itertools.count(1)


@pytest.fixture
def add_case(make_policy, product):
    """add_case(line, submitted, status="in_service", closed=None, due=None, **clock) → Case with one clock."""
    person = make_policy(name="赵敏")

    def add(line, submitted, status="in_service", closed=None, due=None, **clock):
        case = Case(ref=f"ZJWEB-{next(_refs):04d}", policy_id=person.policy_id, insured_id=person.id,
                    line_code=line, status=status, submitted_at=submitted, closed_at=closed)
        db.session.add(case)
        if due is not None:
            db.session.add(SlaClock(case=case, kind="arrange", days=5, state=clock.pop("state", "running"),
                                    start_date=submitted.date(), started_at=submitted, due_date=due,
                                    deadline=calendar.end_of_business_day(due), paused_days=0, provisional=False,
                                    breached=clock.get("outcome") == "breached", **clock))
        db.session.commit()
        return case

    return add


@pytest.fixture
def week_of_cases(add_case):
    """A few cases of 2026-W47: one overdue, one at risk on Thursday, one met, one breached."""
    overdue = add_case("green_outpatient", datetime(2026, 11, 9, 9, tzinfo=SH), due=date(2026, 11, 16))
    at_risk = add_case("domestic_escort", datetime(2026, 11, 13, 9, tzinfo=SH), due=date(2026, 11, 20))
    add_case("green_inpatient", datetime(2026, 11, 16, 9, tzinfo=SH), "completed", datetime(2026, 11, 18, tzinfo=SH),
             due=date(2026, 11, 23), state="stopped", stopped_at=datetime(2026, 11, 18, tzinfo=SH), outcome="met")
    add_case("green_outpatient", datetime(2026, 11, 10, 9, tzinfo=SH), "completed",
             datetime(2026, 11, 18, tzinfo=SH), due=date(2026, 11, 17), state="stopped",
             stopped_at=datetime(2026, 11, 18, tzinfo=SH), outcome="breached",
             breached_at=calendar.end_of_business_day(date(2026, 11, 17)))
    return overdue, at_risk


@pytest.fixture
def auditor(login_as, monkeypatch):
    monkeypatch.setattr("portal.blueprints.auditor.views.utcnow", lambda: NOW)
    return login_as("auditor")


class Tables(HTMLParser):
    """Cell texts per row of every <table id=...> of a page."""

    def __init__(self, html):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "id" in attrs:
            self.current = self.tables.setdefault(attrs["id"], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def logged(action):
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


# ---- dashboard ---------------------------------------------------------------------------------

def test_dashboard_shows_figures_breaches_and_server_drawn_charts(week_of_cases, auditor):
    overdue, at_risk = week_of_cases
    response = auditor.get("/audit/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 7  # compliance + 6 lines
    assert 'role="img"' in html and "<title id=\"chart-compliance-title\">" in html
    assert "<script>" not in html and 'style="' not in html and " onclick" not in html
    tables = Tables(html).tables
    assert [row[0] for row in tables["overdue-list"][1:]] == [overdue.ref]
    assert [row[0] for row in tables["at-risk-list"][1:]] == [at_risk.ref]
    week = {f.code: f for f in reports.line_stats(reports.week_period("2026-W47")[0], NOW)}
    assert week["green_inpatient"].met == 1 and week["green_outpatient"].breached == 1
    assert "50%" in html or "50.0%" in html  # this week: 1 met of 2 decided


def test_dashboard_with_no_cases_still_draws_empty_charts(app, product, auditor):
    html = auditor.get("/audit/").get_data(as_text=True)
    assert "目前没有超时的服务" in html and html.count("<svg") == 7


# ---- delivered reports -------------------------------------------------------------------------

@pytest.fixture
def delivered(add_case, make_user):
    coord = make_user("coordinator")
    treatment = add_case("overseas_treatment", datetime(2026, 9, 1, tzinfo=SH), "completed",
                         datetime(2026, 11, 2, tzinfo=SH))
    opinion = add_case("domestic_second_opinion", datetime(2026, 10, 1, tzinfo=SH), "completed",
                       datetime(2026, 10, 12, tzinfo=SH))
    rows = {}
    for case, kind, name in ((treatment, "service_report", "服务报告.pdf"), (opinion, "report", "二诊报告.pdf")):
        doc = documents.save_upload(case, FileStorage(io.BytesIO(PDF), filename=name), kind=kind, actor=coord)
        doc.delivered_at = case.closed_at
        rows[kind] = doc
    db.session.add_all([
        Bill(case_id=treatment.id, hospital_name="MD Anderson", bill_date=date(2026, 10, 5), currency="USD",
             amount=Decimal("12500.00"), status="verified"),
        Bill(case_id=treatment.id, hospital_name="MD Anderson", bill_date=date(2026, 10, 20), currency="USD",
             amount=Decimal("3400.50"), status="received")])
    db.session.commit()
    return rows


def test_delivered_reports_list_with_bills_of_the_treatment_report(delivered, auditor):
    response = auditor.get("/audit/reports")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    rows = Tables(html).tables["report-table"]
    assert len(rows) == 3
    treatment = next(r for r in rows if "服务报告.pdf" in r[4])
    assert "USD 12,500.00（已核对）" in treatment[5] and "USD 3,400.50（已收到）" in treatment[5]


def test_delivered_reports_filter_by_line_with_htmx(delivered, auditor):
    response = auditor.get("/audit/reports?line=domestic_second_opinion", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "二诊报告.pdf" in html and "服务报告.pdf" not in html


def test_opening_a_delivered_report_is_logged(delivered, auditor):
    response = auditor.get(f"/audit/documents/{delivered['report'].id}")
    body = response.data
    response.close()
    assert body == PDF
    assert [e.object_id for e in logged("document.view")] == [delivered["report"].id]


# ---- weekly reports ----------------------------------------------------------------------------

@pytest.fixture
def weekly(week_of_cases):
    built = reports.build_weekly("2026-W47", built_by="scheduler", now=datetime(2026, 11, 23, 9, tzinfo=SH))
    db.session.commit()
    return built


def test_weekly_list_full_page_and_htmx_fragment(weekly, auditor):
    html = auditor.get("/audit/weekly").get_data(as_text=True)
    assert "<html" in html and "2026-W47" in html and "最新" in html
    fragment = auditor.get("/audit/weekly?page=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="weekly-table"' in fragment


def test_weekly_detail_shows_the_stored_snapshot_and_is_logged(weekly, auditor, add_case):
    add_case("green_outpatient", datetime(2026, 11, 17, tzinfo=SH))  # after the build: not in this version
    html = auditor.get(f"/audit/weekly/{weekly.id}").get_data(as_text=True)
    figures = Tables(html).tables["weekly-figures"]
    green = next(row for row in figures if row[0] == "就医绿通·门诊预约")
    assert green[1] == str(weekly.data["lines"][0]["opened"]) == "0"
    assert [(e.object_id, e.detail["version"]) for e in logged("weekly_report.view")] == [(weekly.id, 1)]


def test_a_rebuild_is_listed_beside_the_earlier_version(weekly, auditor):
    second = reports.build_weekly("2026-W47", built_by="cli", now=datetime(2026, 11, 24, 9, tzinfo=SH))
    db.session.commit()
    html = auditor.get(f"/audit/weekly/{weekly.id}").get_data(as_text=True)
    assert "本周共 2 个版本" in html and f"/audit/weekly/{second.id}" in html
    listing = auditor.get("/audit/weekly").get_data(as_text=True)
    assert "已有新版" in listing and listing.count("2026-W47</a>") == 2


def same(value):
    """A cell as a comparable value: numbers as floats (Excel keeps 0.0 as 0), blanks as None."""
    if value in (None, "—"):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def test_the_xlsx_opens_with_openpyxl_and_holds_the_numbers_of_the_page(weekly, auditor):
    page = Tables(auditor.get(f"/audit/weekly/{weekly.id}").get_data(as_text=True)).tables
    response = auditor.get(f"/audit/weekly/{weekly.id}/report.xlsx")
    assert response.status_code == 200
    assert 'filename="weekly-2026-W47-v1.xlsx"' in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    for section in reports.report_rows(weekly):
        sheet = book[section.title[:31]]
        values = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert values[0] == list(section.header)
        page_rows = [r for r in page[f"weekly-{section.key}"][1:] if r != ["无。"]]
        assert [[same(v) for v in row] for row in values[1:]] == [[same(v) for v in row] for row in page_rows]
    figures = book["各服务项目情况"]
    total = [row for row in figures.iter_rows(values_only=True) if row[0] == "合计"][0]
    assert total[1:5] == (weekly.data["total"]["opened"], weekly.data["total"]["in_progress"],
                          weekly.data["total"]["completed"], weekly.data["total"]["terminated"])
    assert [e.detail["format"] for e in logged("weekly_report.download")] == ["xlsx"]


def test_the_csv_holds_every_section_in_utf8_for_excel(weekly, auditor):
    response = auditor.get(f"/audit/weekly/{weekly.id}/report.csv")
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["英仕每周服务进度报告", "2026-W47", "第 1 版"]
    titles = [row[0] for row in rows if len(row) == 1]
    assert titles == [s.title for s in reports.report_rows(weekly)]
    overdue_at = rows.index(["周末逾期未结案件"])
    assert rows[overdue_at + 2][0] == weekly.data["overdue"][0]["ref"]


def test_unknown_weekly_report_is_404(app, product, auditor):
    assert auditor.get("/audit/weekly/12345").status_code == 404
    assert auditor.get("/audit/weekly/12345/report.xlsx").status_code == 404


# ---- audit log ---------------------------------------------------------------------------------

def test_audit_log_lists_refused_writes_and_filters_with_htmx(app, product, auditor):
    auditor.post("/audit/cases")
    html = auditor.get("/audit/log").get_data(as_text=True)
    assert "<html" in html and "拒绝审计员的写操作" in html and "path=/audit/cases" in html
    fragment = auditor.get("/audit/log?action=document.view", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "没有符合条件的记录" in fragment


# ---- the command -------------------------------------------------------------------------------

def test_report_weekly_command_builds_a_new_version_each_time(week_of_cases, runner):
    first = runner.invoke(report_cli, ["weekly", "--week", "2026-W47"])
    second = runner.invoke(report_cli, ["weekly", "--week", "2026-W47"])
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "2026-W47 周报第 1 版" in first.output and "第 2 版" in second.output
    stored = db.session.scalars(select(WeeklyReport).order_by(WeeklyReport.version)).all()
    assert [(r.week, r.version, r.built_by) for r in stored] == [("2026-W47", 1, "cli"), ("2026-W47", 2, "cli")]


def test_report_weekly_command_defaults_to_the_previous_week(app, product, runner):
    result = runner.invoke(report_cli, ["weekly"])
    assert result.exit_code == 0, result.output
    expected = reports.week_of(calendar.business_today() - timedelta(days=7))
    assert db.session.scalar(select(WeeklyReport.week)) == expected


def test_report_weekly_command_refuses_a_bad_week(app, product, runner):
    result = runner.invoke(report_cli, ["weekly", "--week", "2026-47"])
    assert result.exit_code == 2 and "YYYY-Www" in result.output
    assert db.session.scalar(select(WeeklyReport.id)) is None
