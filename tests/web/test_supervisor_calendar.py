"""Holiday calendar: notice import, hand-entered days, the year view, provisional deadlines."""

import io
import json
from datetime import UTC, date, datetime

import pytest
from helpers import notice_2027
from sqlalchemy import select

from portal import calendar
from portal.domain import directory, intake
from portal.extensions import db
from portal.models import AuditLog, HolidayOverride, SlaClock

HX = {"HX-Request": "true"}
NOTICE_2027 = notice_2027()  # complete: the seven statutory holidays, 24 days


@pytest.fixture
def boss(login_as, product):
    return login_as("supervisor")


@pytest.fixture
def year_end_case(make_policy, boss):
    """A green-channel case submitted on 2026-12-28: its 5-working-day deadline falls in 2027 (no data yet)."""
    hospital = directory.create("hospital", {"name": "北京协和医院", "city": "北京"})
    insured = make_policy(start=date(2026, 6, 1), end=date(2027, 5, 31), waiting_days=0)
    case = intake.submit_request(
        insured=insured, line_code="green_outpatient", actor=boss.user, channel="ys_hotline",
        now=datetime(2026, 12, 28, 2, tzinfo=UTC),
        data={"illness": "恶性肿瘤——重度", "first_diagnosis_date": "2026-12-01", "city": "北京",
              "hospital_id": hospital.id, "department": "肿瘤内科"})
    db.session.commit()
    assert case.status == "submitted"
    return case


def _clock(case) -> SlaClock:
    return db.session.scalars(select(SlaClock).where(SlaClock.case_id == case.id)).one()


def _upload_notice(client, payload, *, year=2027):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return client.post(f"/staff/admin/holidays/import?year={year}", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(raw), "2027.json")})


def test_a_year_without_data_is_shown_as_provisional(boss):
    body = boss.get("/staff/admin/holidays?year=2027").get_data(as_text=True)
    assert "<html" in body and "2027 年尚无官方放假安排" in body


def test_a_library_year_is_official(boss):
    body = boss.get("/staff/admin/holidays?year=2026").get_data(as_text=True)
    assert "系统内置的国务院放假安排" in body


def test_provisional_deadlines_are_listed_with_their_due_date_marked(boss, year_end_case):
    assert _clock(year_end_case).provisional and _clock(year_end_case).due_date == date(2027, 1, 4)
    body = boss.get("/staff/admin/holidays/provisional").get_data(as_text=True)
    assert "<html" in body and year_end_case.ref in body
    assert "1月4日（周一） <span class=\"badge provisional\">暂定</span>" in body
    assert "目前有 <strong>1</strong> 个在办时限为暂定" in boss.get("/staff/admin/holidays").get_data(as_text=True)


def test_provisional_list_pages_answer_the_fragment_for_htmx(boss, year_end_case):
    response = boss.get("/staff/admin/holidays/provisional?page=1", headers=HX)
    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="provisional-results">')
    assert year_end_case.ref in body


def test_importing_a_notice_recomputes_the_provisional_deadlines(boss, year_end_case):
    response = _upload_notice(boss, NOTICE_2027)
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/admin/holidays?year=2027")
    page = boss.get("/staff/admin/holidays?year=2027").get_data(as_text=True)
    assert "已导入 2027 年节假日安排 24 天；重新计算了 1 个暂定时限" in page
    assert "已导入的国务院放假通知" in page and "调休上班" in page
    clock = _clock(year_end_case)
    assert not clock.provisional and clock.due_date == date(2027, 1, 5)
    assert not calendar.is_provisional(date(2027, 6, 1))
    assert year_end_case.ref not in boss.get("/staff/admin/holidays/provisional").get_data(as_text=True)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "holiday.import")).one()  # once, not twice
    assert (audit.actor_role, audit.detail["recomputed"]) == ("supervisor", 1)


@pytest.mark.parametrize(("payload", "message"), [
    (b"{not json", "不是有效的 JSON"),
    ({"year": 2027, "days": []}, "日期列表（days）为空"),
    ({"year": 2027, "days": [{"date": "2027-13-01", "isOffDay": True}]}, "不是有效日期"),
])
def test_a_bad_notice_is_refused_at_the_field_and_writes_nothing(boss, payload, message):
    response = _upload_notice(boss, payload)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "节假日文件无效，未写入任何数据" in body and message in body
    assert db.session.scalar(select(HolidayOverride.id)) is None


def test_a_day_entered_by_hand_moves_open_deadlines_but_keeps_the_year_provisional(boss, year_end_case):
    response = boss.post("/staff/admin/holidays/days",
                         data={"day": "2027-01-04", "is_off_day": "1", "name": "临时休假"})
    assert response.status_code == 303 and response.headers["Location"].endswith("year=2027")
    clock = _clock(year_end_case)
    assert clock.due_date == date(2027, 1, 5) and clock.provisional
    page = boss.get("/staff/admin/holidays?year=2027").get_data(as_text=True)
    assert "临时休假" in page and "手工设置" in page and "2027 年尚无官方放假安排" in page
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "holiday.add")).one()
    assert (audit.actor_role, audit.detail) == (
        "supervisor", {"day": "2027-01-04", "is_off_day": True, "name": "临时休假"})


@pytest.mark.parametrize(("form", "message"), [
    ({"day": "", "is_off_day": "1", "name": "x"}, "请填写日期（YYYY-MM-DD）。"),
    ({"day": "2027-02-30", "is_off_day": "1", "name": "x"}, "日期格式应为 YYYY-MM-DD"),
    ({"day": "2027-02-01", "is_off_day": "1", "name": ""}, "请填写名称"),
])
def test_bad_hand_entered_days_are_refused_at_the_field(boss, form, message):
    response = boss.post("/staff/admin/holidays/days?year=2027", data=form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(HolidayOverride.id)) is None


def test_the_page_states_the_notice_rules(boss):
    """Issue 17 items 5, 6: completeness and adjacent-year rules, said where the supervisor imports."""
    rules = boss.get("/staff/admin/holidays?year=2027").get_data(as_text=True)
    assert "包含七个法定节假日：元旦、春节、清明节、劳动节、端午节、中秋节、国庆节" in rules
    assert "相邻年份的日期只能是跨年假期中与本年相连的日子" in rules


@pytest.mark.parametrize(("payload", "message"), [
    ({"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": True}]},
     "2027 年通知不完整，缺少：春节、清明节、劳动节、端午节、中秋节、国庆节"),
    (notice_2027({"name": "元旦", "date": "2026-12-31", "isOffDay": True}),
     "日期“2026-12-31”（元旦）标为放假，与系统内置的国务院放假安排不符（该日为工作日）"),
    (notice_2027({"name": "元旦", "date": "2028-01-14", "isOffDay": True}), "日期“2028-01-14”属于 2028 年"),
])
def test_an_incomplete_or_contradicting_notice_is_refused_naming_why(boss, year_end_case, payload, message):
    response = _upload_notice(boss, payload)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "节假日文件无效，未写入任何数据" in body and message in body
    assert db.session.scalar(select(HolidayOverride.id)) is None
    assert _clock(year_end_case).provisional and calendar.is_provisional(date(2027, 6, 1))
