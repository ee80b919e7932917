"""Eligibility (SPEC §3): six rules, always all evaluated, each failing with its own plain-Chinese reason."""

import itertools
from datetime import date

import pytest

from portal.domain import eligibility, ledger
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import Case, Hospital

ON = date(2026, 6, 15)
_refs = itertools.count(1)
CODES = ["identity", "policy_in_force", "waiting_period", "illness_covered", "entitlement_available", "location"]


@pytest.fixture
def hospitals(app):
    """One active and one retired 北京 hospital, one in 上海, one overseas in 日本."""
    rows = {
        "beijing": Hospital(name="北京协和医院", city="北京"),
        "retired": Hospital(name="已退出合作的医院", city="北京", active=False),
        "shanghai": Hospital(name="复旦大学附属中山医院", city="上海"),
        "tokyo": Hospital(name="东京大学医学部附属医院", city="东京", country="日本", overseas=True),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return rows


@pytest.fixture
def insured(make_policy):
    """Policy 2026-01-01 … 2026-12-31, waiting 90 days (2026-01-01..2026-03-31)."""
    return make_policy(name="王测试")


def _good(hospitals, **changes) -> dict:
    """A request that passes every rule for the green outpatient line."""
    return {"illness": "恶性肿瘤——重度", "first_diagnosis_date": date(2026, 5, 1), "city": "北京",
            "hospital_id": hospitals["beijing"].id, **changes}


def _failures(insured, data, line_code="green_outpatient", on=ON) -> dict:
    results = eligibility.evaluate(insured=insured, line_code=line_code, data=data, on_date=on)
    assert [r.code for r in results] == CODES
    return {r.code: r.reason for r in results if not r.passed}


def _reserved_case(insured, line_code):
    """A bare case in the 2026 policy year, to take units with ledger.reserve."""
    case = Case(ref=f"ZJ20260615-{next(_refs):04d}", policy_id=insured.policy_id, insured_id=insured.id,
                line_code=line_code, policy_year_start=date(2026, 1, 1))
    db.session.add(case)
    db.session.flush()
    return case


def test_a_good_request_passes_every_rule(insured, hospitals):
    results = eligibility.evaluate(insured=insured, line_code="green_outpatient", data=_good(hospitals), on_date=ON)
    assert eligibility.passed(results)
    assert [(r.label, r.reason) for r in results] == [
        ("身份核实", ""), ("保单有效", ""), ("等待期", ""), ("保障疾病", ""), ("服务次数", ""), ("服务地点", "")]


def test_every_rule_is_evaluated_and_every_reason_given(make_policy, hospitals):
    insured = make_policy(status="suspended")
    ledger.reserve(_reserved_case(insured, "domestic_escort"))
    ledger.reserve(_reserved_case(insured, "domestic_escort"))
    data = {"name": "李四", "illness": "感冒", "first_diagnosis_date": date(2026, 2, 1), "city": "拉萨"}
    failures = _failures(insured, data, "domestic_escort")
    assert list(failures) == CODES
    assert not eligibility.passed(eligibility.evaluate(insured=insured, line_code="domestic_escort", data=data,
                                                       on_date=ON))


def test_a_wrong_name_fails_identity_alone(insured, hospitals):
    assert _failures(insured, _good(hospitals, name="王测")) == {"identity": "姓名与保单登记的被保险人姓名不一致。"}


def test_another_persons_id_number_fails_identity_alone(insured, hospitals):
    other = "110105195803071239"                                       # valid, but someone else's
    assert _failures(insured, _good(hospitals, id_number=other)) == {
        "identity": "证件号码与保单登记的被保险人证件号码不一致。"}


def test_an_id_number_with_a_bad_check_digit_fails_identity_alone(insured, hospitals):
    bad = insured.id_number[:17] + ("0" if insured.id_number[17] != "0" else "1")
    assert _failures(insured, _good(hospitals, id_number=bad)) == {
        "identity": "居民身份证号码校验位不正确，请核对后重新输入。"}


def test_the_insureds_own_identity_with_spaces_and_lower_case_x_passes(make_policy, hospitals):
    insured = make_policy(id_number="11010519491231002X")
    assert _failures(insured, _good(hospitals, name=" 王测试 ", id_number="110105 19491231 002x")) == {}


def test_a_suspended_policy_fails_policy_in_force_alone(make_policy, hospitals):
    insured = make_policy(status="suspended")
    assert _failures(insured, _good(hospitals)) == {"policy_in_force": "保单当前状态为“已中止”，不在保障中。"}


def test_a_request_after_the_end_of_cover_fails_policy_in_force(insured, hospitals):
    failures = _failures(insured, _good(hospitals), on=date(2027, 1, 5))
    assert failures["policy_in_force"] == "申请日期 2027年1月5日 不在保单保障期间（2026年1月1日至2026年12月31日）内。"


def test_a_diagnosis_inside_the_waiting_period_fails_waiting_period_alone(make_policy, hospitals):
    insured = make_policy(start=date(2026, 10, 1), end=date(2027, 9, 30))
    # 90 days with day 1 = 10-01: 31 (Oct) + 30 (Nov) + 29 (Dec) → the last waiting day is 12-29
    data = _good(hospitals, first_diagnosis_date=date(2026, 12, 29))
    assert _failures(insured, data, on=date(2027, 1, 4)) == {
        "waiting_period": "您的等待期至 2026年12月29日 结束，初次确诊日期需在等待期之后。"}
    data["first_diagnosis_date"] = date(2026, 12, 30)                  # the first day after the waiting period
    assert _failures(insured, data, on=date(2027, 1, 4)) == {}


def test_the_waiting_period_is_the_90_days_starting_on_the_start_date(insured, hospitals):
    """Seed/SPEC §3: 90 days from 2026-01-01 are 01-01..03-31; a diagnosis on 04-01 (start + 90) is after it."""
    assert _failures(insured, _good(hospitals, first_diagnosis_date=date(2026, 4, 1))) == {}
    assert _failures(insured, _good(hospitals, first_diagnosis_date=date(2026, 3, 31))) == {
        "waiting_period": "您的等待期至 2026年3月31日 结束，初次确诊日期需在等待期之后。"}


def test_a_diagnosis_in_the_future_fails_waiting_period_alone(insured, hospitals):
    assert _failures(insured, _good(hospitals, first_diagnosis_date=date(2026, 6, 16))) == {
        "waiting_period": "初次确诊日期不能晚于申请日期。"}


def test_a_diagnosis_in_an_earlier_policy_year_fails_waiting_period_alone(make_policy, hospitals):
    insured = make_policy(start=date(2025, 1, 1), end=date(2026, 12, 31))
    assert _failures(insured, _good(hospitals, first_diagnosis_date=date(2025, 6, 1))) == {
        "waiting_period": "初次确诊日期需在本保单年度（2026年1月1日至2026年12月31日）内。"}


@pytest.mark.parametrize(("value", "reason"),
                         [(None, "请填写初次确诊日期。"), ("2026-13-01", "初次确诊日期格式不正确。")])
def test_a_missing_or_malformed_diagnosis_date_fails_waiting_period(insured, hospitals, value, reason):
    assert _failures(insured, _good(hospitals, first_diagnosis_date=value)) == {"waiting_period": reason}


def test_a_date_given_as_iso_text_is_understood(insured, hospitals):
    assert _failures(insured, _good(hospitals, first_diagnosis_date="2026-05-01")) == {}


def test_an_illness_off_the_list_fails_illness_covered_alone(insured, hospitals):
    assert _failures(insured, _good(hospitals, illness="感冒")) == {
        "illness_covered": "“感冒”不在本产品保障的重度疾病范围内。"}


def test_a_used_up_line_fails_entitlement_available_alone(insured, hospitals):
    ledger.reserve(_reserved_case(insured, "green_outpatient"))
    assert _failures(insured, _good(hospitals)) == {
        "entitlement_available": "本保单年度“就医绿通·门诊预约”服务次数已用完。"}


def test_an_escort_city_off_the_list_fails_location_alone(insured, hospitals):
    data = _good(hospitals, city="拉萨", hospital_id=None)             # 拉萨 has green channel but no escort
    assert _failures(insured, data, "domestic_escort") == {"location": "所选城市“拉萨”不在陪诊服务城市范围内。"}
    assert _failures(insured, data, "green_outpatient") == {}


def test_a_retired_hospital_fails_location_alone(insured, hospitals):
    data = _good(hospitals, hospital_id=hospitals["retired"].id)
    assert _failures(insured, data) == {"location": "所选医院不在合作医院名录中。"}


@pytest.mark.parametrize("hospital_id", [987654, "x"])
def test_an_unknown_hospital_fails_location(insured, hospitals, hospital_id):
    assert _failures(insured, _good(hospitals, hospital_id=hospital_id)) == {"location": "所选医院不在合作医院名录中。"}


def test_a_hospital_in_another_city_fails_location(insured, hospitals):
    data = _good(hospitals, hospital_id=hospitals["shanghai"].id)
    assert _failures(insured, data) == {"location": "所选医院位于上海，不在所选城市“北京”。"}


def test_an_overseas_hospital_is_not_a_green_channel_hospital(insured, hospitals):
    data = _good(hospitals, hospital_id=hospitals["tokyo"].id)
    assert _failures(insured, data) == {"location": "所选医院不在合作医院名录中。"}


def test_a_green_request_without_a_city_fails_location(insured, hospitals):
    assert _failures(insured, _good(hospitals, city="", hospital_id=None)) == {"location": "请选择就医城市。"}


def test_a_domestic_second_opinion_has_no_location_constraint(insured, hospitals):
    data = _good(hospitals, city="拉萨", hospital_id=None)
    assert _failures(insured, data, "domestic_second_opinion") == {}


def test_an_overseas_country_off_the_list_fails_location_alone(insured, hospitals):
    data = _good(hospitals, city=None, hospital_id=None, country="法国")
    assert _failures(insured, data, "overseas_second_opinion") == {
        "location": "所选国家“法国”不在海外服务国家范围内。"}
    data["country"] = "日本"
    assert _failures(insured, data, "overseas_second_opinion") == {}


def test_an_overseas_hospital_must_be_in_the_chosen_country(insured, hospitals):
    data = _good(hospitals, city=None, country="美国", hospital_id=hospitals["tokyo"].id)
    assert _failures(insured, data, "overseas_treatment") == {"location": "所选医院位于日本，不在所选国家“美国”。"}
    data["hospital_id"] = hospitals["beijing"].id
    assert _failures(insured, data, "overseas_treatment") == {"location": "所选医院不在海外合作医院名录中。"}


def test_an_unknown_service_line_is_refused(insured):
    with pytest.raises(DomainError, match="不提供"):
        eligibility.evaluate(insured=insured, line_code="dental", data={}, on_date=ON)
