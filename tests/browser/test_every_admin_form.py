"""Every supervisor, 史带 account-admin and auditor form is submitted at least once in Chromium at 1366×900
(issue 14 item 1): staff accounts, directories and their CSV import, the policy register, the holiday calendar,
史带's own accounts at /oversight/, the auditor's searches — each with the visible result checked, and a field
error shown at its field. The privacy screen's forms are submitted in test_privacy_forms.py, assignment and
case actions in test_every_action_form.py, receipts in test_auditor_receipts.py, 已阅 in test_promises_forms.py;
the first test checks that together they cover every form of those templates."""

import json
import re
from pathlib import Path

import pytest
from helpers import notice_2027, valid_id_card
from playwright.sync_api import expect
from sqlalchemy import select

from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import Escort, Hospital, Policy, User

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates"
HERE = Path(__file__).resolve().parent

#: template with a <form> → the browser test file that submits it
SUBMITTED_BY = {
    "coordinator/admin/staff_form.html": "test_every_admin_form.py",
    "coordinator/admin/_staff_row.html": "test_every_admin_form.py",
    "coordinator/admin/staff_password.html": "test_every_admin_form.py",
    "coordinator/admin/staff_list.html": "test_every_admin_form.py",
    "coordinator/admin/directory_form.html": "test_every_admin_form.py",
    "coordinator/admin/_directory_row.html": "test_every_admin_form.py",
    "coordinator/admin/directory_list.html": "test_every_admin_form.py",
    "coordinator/admin/directory_import.html": "test_every_admin_form.py",
    "coordinator/admin/policy_import.html": "test_every_admin_form.py",
    "coordinator/admin/holiday_list.html": "test_every_admin_form.py",
    "coordinator/admin/assignment_list.html": "test_every_admin_form.py",
    "coordinator/admin/_assign_form.html": "test_every_action_form.py",
    "coordinator/admin/privacy.html": "test_privacy_forms.py",
    "oversight/account_form.html": "test_every_admin_form.py",
    "oversight/account_password.html": "test_every_admin_form.py",
    "oversight/account_list.html": "test_every_admin_form.py",
    "auditor/case_list.html": "test_every_admin_form.py",
    "auditor/_id_search.html": "test_every_admin_form.py",
    "auditor/log_list.html": "test_every_admin_form.py",
    "auditor/report_list.html": "test_every_admin_form.py",
    "auditor/_integrity_result.html": "test_auditor_receipts.py",
    "auditor/_inbox_results.html": "test_promises_forms.py",
}


def test_every_form_of_the_supervisor_oversight_and_auditor_screens_is_submitted_by_a_browser_test():
    with_forms = {str(p.relative_to(TEMPLATES)) for folder in ("coordinator/admin", "oversight", "auditor")
                  for p in (TEMPLATES / folder).rglob("*.html") if "<form" in p.read_text(encoding="utf-8")}
    assert with_forms == set(SUBMITTED_BY)
    assert all((HERE / test_file).is_file() for test_file in SUBMITTED_BY.values())


@pytest.fixture
def desk(app, desk_page, browser_login):
    load_demo_data(history=False)
    db.session.commit()
    desk_page.set_viewport_size({"width": 1366, "height": 900})
    return desk_page


def _accept_confirm(page):
    page.once("dialog", lambda dialog: dialog.accept())


def test_a_supervisor_creates_resets_deactivates_and_reactivates_a_staff_account(desk, browser_login, shot,
                                                                                 axe_violations):
    page = browser_login(desk, "supervisor")
    page.goto("/staff/admin/users")
    page.get_by_label("搜索").fill("coord1")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#staff-results tbody tr")).to_have_count(1)
    page.goto("/staff/admin/users/new")
    page.get_by_label("用户名").fill("coord9")
    page.get_by_label("显示姓名").fill("赵九")
    page.get_by_label(re.compile("初始密码")).fill("Str0ng-pass-99")
    page.get_by_label("再次输入密码").fill("another-one-1")
    page.get_by_role("button", name="创建账号").click()
    expect(page.locator("#confirm-error")).to_contain_text("两次输入的密码不一致")
    shot(page, "01-staff-field-error")
    assert axe_violations(page) == []
    page.get_by_label(re.compile("初始密码")).fill("Str0ng-pass-99")
    page.get_by_label("再次输入密码").fill("Str0ng-pass-99")
    page.get_by_role("button", name="创建账号").click()
    expect(page.get_by_text("已创建协调员账号 coord9。")).to_be_visible()
    user_id = db.session.scalar(select(User.id).where(User.username == "coord9"))
    row = page.locator(f"#user-{user_id}")
    _accept_confirm(page)
    row.get_by_role("button", name="停用 coord9").click()
    expect(row).to_contain_text("已停用")
    row.get_by_role("button", name="恢复 coord9").click()
    expect(row).to_contain_text("在用")
    expect(row).to_contain_text("已恢复 coord9。")
    row.get_by_role("link", name="重置密码 coord9").click()
    page.get_by_label(re.compile("^新密码")).fill("Another-str0ng-1")
    page.get_by_label("再次输入新密码").fill("Another-str0ng-1")
    page.get_by_role("button", name="重置密码").click()
    expect(page.get_by_text("已重置 coord9 的密码，请通过安全渠道告知本人。")).to_be_visible()
    shot(page, "02-staff-list")


def test_a_supervisor_keeps_the_hospital_directory_and_imports_escorts(desk, browser_login, shot, axe_violations,
                                                                       tmp_path):
    page = browser_login(desk, "supervisor")
    page.goto("/staff/admin/directory/hospital/new")
    page.get_by_label("城市").fill("北京")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#name-error")).to_contain_text("请填写名称。")
    shot(page, "03-hospital-field-error")
    page.get_by_label("名称").fill("北京天坛医院（国家神经系统疾病临床医学研究中心）")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已新增国内医院“北京天坛医院（国家神经系统疾病临床医学研究中心）”。")).to_be_visible()
    hospital = db.session.scalar(select(Hospital).where(Hospital.name.startswith("北京天坛医院")))
    page.goto(f"/staff/admin/directory/hospital/{hospital.id}/edit")
    page.get_by_label("地址").fill("丰台区南四环西路119号")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text(re.compile("已保存“北京天坛医院"))).to_be_visible()
    page.get_by_label("搜索").fill("天坛")
    page.get_by_role("button", name="筛选").click()
    row = page.locator(f"#hospital-{hospital.id}")
    expect(row).to_contain_text("丰台区南四环西路119号")
    _accept_confirm(page)
    row.get_by_role("button", name=re.compile("停用 北京天坛医院")).click()
    expect(row).to_contain_text("已停用")
    row.get_by_role("button", name=re.compile("恢复启用 北京天坛医院")).click()
    expect(row).to_contain_text("启用中")
    shot(page, "04-hospital-directory")
    assert axe_violations(page) == []

    page.goto("/staff/admin/directory/escort/import")
    page.get_by_role("button", name="上传并导入").click()
    expect(page.locator("#file-error")).to_contain_text("请选择要导入的 CSV 文件。")
    rows = tmp_path / "escorts.csv"
    rows.write_text("name,phone,city\n吴敏,13800019999,上海\n", encoding="utf-8")
    page.get_by_label(re.compile("CSV 文件")).set_input_files(str(rows))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_text("导入完成：新增 1 条，更新 0 条，未变化 0 条。")).to_be_visible()
    assert db.session.scalar(select(Escort.city).where(Escort.phone == "13800019999")) == "上海"


def test_a_supervisor_imports_policies_and_a_holiday_notice_and_sets_a_day(desk, browser_login, shot,
                                                                           axe_violations, tmp_path):
    page = browser_login(desk, "supervisor")
    page.goto("/staff/admin/policies/import")
    header = "policy_no,product_code,holder_name,start_date,end_date,insured_name,id_number\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "SD-B-1,ZJJYB,王一,2026-01-01,2026-13-31,王一,123\n", encoding="utf-8")
    page.get_by_label(re.compile("CSV 文件")).set_input_files(str(bad))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_role("cell", name="第 2 行").first).to_be_visible()
    shot(page, "05-policy-import-errors")
    good = tmp_path / "good.csv"
    good.write_text(header + f"SD-B-1,ZJJYB,王一,2026-01-01,2026-12-31,王一,{valid_id_card(77)}\n", encoding="utf-8")
    page.get_by_label(re.compile("CSV 文件")).set_input_files(str(good))
    page.get_by_role("button", name="上传并导入").click()
    expect(page.get_by_text(re.compile("导入完成：新增保单 1"))).to_be_visible()
    assert db.session.scalar(select(Policy.id).where(Policy.policy_no == "SD-B-1")) is not None

    page.goto("/staff/admin/holidays?year=2027")
    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps(notice_2027(), ensure_ascii=False), encoding="utf-8")
    page.locator("#notice-form").get_by_label(re.compile("节假日通知 JSON 文件")).set_input_files(str(notice))
    page.locator("#notice-form").get_by_role("button", name="上传并导入").click()
    expect(page.get_by_text(re.compile(r"已导入 2027 年节假日安排 \d+ 天"))).to_be_visible()
    day = page.locator("#day-form")
    day.get_by_label("日期").fill("2027-03-08")
    day.get_by_label("放假（不计工作日）").check()
    day.get_by_role("button", name="保存").click()
    expect(page.locator("#name-error")).to_contain_text("请填写名称")
    page.locator("#day-form").get_by_label("名称").fill("公司年会")
    page.locator("#day-form").get_by_role("button", name="保存").click()
    expect(page.get_by_text(re.compile("已将 2027-03-08 设为放假（公司年会）"))).to_be_visible()
    shot(page, "06-holidays")
    assert axe_violations(page) == []

    page.goto("/staff/admin/assignments")
    page.get_by_role("button", name="显示").click()
    expect(page.locator("#assignment-results")).to_be_visible()


def test_shidai_account_admin_creates_resets_deactivates_and_reactivates_an_auditor(desk, browser_login, shot,
                                                                                    axe_violations):
    page = desk  # 史带's account admin starts at /oversight/, not at a portal of the browser_login fixture
    page.goto("/login")
    page.get_by_label("用户名").fill("auditoradmin")
    page.get_by_label("密码").fill("demo1234")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile("/oversight/"))
    page.get_by_role("link", name=re.compile("新建")).first.click()
    page.get_by_label("用户名").fill("shidai2")
    page.get_by_label("显示姓名").fill("史带审计 · 李审")
    page.get_by_label(re.compile("初始密码")).fill("Str0ng-pass-99")
    page.get_by_label("再次输入密码").fill("Str0ng-pass-99")
    page.get_by_label(re.compile("电子邮箱")).fill("not-an-address")
    page.get_by_role("button", name=re.compile("创建")).click()
    expect(page.locator("#email-error")).to_contain_text("邮箱格式不正确")
    shot(page, "07-oversight-field-error")
    assert axe_violations(page) == []
    page.get_by_label(re.compile("电子邮箱")).fill("li@stardapi.example")
    page.get_by_label(re.compile("初始密码")).fill("Str0ng-pass-99")
    page.get_by_label("再次输入密码").fill("Str0ng-pass-99")
    page.get_by_role("button", name=re.compile("创建")).click()
    expect(page.get_by_text("已创建史带审计（只读）账号 shidai2。")).to_be_visible()
    user_id = db.session.scalar(select(User.id).where(User.username == "shidai2"))
    row = page.locator(f"#user-{user_id}")
    row.get_by_role("button", name="停用").click()
    expect(page.get_by_text("已停用 shidai2。")).to_be_visible()
    expect(page.locator(f"#user-{user_id}")).to_contain_text("已停用")
    page.locator(f"#user-{user_id}").get_by_role("button", name="恢复").click()
    expect(page.get_by_text("已恢复 shidai2。")).to_be_visible()
    page.locator(f"#user-{user_id}").get_by_role("link", name="重置密码 shidai2").click()
    page.get_by_label(re.compile("^新密码")).fill("Another-str0ng-1")
    page.get_by_label("再次输入新密码").fill("Another-str0ng-1")
    page.get_by_role("button", name="保存新密码").click()
    expect(page.get_by_text("已重置 shidai2 的密码，请通过安全渠道告知本人。")).to_be_visible()
    shot(page, "08-oversight-accounts")


def test_an_auditor_searches_cases_by_id_number_and_filters_the_log_and_reports(desk, browser_login, shot,
                                                                               axe_violations):
    page = browser_login(desk, "auditor")
    page.goto("/audit/cases")
    search = page.locator("form", has=page.get_by_role("button", name="按证件号码查询"))
    search.get_by_role("button", name="按证件号码查询").click()
    expect(page.locator("#id_number-error")).to_contain_text("请填写完整的证件号码。")
    shot(page, "09-id-number-field-error")
    assert axe_violations(page) == []
    zhang = db.session.scalar(select(Policy).where(Policy.policy_no == "SD2026000103"))
    search.get_by_label("按证件号码查询（完整号码）").fill(zhang.insured[0].id_number)
    search.get_by_role("button", name="按证件号码查询").click()
    expect(page.locator("#case-results")).to_contain_text("张伟")
    page.get_by_label("搜索").fill("ZJ")
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator("#case-results")).to_be_visible()
    page.goto("/audit/log")
    page.get_by_label("案件编号").fill("ZJ")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"/audit/log\?.*ref=ZJ"))
    page.goto("/audit/reports")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("#report-results")).to_be_visible()
    shot(page, "10-reports")
