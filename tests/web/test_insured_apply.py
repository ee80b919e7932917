"""申请服务: the form shaped by the line, hospitals by city, inline eligibility, submission."""

import os
from datetime import timedelta

import pytest
from insured_support import EXE, PDF, answers, upload
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Case, Document, Entitlement, SlaClock

HX = {"HX-Request": "true"}
TEST_DB = os.environ.get("TEST_DATABASE_URL", "sqlite")


def _case_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_choose_page_offers_the_six_lines_with_units_left(insured, client_of):
    page = client_of(insured).get("/me/apply").get_data(as_text=True)
    for name in ("就医绿通·门诊预约", "就医绿通·住院预约", "国内第二诊疗意见", "国内就医陪诊", "海外第二诊疗意见",
                 "海外就医综合服务"):
        assert name in page
    assert "本年度剩余 2/2 次" in page  # escort
    assert "安排时限 5 个工作日" in page  # the promise comes from the line's clock data


def test_choose_page_says_what_each_clock_counts_from_as_the_code_does(insured, client_of):
    """Issue 17 item 17: the inpatient clock counts from the later of the request and the slip date."""
    page = client_of(insured).get("/me/apply").get_data(as_text=True)
    assert "自住院条开具日起算" not in page
    assert "安排时限 10 个工作日（自申请日与住院条开具日中较晚的一天起算）" in page
    assert "安排就医时限 40 个工作日（资料齐全、医院同意接收且医疗签证获批后起算）" in page


@pytest.mark.parametrize(("line", "present", "absent"), [
    ("green_outpatient", ["就医城市", "医院", "科室", "希望就诊日期", "初次确诊日期", "所患疾病"],
     ["住院条开具日期", "希望前往的国家"]),
    ("green_inpatient", ["就医城市", "住院条开具日期", 'type="file"', 'enctype="multipart/form-data"'],
     ["希望前往的国家"]),
    ("domestic_escort", ["就医城市", "希望就诊日期"], ["住院条开具日期"]),
    ("domestic_second_opinion", ["医生给出的诊断", "所患疾病"], ["就医城市", "希望前往的国家"]),
    ("overseas_second_opinion", ["希望前往的国家", "美国"], ["就医城市"]),
    ("overseas_treatment", ["希望前往的国家", "新加坡"], ["就医城市", "住院条开具日期"]),
])
def test_each_line_gets_a_form_shaped_by_its_data(insured, client_of, line, present, absent):
    page = client_of(insured).get(f"/me/apply/{line}").get_data(as_text=True)
    for text in present:
        assert text in page
    for text in absent:
        assert text not in page


def test_escort_form_offers_only_the_escort_cities(insured, client_of):
    page = client_of(insured).get("/me/apply/domestic_escort").get_data(as_text=True)
    assert '<option value="桂林">' in page and '<option value="拉萨">' not in page  # 拉萨 is green-channel only


def test_unknown_line_answers_404(insured, client_of):
    assert client_of(insured).get("/me/apply/space_travel").status_code == 404


def test_hospital_list_is_filtered_by_city_for_htmx(insured, client_of, hospitals):
    response = client_of(insured).get("/me/apply/green_outpatient/hospitals?city=上海", headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert 'id="field-hospital_id"' in page
    assert "复旦大学附属中山医院" in page and "北京协和医院" not in page


def test_hospital_list_without_htmx_is_the_whole_form_with_the_city_chosen(insured, client_of, hospitals):
    page = client_of(insured).get("/me/apply/green_outpatient/hospitals?city=北京").get_data(as_text=True)
    assert "<html" in page and '<option selected value="北京">' in page
    assert "北京协和医院" in page and "复旦大学附属中山医院" not in page


def test_inline_eligibility_answers_with_only_the_fragment(insured, client_of, hospitals, today):
    data = answers(today, hospitals["复旦大学附属中山医院"])
    response = client_of(insured).post("/me/apply/green_outpatient/check", data=data, headers=HX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith('<section id="eligibility"') and "符合申请条件" in page
    assert _case_count() == 0  # a preview writes nothing


def test_inline_eligibility_gives_one_plain_sentence_per_failed_rule(insured_user, client_of, hospitals, today):
    user = insured_user(waiting_days=400)  # still waiting
    data = answers(today, hospitals["北京协和医院"], illness="感冒")
    page = client_of(user).post("/me/apply/green_outpatient/check", data=data, headers=HX).get_data(as_text=True)
    assert "请注意以下 3 点" in page
    assert "初次确诊日期需在等待期之后" in page
    assert "“感冒”不在本产品保障的重度疾病范围内" in page
    assert "所选医院位于北京，不在所选城市“上海”" in page


def test_eligibility_check_without_javascript_renders_the_whole_form(insured, client_of, hospitals, today):
    data = answers(today, hospitals["复旦大学附属中山医院"])
    page = client_of(insured).post("/me/apply/green_outpatient/check", data=data).get_data(as_text=True)
    assert "<html" in page and "符合申请条件" in page and 'value="肿瘤科"' in page


def test_submitting_an_eligible_request_opens_a_case_with_its_promise(insured, client_of, hospitals, today):
    client = client_of(insured)
    response = client.post("/me/apply/green_outpatient", data=answers(today, hospitals["复旦大学附属中山医院"]))
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert response.headers["Location"] == f"/me/cases/{case.id}"
    assert (case.status, case.channel, case.city, case.department) == ("submitted", "portal", "上海", "肿瘤科")
    assert case.request_data["preferred_dates"] == [(today + timedelta(days=3)).isoformat()]
    assert db.session.scalar(select(Entitlement).where(Entitlement.line_code == "green_outpatient")).reserved == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"申请已提交，编号 {case.ref}" in page and "我们将最晚于" in page


def test_an_ineligible_request_is_kept_on_record_and_the_reasons_shown(insured_user, client_of, hospitals, today):
    user = insured_user(waiting_days=400)
    client = client_of(user)
    response = client.post("/me/apply/green_outpatient", data=answers(today, hospitals["复旦大学附属中山医院"]))
    case = db.session.scalar(select(Case))
    assert (case.status, case.termination_reason) == ("terminated", "not_eligible")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "未能通过核实" in page and "初次确诊日期需在等待期之后" in page and "已登记备案" in page


def test_missing_answers_come_back_at_their_fields_with_422_and_nothing_written(insured, client_of, today):
    data = answers(today, None, department="", diagnosis="", preferred_date=(today - timedelta(days=1)).isoformat())
    response = client_of(insured).post("/me/apply/green_outpatient", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="department-error">请填写科室。' in page
    assert 'id="diagnosis-error">请填写诊断。' in page
    assert 'id="hospital_id-error">请选择医院。' in page
    assert 'id="preferred_date-error">希望就诊日期不能早于今天。' in page
    assert _case_count() == 0


def test_a_hospital_of_another_city_is_refused_at_the_field(insured, client_of, hospitals, today):
    data = answers(today, hospitals["北京协和医院"])
    response = client_of(insured).post("/me/apply/green_outpatient", data=data)
    assert response.status_code == 422
    assert "请从列表中选择所选城市的医院。" in response.get_data(as_text=True)


def test_an_unreadable_date_is_refused_in_chinese(insured, client_of, hospitals, today):
    data = answers(today, hospitals["复旦大学附属中山医院"], first_diagnosis_date="昨天")
    page = client_of(insured).post("/me/apply/green_outpatient", data=data).get_data(as_text=True)
    assert "不是有效的日期值" in page


def test_inpatient_request_stores_the_admission_slip_and_counts_from_the_later_of_slip_and_request(
        insured, client_of, hospitals, today):
    slip_date = today - timedelta(days=1)
    data = {**answers(today, hospitals["复旦大学附属中山医院"]), "admission_slip_date": slip_date.isoformat(),
            "admission_slip": upload(PDF, "住院条.pdf")}
    response = client_of(insured).post("/me/apply/green_inpatient", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.admission_slip_date == slip_date
    document = db.session.scalar(select(Document))
    assert (document.kind, document.content_type, document.case_id) == ("admission_slip", "application/pdf", case.id)
    # seed: 客户申请且住院条开具之日起 — a slip issued yesterday counts from today's request
    assert db.session.scalar(select(SlaClock).where(SlaClock.case_id == case.id)).start_date == today


def test_inpatient_request_with_a_slip_date_needs_the_slip_itself(insured, client_of, hospitals, today):
    data = {**answers(today, hospitals["复旦大学附属中山医院"]), "admission_slip_date": today.isoformat()}
    response = client_of(insured).post("/me/apply/green_inpatient", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "请同时拍照或选择住院条文件" in response.get_data(as_text=True)
    assert _case_count() == 0


def test_inpatient_request_before_the_admission_slip_exists_waits_for_its_date(insured, client_of, hospitals,
                                                                               today):
    """The seed asks 是否已开具住院条: the phone takes the request without it; the clock starts at its date."""
    page = client_of(insured).get("/me/apply/green_inpatient").get_data(as_text=True)
    assert "还没有开具住院条也可以先提交申请" in page
    data = answers(today, hospitals["复旦大学附属中山医院"])
    response = client_of(insured).post("/me/apply/green_inpatient", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    case = db.session.scalar(select(Case))
    assert case.status == "submitted" and case.admission_slip_date is None
    assert [clock.state for clock in case.clocks] == ["pending"]


def test_the_insured_enters_the_admission_slip_later_on_the_phone_and_the_clock_starts(insured, client_of, hospitals,
                                                                                      today):
    """Issue 14 item 8: after applying without the slip, its date is entered on the phone (not only by 英仕)."""
    from portal.models import CaseEvent, Notification

    client = client_of(insured)
    client.post("/me/apply/green_inpatient", data=answers(today, hospitals["复旦大学附属中山医院"]),
                content_type="multipart/form-data")
    case = db.session.scalar(select(Case))
    page = client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert 'id="admission-slip"' in page and "住院条开具日期" in page
    assert "待“住院条开具日期”后起算" in page and "admission_slip”" not in page  # not the raw code
    version = str(case.version)
    no_file = client.post(f"/me/cases/{case.id}/admission-slip", content_type="multipart/form-data",
                          data={"version": version, "admission_slip_date": today.isoformat()})
    assert no_file.status_code == 422 and 'id="admission_slip-error">请拍照或选择住院条文件' in no_file.get_data(
        as_text=True)
    future = client.post(f"/me/cases/{case.id}/admission-slip", content_type="multipart/form-data",
                         data={"version": version, "admission_slip_date": (today + timedelta(days=3)).isoformat(),
                               "admission_slip": upload(PDF, "住院条.pdf")})
    assert future.status_code == 422 and "住院条开具日期不能晚于今天" in future.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Document)) == 0
    done = client.post(f"/me/cases/{case.id}/admission-slip", content_type="multipart/form-data",
                       data={"version": version, "admission_slip_date": today.isoformat(),
                             "admission_slip": upload(PDF, "住院条.pdf")})
    assert done.status_code == 303
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.admission_slip_date == today
    assert [(c.state, c.start_date) for c in case.clocks] == [("running", today)]
    assert db.session.scalar(select(Document.kind)) == "admission_slip"
    assert db.session.scalar(select(CaseEvent.summary).where(CaseEvent.action == "enter_admission_slip")) \
        .startswith("客户提交住院条开具日期")
    assert db.session.scalar(select(Notification.title).order_by(Notification.id.desc())) == "住院安排时限开始计算"
    page = client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    assert 'id="admission-slip"' not in page  # entered once; a correction goes through the hotline
    again = client.post(f"/me/cases/{case.id}/admission-slip", content_type="multipart/form-data",
                        data={"version": str(case.version), "admission_slip_date": today.isoformat(),
                              "admission_slip": upload(PDF, "住院条.pdf")})
    assert again.status_code == 422  # the form is gone, so the refusal is said at the top of the page
    assert "住院条开具日期已登记" in again.get_data(as_text=True)


def test_a_slip_entered_weeks_after_the_request_starts_the_clock_the_day_it_is_entered(insured, client_of, hospitals,
                                                                                     today):
    """The seed counts from 客户申请且住院条开具之日: a slip dated days ago but entered today starts a clock
    due in the future — never one already overdue, nor a promise to the insured of a date that has passed."""
    from sqlalchemy import update

    from portal.models import Notification

    client = client_of(insured)
    client.post("/me/apply/green_inpatient", data=answers(today, hospitals["复旦大学附属中山医院"]),
                content_type="multipart/form-data")
    case = db.session.scalar(select(Case))
    db.session.execute(update(Case).values(submitted_at=case.submitted_at - timedelta(days=40)))
    db.session.commit()
    db.session.refresh(case)
    slip = today - timedelta(days=20)
    done = client.post(f"/me/cases/{case.id}/admission-slip", content_type="multipart/form-data",
                       data={"version": str(case.version), "admission_slip_date": slip.isoformat(),
                             "admission_slip": upload(PDF, "住院条.pdf")})
    assert done.status_code == 303
    db.session.expire_all()
    clock = db.session.get(Case, case.id).clocks[0]
    assert clock.state == "running" and clock.start_date == today and clock.due_date > today
    body = db.session.scalar(select(Notification.body).order_by(Notification.id.desc()))
    assert f"{clock.due_date.month}月{clock.due_date.day}日" in body


def test_inpatient_request_with_a_disguised_slip_writes_nothing(insured, client_of, hospitals, today):
    data = {**answers(today, hospitals["复旦大学附属中山医院"]), "admission_slip_date": today.isoformat(),
            "admission_slip": upload(EXE, "slip.pdf")}
    disguised = client_of(insured).post("/me/apply/green_inpatient", data=data, content_type="multipart/form-data")
    assert disguised.status_code == 422
    assert 'id="admission_slip-error">“slip.pdf”不是可接受的文件类型' in disguised.get_data(as_text=True)
    assert _case_count() == 0 and db.session.scalar(select(func.count()).select_from(Document)) == 0


def test_an_escort_request_names_the_city_and_a_hospital_typed_by_the_insured(insured, client_of, today):
    """Issue 17 item 11: escort is limited by city only; the hospital comes from the directory or is typed."""
    client = client_of(insured)
    page = client.get("/me/apply/domestic_escort").get_data(as_text=True)
    assert "或填写您要去的医院" in page
    data = answers(today, city="上海", hospital_name="")
    refused = client.post("/me/apply/domestic_escort", data=data)
    assert refused.status_code == 422 and "请选择医院，或填写您要去的医院名称。" in refused.get_data(as_text=True)
    response = client.post("/me/apply/domestic_escort", data={**data, "hospital_name": "上海市某区中心医院"})
    assert response.status_code in (302, 303)
    case = db.session.scalars(select(Case).where(Case.line_code == "domestic_escort")).one()
    assert (case.status, case.city, case.hospital_id, case.request_data["hospital_name"]) == (
        "submitted", "上海", None, "上海市某区中心医院")


def test_a_covered_city_with_no_directory_hospital_yet_says_so_and_offers_the_hotline(insured, client_of, hospitals):
    """Issue 14 item 8: 拉萨 is a green-channel city of the seed; with no hospital listed yet the phone says so."""
    page = client_of(insured).get("/me/apply/green_outpatient/hospitals?city=拉萨", headers=HX).get_data(as_text=True)
    assert "拉萨的合作医院目录暂未收录医院" in page and "请先选择城市" not in page
    assert 'id="no-hospital-note"' in page and 'href="tel:4006065033"' in page


@pytest.mark.parametrize("line, said", [
    ("green_outpatient", ["我们承诺在合作医院为您安排就诊，但不承诺指定医生", "本次服务视为已使用"]),
    ("green_inpatient", ["不承诺指定医生", "如未在预约时间入院，本次服务视为已使用"]),
    ("domestic_escort", ["您自行安排的陪同人员、护工等费用不在保障范围内，不予报销", "本次服务视为已使用"]),
    ("overseas_treatment", ["当地陪诊（合计不超过 40 小时）", "不支付任何医疗费用"]),
])
def test_the_apply_form_says_the_seeds_terms_in_plain_words(insured, client_of, line, said):
    """Issue 14 item 7: where they matter — before the insured applies (the case page repeats them)."""
    page = client_of(insured).get(f"/me/apply/{line}").get_data(as_text=True)
    for words in said:
        assert words in page, words
