"""The case workspace: page and fragment, the generic action endpoint, documents, notes and the stale save."""

import io
import re
from datetime import datetime, timedelta

import pytest
from coordinator_support import PNG, SH, act, action_data, advance, make_directory, open_case
from coordinator_support import covered_insured as insured_for
from helpers import PDF, accept_required_documents
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.domain import documents
from portal.extensions import db
from portal.models import Alert, AuditLog, Case, CaseEvent, Document, Notification

STALE = "该案件已被他人更新，请刷新后重试"


@pytest.fixture
def world(make_policy, make_user):
    directory = make_directory()
    coord = make_user("coordinator", display_name="陈晓")
    case = open_case(insured_for(make_policy), "domestic_second_opinion", directory)
    return directory, coord, case


def _upload(case, kind="medical_record", name="病历.pdf", data=PDF, actor=None):
    document = documents.save_upload(case, FileStorage(io.BytesIO(data), filename=name), kind=kind, actor=actor)
    db.session.commit()
    return document


def _events(case) -> int:
    return db.session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id))


def test_workspace_page_and_fragment(world, login_as):
    _, coord, case = world
    client = login_as(coord)
    page = client.get(f"/staff/cases/{case.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    for heading in ("服务进度", "下一步操作", "资料", "案件记录", "服务时限", "资格核实", "本保单年度服务次数"):
        assert heading in body
    assert "下一步：" in body and "开始核实" in body
    fragment = client.get(f"/staff/cases/{case.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and f'id="case-{case.id}"' in fragment


def test_unknown_case_and_unknown_or_insured_only_actions_are_404(world, login_as):
    _, coord, case = world
    client = login_as(coord)
    assert client.get("/staff/cases/999999").status_code == 404
    assert act(client, case, "fly_to_the_moon").status_code == 404
    assert act(client, case, "cancel").status_code == 404


def test_htmx_action_returns_the_refreshed_workspace_and_triggers_case_updated(world, login_as):
    _, coord, case = world
    client = login_as(coord)
    response = act(client, case, "verify", htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert response.headers["HX-Trigger"] == "case-updated"
    assert "已完成：开始核实" in body and "核实中" in body
    assert case.status == "verifying" and case.assignee_id == coord.id  # acting on an unassigned case takes it


def test_plain_action_redirects_303_to_the_workspace(world, login_as):
    _, coord, case = world
    response = act(login_as(coord), case, "verify")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/staff/cases/{case.id}")


def test_bad_input_comes_back_at_the_field_with_422_and_nothing_written(world, login_as):
    directory, coord, case = world
    advance(case, coord, "verify", "accept", accept_required_documents, "materials_complete")
    client = login_as(coord)
    events = _events(case)
    for htmx in (True, False):
        response = act(client, case, "assign_expert", htmx=htmx, expert_id="")
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and "请选择专家" in body
        assert ("<html" in body) is not htmx
        assert 'aria-invalid="true"' in body
    assert _events(case) == events and case.milestone == "materials_complete"


def test_domain_refusal_is_shown_at_the_field(world, login_as, make_policy):
    directory, coord, _ = world
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    advance(case, coord, "verify", "accept", ("confirm_hospital", {"hospital_id": directory.bj.id}))
    response = act(login_as(coord), case, "book_appointment", hospital_id=directory.bj.id, department="内科",
                   scheduled_at=datetime.now(SH) - timedelta(days=1))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<p class="error" id="book_appointment-scheduled_at-error">预约时间必须晚于当前时间</p>', body)


def test_an_action_the_case_is_not_ready_for_is_refused_with_the_reason(world, login_as):
    _, coord, case = world
    response = act(login_as(coord), case, "deliver", htmx=True)
    assert response.status_code == 422
    assert "当前状态“已提交”不能执行“交付报告”" in response.get_data(as_text=True)


def test_later_of_two_saves_is_refused_and_nothing_is_lost(world, login_as, make_user):
    directory, coord, case = world
    boss = make_user("supervisor", display_name="何静")
    advance(case, coord, "verify", "accept")
    first, second = login_as(coord), login_as(boss)
    seen = action_data(case, "note", text="后到的备注")  # both opened the case at the same version
    assert act(first, case, "note", text="先到的备注").status_code == 303
    events = _events(case)
    for htmx in (False, True):
        response = second.post(f"/staff/cases/{case.id}/actions/note", data=seen,
                               headers={"HX-Request": "true"} if htmx else {})
        body = response.get_data(as_text=True)
        assert response.status_code == 409 and STALE in body
        assert "后到的备注" in body  # the refused text stays in the form to copy
    assert _events(case) == events
    assert "先到的备注" in client_page(first, case)


def client_page(client, case) -> str:
    return client.get(f"/staff/cases/{case.id}").get_data(as_text=True)


def test_a_save_without_the_version_seen_is_refused_as_stale(world, login_as):
    _, coord, case = world
    response = login_as(coord).post(f"/staff/cases/{case.id}/actions/verify", data={})
    assert response.status_code == 409 and STALE in response.get_data(as_text=True)
    assert case.status == "submitted"


def test_coordinator_cannot_act_on_a_colleagues_case(world, login_as, make_user):
    _, coord, case = world
    colleague = make_user("coordinator", display_name="刘洋")
    advance(case, colleague, "verify")
    client = login_as(coord)
    assert "该案件由刘洋负责" in client_page(client, case)
    response = act(client, case, "accept")
    assert response.status_code == 403  # refused by access control, before the form is even read
    assert db.session.get(Case, case.id).status == "verifying"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_coordinator_who_lost_the_race_for_a_case_is_told_a_colleague_took_it(world, login_as, make_user, htmx):
    """Issue 18 item 8: the page showed the case unassigned; a colleague took it first — not a permission
    problem to the one who lost, so 409 with what happened instead of 您没有权限执行此操作."""
    _, coord, case = world
    seen = action_data(case, "verify")  # what coord's open page would post
    colleague = make_user("coordinator", display_name="刘洋")
    advance(case, colleague, "verify")
    client = login_as(coord)
    response = client.post(f"/staff/cases/{case.id}/actions/verify", data=seen,
                           headers={"HX-Request": "true"} if htmx else {})
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "该案件刚被其他同事接手或更新" in body and "您没有权限" not in body
    assert ("<html" in body) is not htmx
    db.session.expire_all()
    assert db.session.get(Case, case.id).assignee_id == colleague.id and _events(case) == 2


def test_a_form_the_page_sent_again_after_a_lost_answer_is_not_called_someone_elses_change(world, login_as):
    """Issue 18 item 9: the page resends a form whose answer the network lost (X-Resubmit, submit-once.js).
    If the first try landed, the resend finds the case moved on: the user is told the action may well be
    saved (look before redoing it), not that a colleague changed the case — and nothing is written twice."""
    _, coord, case = world
    client = login_as(coord)
    sent = action_data(case, "note", text="客户希望上午联系")
    headers = {"HX-Request": "true"}
    assert client.post(f"/staff/cases/{case.id}/actions/note", data=sent, headers=headers).status_code == 200
    events = _events(case)
    resent = client.post(f"/staff/cases/{case.id}/actions/note", data=sent,
                         headers={**headers, "X-Resubmit": "1"})
    body = resent.get_data(as_text=True)
    assert resent.status_code == 409 and "您的操作可能已经保存" in body and STALE not in body
    assert "刷新案件" in body and _events(case) == events
    stale = client.post(f"/staff/cases/{case.id}/actions/note", data=sent, headers=headers)
    assert stale.status_code == 409 and STALE in stale.get_data(as_text=True)  # a user's own second send


def test_internal_note_is_in_the_timeline_marked_internal(world, login_as):
    _, coord, case = world
    client = login_as(coord)
    assert act(client, case, "note", text="客户希望上午联系").status_code == 303
    body = client_page(client, case)
    assert "内部备注：客户希望上午联系" in body and 'class="event event-note internal"' in body


def test_document_is_viewed_inline_and_every_view_is_audited(world, login_as, make_policy, make_user):
    directory, coord, case = world
    document = _upload(case)
    client = login_as(coord)
    response = client.get(f"/staff/cases/{case.id}/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("inline")
    response.close()
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "document.view"))
    assert (log.object_id, log.case_id, log.actor_id) == (document.id, case.id, coord.id)
    other = open_case(insured_for(make_policy), "green_outpatient", directory)
    assert client.get(f"/staff/cases/{other.id}/documents/{document.id}").status_code == 404


def test_accepting_and_rejecting_documents_is_recorded_and_a_rejection_tells_the_insured(world, login_as):
    _, coord, case = world
    record, scan = _upload(case), _upload(case, kind="id_document", name="身份证.png", data=PNG)
    client = login_as(coord)

    def review(document, htmx=False, **fields):
        data = {f"doc{document.id}-{k}": v for k, v in fields.items()}
        data[f"doc{document.id}-version"] = str(case.version)
        return client.post(f"/staff/cases/{case.id}/documents/{document.id}/review", data=data,
                           headers={"HX-Request": "true"} if htmx else {})

    response = review(scan, htmx=True, decision="rejected", reason="")
    assert response.status_code == 422 and "请填写退回原因" in response.get_data(as_text=True)
    assert review(record, decision="accepted").status_code == 303
    response = review(scan, htmx=True, decision="rejected", reason="照片模糊，请重拍")
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert (record.review_status, scan.review_status) == ("accepted", "rejected")
    assert scan.review_reason == "照片模糊，请重拍"
    assert scan.reviewed_by_id == coord.id and scan.reviewed_at is not None
    kinds = [e.action for e in case.events if e.kind == "document"]
    assert kinds == ["document_accepted", "document_rejected"]
    note = db.session.scalar(select(Notification).where(Notification.title == "资料需要重新提供"))
    assert "照片模糊，请重拍" in note.body
    body = client_page(client, case)
    assert "退回原因：照片模糊，请重拍" in body


def test_review_with_an_old_version_is_refused(world, login_as):
    _, coord, case = world
    document = _upload(case)
    client = login_as(coord)
    old = str(case.version)
    assert act(client, case, "verify").status_code == 303
    response = client.post(f"/staff/cases/{case.id}/documents/{document.id}/review",
                           data={f"doc{document.id}-decision": "accepted", f"doc{document.id}-version": old})
    assert response.status_code == 409 and document.review_status == "pending"


def test_request_more_pauses_the_clock_and_notifies_then_received_resumes(world, login_as, make_policy):
    directory, coord, _ = world
    case = open_case(insured_for(make_policy), "green_outpatient", directory)
    client = login_as(coord)
    assert act(client, case, "verify").status_code == 303
    response = act(client, case, "request_documents", kinds=["id_document", "medical_record"], reason="证件照片不清晰")
    assert response.status_code == 303
    assert case.status == "awaiting_documents" and case.clocks[0].state == "paused"
    assert db.session.scalar(select(Notification).where(Notification.title == "请补充资料")) is not None
    body = client_page(client, case)
    assert "已要求客户补充" in body and "身份证件、门诊病历" in body and "已暂停·等待客户" in body
    assert act(client, case, "documents_received").status_code == 303
    assert case.status == "verifying" and case.clocks[0].state == "running"


def test_materials_complete_starts_the_report_clock(world, login_as):
    _, coord, case = world
    advance(case, coord, "verify", "accept", accept_required_documents)
    assert case.clocks[0].state == "pending"
    client = login_as(coord)
    assert act(client, case, "materials_complete").status_code == 303
    assert case.clocks[0].state == "running"
    assert "剩 10 个工作日" in client_page(client, case)


def test_materials_complete_is_refused_with_what_is_missing_or_unreviewed_until_all_are_accepted(world, login_as):
    _, coord, case = world
    advance(case, coord, "verify", "accept")
    client = login_as(coord)
    for htmx in (True, False):
        response = act(client, case, "materials_complete", htmx=htmx)
        body = response.get_data(as_text=True)
        assert response.status_code == 422 and "资料尚未齐全：缺少 门诊病历、病理报告、身份证件" in body
        assert ("<html" in body) is not htmx
    record = _upload(case)
    for kind in ("pathology", "id_document"):
        response = client.post(f"/staff/cases/{case.id}/documents", content_type="multipart/form-data", data={
            "upload-version": str(case.version), "upload-kind": kind, "upload-file": (io.BytesIO(PDF), f"{kind}.pdf")})
        assert response.status_code == 303
    for document in case.documents:
        if document.kind != "medical_record":
            response = client.post(f"/staff/cases/{case.id}/documents/{document.id}/review", data={
                f"doc{document.id}-decision": "accepted", f"doc{document.id}-version": str(case.version)})
            assert response.status_code == 303
    response = act(client, case, "materials_complete")
    assert response.status_code == 422 and "资料尚未齐全：待审核 门诊病历" in response.get_data(as_text=True)
    assert case.milestone is None and case.clocks[0].state == "pending"
    client.post(f"/staff/cases/{case.id}/documents/{record.id}/review",
                data={f"doc{record.id}-decision": "accepted", f"doc{record.id}-version": str(case.version)})
    assert act(client, case, "materials_complete").status_code == 303
    assert case.milestone == "materials_complete"


def test_staff_upload_on_behalf_of_the_insured_enters_the_history(world, login_as):
    _, coord, case = world
    client = login_as(coord)
    data = {"upload-version": str(case.version), "upload-kind": "pathology",
            "upload-file": (io.BytesIO(PDF), "病理报告.pdf")}
    response = client.post(f"/staff/cases/{case.id}/documents", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    document = db.session.scalar(select(Document).where(Document.case_id == case.id))
    assert (document.kind, document.uploaded_by_id) == ("pathology", coord.id)
    last = case.events[-1]
    assert (last.action, last.summary) == ("documents_uploaded", "代客户上传资料：病理报告（共 1 个文件）")
    assert db.session.scalar(select(func.count(Alert.id))) == 0  # staff filed it: nobody to alert


def test_staff_upload_refuses_a_file_that_is_not_an_image_or_pdf(world, login_as):
    _, coord, case = world
    data = {"upload-version": str(case.version), "upload-kind": "pathology",
            "upload-file": (io.BytesIO(b"MZ not a document"), "x.pdf")}
    response = login_as(coord).post(f"/staff/cases/{case.id}/documents", data=data,
                                    content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert response.status_code == 422 and "不是可接受的文件类型" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Document.id))) == 0


def test_not_eligible_case_shows_each_failed_rule(world, login_as, make_policy):
    from portal.domain import intake

    directory, coord, _ = world
    insured = insured_for(make_policy)
    case = intake.submit_request(insured=insured, line_code="green_outpatient", actor=coord, channel="ys_hotline",
                                 data={"illness": "感冒", "first_diagnosis_date": "2000-01-01", "city": "火星"})
    db.session.commit()
    body = client_page(login_as(coord), case)
    assert "未通过核实，已登记备案" in body and "“感冒”不在本产品保障的重度疾病范围内" in body
    assert "下一步操作" not in body
