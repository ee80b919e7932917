"""Hotline intake: find the caller, record the channel, show each eligibility rule, open or record the case."""

from datetime import timedelta

import pytest
from coordinator_support import covered_insured as insured_for
from coordinator_support import make_directory, today
from helpers import valid_id_card
from sqlalchemy import func, select

from portal.domain.identity import mask_id
from portal.extensions import db
from portal.models import Case, CaseEvent, EntitlementEntry

RULE_LABELS = ("身份核实", "保单有效", "等待期", "保障疾病", "服务次数", "服务地点")


@pytest.fixture
def world(make_policy, make_user):
    directory = make_directory()
    insured = insured_for(make_policy, name="王建国", policy_no="SD2026000101")
    return directory, make_user("coordinator", display_name="陈晓"), insured


def _request(insured, directory, **changes) -> dict:
    data = {"channel": "sd_hotline", "name": insured.name, "id_type": "id_card", "id_number": insured.id_number,
            "illness": "恶性肿瘤——重度", "first_diagnosis_date": (today() - timedelta(days=10)).isoformat(),
            "city": "北京", "hospital_id": str(directory.bj.id), "department": "肿瘤内科", "notes": "女儿代为来电"}
    return {**data, **changes}


def _cases() -> int:
    return db.session.scalar(select(func.count(Case.id)))


def test_search_page_and_fragment(world, login_as):
    _, coord, insured = world
    client = login_as(coord)
    page = client.get("/staff/intake").get_data(as_text=True)
    assert "<html" in page and "查找被保险人" in page
    response = client.post("/staff/intake", data={"name": "王建国", "id_number": insured.id_number},
                           headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "SD2026000101" in body and f"<td>{mask_id(insured.id_number)}</td>" in body  # masked in the list
    assert f"/staff/intake/{insured.id}" in body


def test_search_by_policy_number_alone(world, login_as):
    _, coord, insured = world
    body = login_as(coord).post("/staff/intake", data={"policy_no": "SD2026000101"}).get_data(as_text=True)
    assert "查找结果（1）" in body and "<html" in body


def test_search_needs_name_and_id_or_the_policy_number(world, login_as):
    _, coord, _ = world
    response = login_as(coord).post("/staff/intake", data={"name": "王建国"})
    assert response.status_code == 422 and "请填写姓名和证件号码，或填写保单号" in response.get_data(as_text=True)


def test_search_with_a_wrong_id_finds_nobody(world, login_as):
    _, coord, _ = world
    body = login_as(coord).post("/staff/intake", data={"name": "王建国", "id_number": "110105195803071239"})
    assert "查找结果（0）" in body.get_data(as_text=True)


def test_intake_page_lists_lines_with_balances_and_the_form_of_the_chosen_line(world, login_as):
    _, coord, insured = world
    client = login_as(coord)
    body = client.get(f"/staff/intake/{insured.id}").get_data(as_text=True)
    assert "国内就医陪诊" in body and "剩余 2/2" in body and "来电渠道" not in body
    body = client.get(f"/staff/intake/{insured.id}?line=green_outpatient").get_data(as_text=True)
    assert "来电渠道" in body and "英仕热线" in body and "史带热线转接" in body and "就医城市" in body
    assert client.get("/staff/intake/999999").status_code == 404


def test_check_shows_each_rule_and_writes_nothing(world, login_as):
    directory, coord, insured = world
    client = login_as(coord)
    url = f"/staff/intake/{insured.id}/check?line=green_outpatient"
    data = _request(insured, directory, illness="感冒", city="火星", hospital_id="")
    response = client.post(url, data=data, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body and 'id="intake-eligibility"' in body
    for label in RULE_LABELS:
        assert label in body
    assert "“感冒”不在本产品保障的重度疾病范围内" in body and "所选城市“火星”不在门诊绿通服务城市范围内" in body
    assert body.count('class="pass"') == 4 and body.count('class="fail"') == 2
    full = client.post(url, data=_request(insured, directory)).get_data(as_text=True)
    assert "<html" in full and "全部通过，可以受理" in full and 'value="肿瘤内科"' in full
    assert _cases() == 0 and db.session.scalar(select(func.count(EntitlementEntry.id))) == 0


def test_eligible_call_opens_the_case_with_its_channel(world, login_as):
    directory, coord, insured = world
    response = login_as(coord).post(f"/staff/intake/{insured.id}?line=green_outpatient",
                                    data=_request(insured, directory))
    case = db.session.scalar(select(Case))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/cases/{case.id}")
    assert (case.status, case.channel, case.created_by_id) == ("submitted", "sd_hotline", coord.id)
    assert case.hospital_id == directory.bj.id and case.request_data["notes"] == "女儿代为来电"
    assert case.clocks[0].state == "running"


def test_ineligible_call_is_terminated_not_eligible_and_kept_on_record(world, login_as):
    directory, coord, insured = world
    client = login_as(coord)
    data = _request(insured, directory, id_number=valid_id_card(424242),
                    first_diagnosis_date=(today() + timedelta(days=3)).isoformat())
    response = client.post(f"/staff/intake/{insured.id}?line=domestic_escort", data=data)
    case = db.session.scalar(select(Case))
    assert response.status_code == 303
    assert (case.status, case.termination_reason) == ("terminated", "not_eligible")
    failed = {r["code"] for r in case.eligibility if not r["passed"]}
    assert failed == {"identity", "waiting_period"}
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id))
    assert event.to_status == "terminated"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "申请未通过核实，已登记备案" in page and "证件号码与保单登记的被保险人证件号码不一致" in page
    assert case.ref in client.get("/staff/?tab=all").get_data(as_text=True)


def test_intake_form_errors_come_back_at_the_fields_with_422(world, login_as):
    directory, coord, insured = world
    response = login_as(coord).post(f"/staff/intake/{insured.id}?line=green_outpatient",
                                    data=_request(insured, directory, name="", first_diagnosis_date="昨天"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写来电人姓名" in body and "不是有效的日期值" in body
    assert _cases() == 0


def test_submit_without_a_known_line_is_404(world, login_as):
    directory, coord, insured = world
    client = login_as(coord)
    assert client.post(f"/staff/intake/{insured.id}?line=moon", data=_request(insured, directory)).status_code == 404


def test_the_hotline_screen_shows_policy_periods_with_their_years(world, login_as):
    """Issue 14 item 6: "1月15日（周四）– 1月14日（周四）" hid which year a policy ran in."""
    _, coord, insured = world
    client = login_as(coord)
    found = client.post("/staff/intake", data={"policy_no": "SD2026000101"}).get_data(as_text=True)
    start, end = insured.policy.start_date, insured.policy.end_date
    period = f"{start.year}年{start.month}月{start.day}日 – {end.year}年{end.month}月{end.day}日"
    assert period in found
    assert period in client.get(f"/staff/intake/{insured.id}").get_data(as_text=True)
