"""Issue 17 forms submitted once in Chromium (CSRF on): the escort to a typed hospital, an expert with its
hospital grade, and an auditor's 已阅 on a report sent to 史带."""

from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import select
from test_coordinator_journey import _tomorrow_at, desk, intake, start_service, step  # noqa: F401  (fixture)

from portal.domain import reports
from portal.extensions import db
from portal.models import AuditLog, Case, Expert, InsurerDelivery

SH = ZoneInfo("Asia/Shanghai")


def test_an_escort_to_a_hospital_typed_by_the_coordinator(desk, shot):  # noqa: F811  (the imported fixture)
    page, insured = desk
    case_id = intake(page, insured, "国内就医陪诊", select={"就医城市": "北京"},
                     fill={"或医院名称（目录外，选填）": "北京市朝阳区某社区卫生服务中心"})
    start_service(page)
    form = page.locator("#action-record-escort-request")
    expect(form.get_by_label("或填写医院名称", exact=True)).to_have_value("北京市朝阳区某社区卫生服务中心")
    step(page, "record_escort_request", "记录陪诊需求",
         fill={"陪诊开始时间": _tomorrow_at(8), "陪诊结束时间": _tomorrow_at(12)})
    expect(page.get_by_text("北京市朝阳区某社区卫生服务中心").first).to_be_visible()
    shot(page, "escort-typed-hospital")
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert (case.hospital_id, case.request_data["hospital_name"]) == (None, "北京市朝阳区某社区卫生服务中心")


def test_a_supervisor_records_an_experts_hospital_grade(app, product, desk_page, browser_login, make_user):
    page = desk_page
    make_user("supervisor", username="boss", password="password123")
    browser_login(page, "boss", "password123")
    page.goto("/staff/admin/directory/expert/new")
    page.get_by_label("姓名").fill("孙一鸣")
    page.get_by_label("国家").select_option("中国")
    page.get_by_label("城市").fill("上海")
    page.get_by_label("所在医院").fill("复旦大学附属华山医院")
    page.get_by_label("医院等级").fill("三甲")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".flash")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalars(select(Expert.hospital_grade).where(Expert.name == "孙一鸣")).one() == "三甲"


def test_an_auditor_marks_a_report_sent_to_shidai_as_read(app, product, desk_page, browser_login, make_user, shot):
    page = desk_page
    reports.build_weekly("2026-W23", built_by="scheduler", now=datetime(2026, 6, 8, 9, tzinfo=SH))
    db.session.commit()
    make_user("auditor", username="shidai", password="password123", display_name="史带审计 · 王审")
    browser_login(page, "shidai", "password123")
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="收件箱").click()
    row = page.locator("#inbox-table tbody tr").first
    expect(row).to_contain_text("英仕每周服务进度报告 2026-W23（第 1 版）")
    row.get_by_role("button", name="标记已阅").click()
    expect(page.locator(".flash")).to_contain_text("已标记为已阅")
    expect(page.locator("#inbox-table tbody tr").first).to_contain_text("史带审计 · 王审")
    shot(page, "inbox-read")
    db.session.expire_all()
    assert db.session.scalars(select(InsurerDelivery.read_at)).one() is not None
    assert db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("auditor.%"))).all() == []


def test_the_insured_asks_for_an_escort_to_a_hospital_she_types(app, phone_page, browser_login, shot):
    from datetime import timedelta

    from test_insured_journey import _first_diagnosis

    from portal import calendar
    from portal.domain.demo import load_demo_data

    load_demo_data(history=False)
    db.session.commit()
    today = calendar.business_today()
    page = phone_page
    browser_login(page, "wangjianguo")
    page.goto("/me/apply/domestic_escort")
    page.wait_for_load_state("load")
    page.get_by_label("就医城市").select_option("上海")
    page.get_by_label("或填写您要去的医院").fill("上海市某区中心医院")
    page.get_by_label("科室（如：肿瘤科）").fill("肿瘤科")
    page.get_by_label("希望就诊日期").fill((today + timedelta(days=3)).isoformat())
    page.get_by_label("医生给出的诊断").fill("肺腺癌")
    page.get_by_label("初次确诊日期").fill(_first_diagnosis(today).isoformat())
    page.get_by_label("所患疾病（保障范围内的重度疾病）").select_option("恶性肿瘤——重度")
    expect(page.locator("#eligibility")).to_contain_text("符合申请条件")
    shot(page, "escort-apply-typed-hospital")
    page.get_by_role("button", name="提交申请").tap()
    expect(page.get_by_text("申请已提交，编号 ZJ")).to_be_visible()
    db.session.expire_all()
    case = db.session.scalars(select(Case).where(Case.line_code == "domestic_escort").order_by(Case.id.desc())).first()
    assert (case.hospital_id, case.request_data["hospital_name"]) == (None, "上海市某区中心医院")
