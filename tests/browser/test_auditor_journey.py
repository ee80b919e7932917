"""An 史带 auditor on a laptop: dashboard with SVG charts, a case timeline, a document opened and logged."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from helpers import PDF
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.domain import documents, intake, lifecycle, reports
from portal.extensions import db
from portal.models import AuditLog, Hospital

SH = ZoneInfo("Asia/Shanghai")


def seed(app, make_policy, make_user):
    """One green-channel case worked by a coordinator, with a document, and a weekly report."""
    hospital = Hospital(name="北京协和医院", city="北京", address="东城区帅府园1号")
    db.session.add(hospital)
    db.session.commit()
    coord = make_user("coordinator", display_name="陈晓")
    person = make_policy(name="王建国", waiting_days=0)
    when = datetime(2026, 6, 1, 9, tzinfo=SH)
    case = intake.submit_request(insured=person, line_code="green_outpatient", actor=coord, channel="ys_hotline",
                                 now=when, data={"illness": "恶性肿瘤——重度", "first_diagnosis_date": "2026-05-01",
                                                 "city": "北京", "hospital_id": hospital.id, "department": "肿瘤内科"})
    lifecycle.perform(case, "verify", actor=coord, now=when.replace(hour=11))
    document = documents.save_upload(case, FileStorage(io.BytesIO(PDF), filename="门诊病历.pdf"),
                                     kind="medical_record", actor=coord)
    reports.build_weekly("2026-W23", built_by="scheduler", now=datetime(2026, 6, 8, 9, tzinfo=SH))
    db.session.commit()
    return case, document


def test_auditor_reads_dashboard_case_timeline_and_a_document(desk_page, browser_login, shot, axe_violations,
                                                              make_policy, make_user, live_server, app):
    page = desk_page
    case, document = seed(app, make_policy, make_user)
    make_user("auditor", username="shidai", password="password123", display_name="史带审计 · 王审")

    browser_login(page, "shidai", "password123")
    expect(page.get_by_role("heading", name="服务总览")).to_be_visible()
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(7)
    expect(charts.first).to_be_visible()
    assert charts.first.bounding_box()["height"] > 100  # drawn, not collapsed
    shot(page, "01-dashboard")
    assert axe_violations(page) == []

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="案件").click()
    expect(page.get_by_role("heading", name="案件查询")).to_be_visible()
    page.get_by_label("搜索").fill(case.ref)
    expect(page.locator("#case-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{live_server}/audit/cases?q={case.ref}&line=&status=&sla=")
    shot(page, "02-case-search")

    page.get_by_role("link", name=case.ref).click()
    expect(page.get_by_role("heading", name=case.ref)).to_be_visible()
    expect(page.locator("#chain-status")).to_contain_text("校验通过")
    verify = page.locator("#event-2")
    expect(verify).to_contain_text("陈晓")
    expect(verify).to_contain_text("已提交 → 核实中")
    shot(page, "03-case-timeline")
    assert axe_violations(page) == []

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="门诊病历.pdf").click()
    viewer = opened.value
    viewer.wait_for_load_state()
    assert viewer.url.endswith(f"/audit/documents/{document.id}")
    viewer.close()
    db.session.expire_all()
    views = db.session.scalars(select(AuditLog).where(AuditLog.action == "document.view")).all()
    assert [(v.object_id, v.actor_role) for v in views] == [(document.id, "auditor")]

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="周报").click()
    page.get_by_role("link", name="2026-W23").click()
    expect(page.get_by_role("heading", name="英仕每周服务进度报告 · 2026-W23")).to_be_visible()
    shot(page, "04-weekly-report")
