"""Auditor case search, case detail with the full timeline and chain status, document views and the case ZIP."""

import csv
import io
import zipfile
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from helpers import PDF, as_database_owner
from sqlalchemy import event, select, text
from werkzeug.datastructures import FileStorage

from portal.domain import documents, intake, lifecycle
from portal.extensions import db
from portal.models import AuditLog, CaseEvent, Hospital

SH = ZoneInfo("Asia/Shanghai")


def at(d, hh=10, mm=0):
    return datetime(2026, 6, d, hh, mm, tzinfo=SH)


@pytest.fixture
def world(app, product, make_policy, make_user):
    """Two insured people with cases opened through intake: one worked on and documented, one untouched."""
    hospital = Hospital(name="北京协和医院", city="北京", address="东城区帅府园1号")
    db.session.add(hospital)
    db.session.commit()
    coord = make_user("coordinator", display_name="陈晓")
    wang = make_policy(name="王建国", waiting_days=0)
    li = make_policy(name="李秀英", waiting_days=0)

    def submit(person, when):
        case = intake.submit_request(
            insured=person, line_code="green_outpatient", actor=coord, channel="ys_hotline", now=when,
            data={"illness": "恶性肿瘤——重度", "first_diagnosis_date": "2026-05-01", "city": "北京",
                  "hospital_id": hospital.id, "department": "肿瘤内科"})
        db.session.commit()
        return case

    worked = submit(wang, at(1, 9))
    for action, when in (("verify", at(1, 11)), ("accept", at(1, 14))):
        lifecycle.perform(worked, action, actor=coord, now=when)
        db.session.commit()
    report = documents.save_upload(worked, FileStorage(io.BytesIO(PDF), filename="门诊病历.pdf"),
                                   kind="medical_record", actor=coord)
    db.session.commit()
    other = submit(li, at(2, 9))
    return SimpleNamespace(worked=worked, other=other, document=report, wang=wang, li=li, coord=coord)


@pytest.fixture
def auditor(login_as):
    return login_as("auditor")


def audit_entries(action):
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


# ---- list and search ---------------------------------------------------------------------------

def test_case_list_is_a_full_page_with_masked_id_numbers(world, auditor):
    response = auditor.get("/audit/cases")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    assert world.worked.ref in html and world.other.ref in html
    full = world.wang.id_number
    assert full not in html
    assert f"{full[:6]}{'*' * 8}{full[-4:]}" in html
    assert "HX-Request" in response.headers["Vary"]


def test_case_search_by_htmx_returns_only_the_results(world, auditor):
    response = auditor.get(f"/audit/cases?q={world.worked.ref}", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="case-table"' in html
    assert world.worked.ref in html and world.other.ref not in html


@pytest.mark.parametrize("query", ["王建国", "policy_no"])
def test_cases_are_found_by_name_or_policy(world, auditor, query):
    q = {"policy_no": world.wang.policy.policy_no}.get(query, query)
    html = auditor.get("/audit/cases", query_string={"q": q}).get_data(as_text=True)
    assert world.worked.ref in html and world.other.ref not in html


def test_cases_are_found_by_full_id_number_only_by_post(world, auditor):
    assert auditor.get("/audit/cases", query_string={"q": world.wang.id_number}).status_code == 422
    html = auditor.post("/audit/search/id-number", data={"id_number": world.wang.id_number}).get_data(as_text=True)
    assert world.worked.ref in html and world.other.ref not in html


def test_cases_filter_by_status_and_live_sla(world, auditor, monkeypatch):
    html = auditor.get("/audit/cases?status=in_service").get_data(as_text=True)
    assert world.worked.ref in html and world.other.ref not in html
    monkeypatch.setattr("portal.blueprints.auditor.queries.utcnow", lambda: at(20))  # both June clocks are past
    lifecycle.perform(world.other, "terminate", actor=world.coord, now=at(3), reason="insured_withdrew")
    db.session.commit()
    html = auditor.get("/audit/cases?sla=overdue").get_data(as_text=True)
    assert world.worked.ref in html and world.other.ref not in html


def test_case_list_queries_do_not_grow_with_the_cases_shown(world, auditor, make_policy):
    def statements(path):
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert auditor.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements("/audit/cases")
    for n in range(6):
        person = make_policy(name=f"客户{n}", waiting_days=0)
        intake.submit_request(insured=person, line_code="green_outpatient", actor=world.coord, now=at(3 + n),
                              data={"illness": "恶性肿瘤——重度", "first_diagnosis_date": "2026-05-01", "city": "北京",
                                    "hospital_id": world.worked.hospital_id, "department": "肿瘤内科"})
    db.session.commit()
    assert statements("/audit/cases") == few


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_filter_answers_422_with_the_message_at_the_field(world, auditor, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = auditor.get("/audit/cases?line=nonsense", headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("<html" in html) is not htmx
    if not htmx:
        assert 'id="line-error"' in html and "请从列表中选择" in html


# ---- detail, timeline, chain --------------------------------------------------------------------

def test_case_detail_shows_who_role_what_when_and_the_status_change(world, auditor):
    response = auditor.get(f"/audit/cases/{world.worked.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    timeline = html[html.index('id="timeline"'):]
    verify = timeline[timeline.index('id="event-2"'):timeline.index('id="event-3"')]
    assert "2026-06-01 11:00" in verify and "陈晓" in verify and "协调员" in verify
    assert "开始核实" in verify and "已提交 → 核实中" in verify
    assert world.wang.id_number not in html
    assert "校验通过" in html and 'id="chain-status"' in html
    assert [e.case_id for e in audit_entries("case.view")] == [world.worked.id]


def test_a_tampered_history_shows_as_broken_on_the_case(world, auditor):
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == world.worked.id, CaseEvent.seq == 2))
    with as_database_owner():
        db.session.execute(text("UPDATE case_event SET summary = :s WHERE id = :id"), {"s": "改过的", "id": event.id})
    html = auditor.get(f"/audit/cases/{world.worked.id}").get_data(as_text=True)
    assert "发现问题" in html and "第 2 条" in html
    assert "校验通过" in auditor.get(f"/audit/cases/{world.other.id}").get_data(as_text=True)


def test_unknown_case_is_404(world, auditor):
    assert auditor.get("/audit/cases/999999").status_code == 404


# ---- documents ---------------------------------------------------------------------------------

def test_an_auditor_document_view_opens_inline_and_is_in_the_audit_log(world, auditor):
    response = auditor.get(f"/audit/documents/{world.document.id}")
    body = response.data
    response.close()  # a served file stays open until the WSGI server closes the response
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and body == PDF
    assert response.headers["Content-Disposition"].startswith("inline")
    [entry] = audit_entries("document.view")
    assert (entry.actor_id, entry.actor_role) == (auditor.user.id, "auditor")
    assert (entry.object_type, entry.object_id, entry.case_id) == ("document", world.document.id, world.worked.id)
    log = auditor.get("/audit/log?action=document.view").get_data(as_text=True)
    assert "查看文件" in log and world.worked.ref in log


def test_a_missing_document_is_404_and_not_logged_as_viewed(world, auditor):
    assert auditor.get("/audit/documents/999999").status_code == 404
    documents.path_of(world.document).unlink()
    assert auditor.get(f"/audit/documents/{world.document.id}").status_code == 404
    assert audit_entries("document.view") == []


# ---- export ------------------------------------------------------------------------------------

def test_case_export_is_a_zip_of_history_documents_and_summary_and_is_logged(world, auditor):
    response = auditor.get(f"/audit/cases/{world.worked.id}/export.zip")
    body = response.data
    response.close()
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = archive.namelist()
    assert {"history.csv", "clocks.csv", "case.txt"} <= set(names)
    assert f"documents/{world.document.id}_门诊病历.pdf" in names
    assert archive.read(f"documents/{world.document.id}_门诊病历.pdf") == PDF
    rows = list(csv.reader(io.StringIO(archive.read("history.csv").decode("utf-8-sig"))))
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == world.worked.id)
                                .order_by(CaseEvent.seq)).all()
    assert rows[0][:5] == ["序号", "时间（北京时间）", "操作人", "角色", "操作"]
    assert [(int(r[0]), r[8]) for r in rows[1:]] == [(e.seq, e.hash) for e in events]
    assert rows[2][1] == "2026-06-01 11:00:00" and rows[2][5] == "已提交 → 核实中"
    summary = archive.read("case.txt").decode()
    assert "记录链校验：通过" in summary and world.wang.id_number not in summary
    [entry] = audit_entries("case.export")
    assert entry.case_id == world.worked.id and entry.detail == {"files": 1, "document_ids": [world.document.id]}

