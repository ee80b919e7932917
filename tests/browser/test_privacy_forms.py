"""Every personal-information form submitted in Chromium (SPEC §7): the insured's request and withdrawal on a
phone; the hotline's verbal consent at intake, the cross-border consent, a request and a withdrawal by phone;
the supervisor's restriction job, decision and legal-hold view."""

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from portal import calendar
from portal.domain import documents
from portal.domain.demo import load_demo_data
from portal.extensions import db
from portal.models import AuditLog, Case, ConsentRecord, DataRequest, Document, Hospital, InsuredPerson, Policy, User


def _desk(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15_000)
    return context


def test_the_insured_files_a_request_and_withdraws_on_the_phone(app, phone_page, browser_login, shot,
                                                                axe_violations):
    load_demo_data()
    db.session.commit()
    page = browser_login(phone_page, "zhangwei")  # passes the consent gate on the way in
    page.get_by_role("link", name="我的资料与授权").tap()
    expect(page.get_by_role("heading", name="我的资料与授权")).to_be_visible()
    page.get_by_label("限制处理我的资料").check()
    page.get_by_label("说明（选填）").fill("不再使用本服务")
    page.get_by_role("button", name="提交请求").tap()
    expect(page.get_by_text("已收到您的请求")).to_be_visible()
    page.get_by_label(re.compile("我明白撤回后")).check()
    page.get_by_role("button", name="撤回同意").tap()
    expect(page.get_by_text("已撤回同意")).to_be_visible()
    expect(page.get_by_text("未同意", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert axe_violations(page) == []
    shot(page, "01-withdrawn")
    person = db.session.scalar(select(InsuredPerson).join(Policy).where(Policy.policy_no == "SD2026000103"))
    assert db.session.scalar(select(DataRequest.kind).where(DataRequest.insured_id == person.id)) == "restriction"
    page.get_by_role("link", name="‹ 我的服务").tap()
    expect(page).to_have_url(re.compile(r"/me/consent"))  # nothing else until consent again


def test_hotline_consent_cross_border_request_withdrawal_and_the_supervisor_screen(
        app, browser, live_server, make_policy, browser_login, shot):
    load_demo_data()
    db.session.commit()
    today = calendar.business_today()
    person = make_policy(name="钱芳", start=today - timedelta(days=200), end=today + timedelta(days=165),
                         waiting_days=0, consent=False)
    desk = _desk(browser, live_server)
    try:
        page = browser_login(desk.new_page(), "coord1")
        # intake: the notice read aloud, the verbal consent recorded with the case
        page.goto(f"/staff/intake/{person.id}?line=overseas_second_opinion")
        form = page.locator("#intake-form")
        form.get_by_label("英仕热线").check()
        form.get_by_label("来电人自报姓名").fill(person.name)
        form.get_by_label("来电人自报证件号码").fill(person.id_number)
        form.get_by_label("所患重度疾病").select_option("恶性肿瘤——重度")
        form.get_by_label("初次确诊日期").fill((today - timedelta(days=10)).isoformat())
        form.get_by_label("就医国家").select_option("美国")
        form.get_by_label(re.compile("我已向来电人宣读上面的告知书")).check()
        shot(page, "01-intake-consent")
        page.get_by_role("button", name="4. 提交申请").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("海外第二诊疗意见")
        case_id = int(re.search(r"/staff/cases/(\d+)", page.url).group(1))
        assert db.session.scalar(select(ConsentRecord.actor_name).where(ConsentRecord.insured_id == person.id)) \
            == "陈晓"
        # the cross-border consent on the phone
        page.get_by_role("link", name="资料出境同意与传输记录").click()
        hospital = db.session.scalar(select(Hospital.id).where(Hospital.name == "Mayo Clinic"))
        page.get_by_label("来电人同意接收资料的海外医院").select_option(str(hospital))
        page.get_by_label(re.compile("我已向来电人宣读出境告知书")).check()
        page.get_by_role("button", name="记录出境同意").click()
        expect(page.get_by_text("已记录来电人的出境同意")).to_be_visible()
        # a request and a withdrawal by phone
        page.get_by_role("link", name="同意记录、撤回与删除请求").click()
        page.get_by_label("删除资料").check()
        page.get_by_role("button", name="登记请求").click()
        expect(page.get_by_text("已登记请求")).to_be_visible()
        page.get_by_label(re.compile("来电人本人要求撤回")).check()
        page.get_by_label("来电说明（选填）").fill("本人来电")
        page.get_by_role("button", name="记录撤回").click()
        expect(page.get_by_text("1 个进行中的案件已终止")).to_be_visible()
        shot(page, "02-withdrawn-by-phone")
        assert db.session.get(Case, case_id).termination_reason == "consent_withdrawn"

        # the supervisor: a closed old case's file restricted, the request refused, the legal-hold view
        coordinator = db.session.scalar(select(User).where(User.username == "coord1"))
        case = db.session.get(Case, case_id)
        document = Document(case_id=case.id, kind="medical_record", original_name="旧病历.pdf",
                            stored_name="legal-hold-test.pdf", content_type="application/pdf", size=10,
                            sha256="0" * 64, uploaded_by_id=coordinator.id)
        db.session.add(document)
        db.session.flush()
        path = documents.path_of(document)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4\n%%EOF\n")
        case.closed_at = case.closed_at - timedelta(days=6 * 366)
        db.session.commit()
        boss = browser_login(desk.new_page(), "supervisor")
        boss.goto("/staff/admin/privacy")
        boss.get_by_role("button", name="立即执行限制处理").click()
        expect(boss.get_by_text(re.compile("限制处理完成：文件 1 份"))).to_be_visible()
        request = boss.locator("article.request").first
        request.get_by_label("不同意").check()
        request.get_by_label("处理理由（客户可见）").fill("服务记录须依法保存，已限制处理到期文件")
        request.get_by_role("button", name="记录处理结果").click()
        expect(boss.get_by_text("已记录处理结果并通知客户")).to_be_visible()
        boss.get_by_label("文件编号").fill(str(document.id))
        boss.get_by_role("button", name="调阅并下载").click()
        expect(boss.get_by_text("请填写调阅依据")).to_be_visible()  # no ground, no file
        shot(boss, "03-supervisor-privacy")
        boss.get_by_label(re.compile("调阅依据")).fill("（2026）沪0101调字第1号")
        with boss.expect_download() as download:
            boss.get_by_role("button", name="调阅并下载").click()
        assert download.value.suggested_filename.endswith(".pdf")
        assert db.session.scalar(select(AuditLog.detail).where(AuditLog.action == "privacy.legal_hold_view"))[
            "reason"] == "（2026）沪0101调字第1号"
    finally:
        desk.close()
