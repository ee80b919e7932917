"""The insured's consent gate, notices, withdrawal, 下载我的资料, cross-border consent in the portal, the hotline
intake's verbal consent, restricted documents for every role and what 史带 sees of transfers (SPEC §7)."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from coordinator_support import act, advance, consent_abroad, make_directory, open_case, today
from coordinator_support import covered_insured as insured_for
from helpers import PDF, accept_required_documents
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from portal.domain import consent, documents, lifecycle, privacy_rights
from portal.extensions import db
from portal.models import AuditLog, Case, ConsentRecord, Notice


@pytest.fixture
def world(make_policy, make_user):
    directory = make_directory()
    return directory, make_user("coordinator", display_name="陈晓"), make_policy


def _insured_client(login_as, make_user, make_policy, *, consent=True, name="王测试"):
    person = insured_for(make_policy, consent=consent, name=name)
    return login_as(make_user("insured", insured=person, display_name=name)), person


def _zip(client, url) -> zipfile.ZipFile:
    """GET a ZIP download and close the response (its spooled file) before reading it."""
    response = client.get(url)
    body, status, mimetype = response.data, response.status_code, response.mimetype
    response.close()
    assert status == 200 and mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(body))


def _cases() -> int:
    return db.session.scalar(select(func.count(Case.id)))


def test_an_insured_without_consent_meets_the_gate_before_any_page(world, login_as, make_user):
    _, _, make_policy = world
    client, person = _insured_client(login_as, make_user, make_policy, consent=False)
    for path in ("/me/", "/me/apply", "/me/apply/green_outpatient", "/me/inbox"):
        response = client.get(path)
        assert response.status_code == 303 and "/me/consent" in response.headers["Location"], path
    htmx = client.get("/me/", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and "/me/consent" in htmx.headers["HX-Redirect"]
    assert client.post("/me/apply/green_outpatient", data={}).status_code == 303
    assert _cases() == 0
    page = client.get("/me/consent?next=/me/apply").get_data(as_text=True)
    assert "个人信息处理告知书" in page and "英仕" in page and "史带" in page and "400-606-5033" in page
    assert "<details>" in page and "阅读告知书全文" in page
    assert 'type="checkbox"' in page and "checked" not in page  # a separate box, never ticked in advance
    assert client.get("/me/privacy").status_code == 200  # rights stay reachable without consent


def test_the_consent_must_be_ticked_and_is_recorded_with_the_notice_version(world, login_as, make_user):
    _, _, make_policy = world
    client, person = _insured_client(login_as, make_user, make_policy, consent=False)
    refused = client.post("/me/consent?next=/me/apply", data={})
    assert refused.status_code == 422 and "请勾选同意后继续" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ConsentRecord.id))) == 0
    response = client.post("/me/consent?next=/me/apply", data={"agree": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/me/apply")
    record = db.session.scalar(select(ConsentRecord))
    assert (record.insured_id, record.channel, record.actor_id, record.action) == (
        person.id, "portal", client.user.id, "given")
    assert record.notice.kind == "privacy" and record.ip == "127.0.0.1"
    assert client.get("/me/").status_code == 200
    assert client.post("/me/consent?next=https://evil.example/", data={"agree": "y"}).headers[
        "Location"].endswith("/me/")


def test_a_new_notice_version_asks_again_at_the_next_visit(world, login_as, make_user):
    _, _, make_policy = world
    client, _ = _insured_client(login_as, make_user, make_policy)
    assert client.get("/me/").status_code == 200
    db.session.add(Notice(kind="privacy", version=2, effective_from=today(), title="个人信息处理告知书（第二版）",
                          summary="更新了保存期限。", body="全文"))
    db.session.commit()
    assert "/me/consent" in client.get("/me/").headers["Location"]
    assert "告知书已更新为第 2 版" in client.get("/me/consent").get_data(as_text=True)
    client.post("/me/consent", data={"agree": "y"})
    assert client.get("/me/").status_code == 200


def _intake(insured, directory, **changes):
    data = {"channel": "ys_hotline", "name": insured.name, "id_type": "id_card", "id_number": insured.id_number,
            "illness": "恶性肿瘤——重度", "first_diagnosis_date": (today() - timedelta(days=10)).isoformat(),
            "city": "北京", "hospital_id": str(directory.bj.id), "department": "肿瘤内科"}
    return {**data, **changes}


def test_hotline_intake_records_the_verbal_consent_and_who_read_the_notice(world, login_as):
    directory, coord, make_policy = world
    insured = insured_for(make_policy, consent=False)
    client = login_as(coord)
    page = client.get(f"/staff/intake/{insured.id}?line=green_outpatient").get_data(as_text=True)
    assert "个人信息处理同意（须先宣读）" in page and "告知书全文（向来电人宣读）" in page
    refused = client.post(f"/staff/intake/{insured.id}?line=green_outpatient", data=_intake(insured, directory))
    assert refused.status_code == 422 and "不能创建案件" in refused.get_data(as_text=True)
    assert _cases() == 0
    done = client.post(f"/staff/intake/{insured.id}?line=green_outpatient",
                       data=_intake(insured, directory, consent_read="y"))
    assert done.status_code == 303 and _cases() == 1
    record = db.session.scalar(select(ConsentRecord))
    assert (record.channel, record.actor_id, record.actor_name, record.insured_id) == (
        "hotline", coord.id, "陈晓", insured.id)
    # consented now: the box is gone and the page says when
    page = client.get(f"/staff/intake/{insured.id}?line=green_inpatient").get_data(as_text=True)
    assert "须先宣读" not in page and "来电人已于" in page


def test_withdrawal_in_the_portal_stops_open_cases_and_staff_see_why(world, login_as, make_user):
    directory, coord, make_policy = world
    client, person = _insured_client(login_as, make_user, make_policy)
    case = open_case(person, "green_outpatient", directory, actor=coord)
    refused = client.post("/me/privacy/withdraw", data={})
    assert refused.status_code == 422 and "请勾选确认后再撤回" in refused.get_data(as_text=True)
    assert client.post("/me/privacy/withdraw", data={"confirm": "y", "note": "不想继续"}).status_code == 303
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.status, case.termination_reason) == ("terminated", "consent_withdrawn")
    staff_page = login_as(coord).get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "被保险人撤回个人信息处理同意" in staff_page
    assert "/me/consent" in client.get("/me/apply").headers["Location"]  # nothing new until consent again
    page = client.get("/me/privacy").get_data(as_text=True)
    assert "未同意" in page and "撤回" in page


def _upload(case, actor, name):
    storage = FileStorage(io.BytesIO(PDF), filename=name, content_type="application/pdf")
    doc = documents.save_upload(case, storage, kind="medical_record", actor=actor)
    db.session.commit()
    return doc


def test_download_my_data_contains_exactly_the_insured_s_own_data_and_is_audited(world, login_as, make_user):
    directory, coord, make_policy = world
    mine, me = _insured_client(login_as, make_user, make_policy, name="甲客户")
    theirs, other = _insured_client(login_as, make_user, make_policy, name="乙客户")
    my_case = open_case(me, "green_outpatient", directory, actor=coord)
    their_case = open_case(other, "green_outpatient", directory, actor=coord)
    _upload(my_case, coord, "甲的病历.pdf")
    _upload(their_case, coord, "乙的病历.pdf")
    archive = _zip(mine, "/me/privacy/download")
    names = archive.namelist()
    assert {"README.txt", "policy.json", "applications.json", "history.json", "consents.json",
            "transfers.json", "messages.json"} <= set(names)
    assert [n for n in names if n.startswith("documents/")] == [
        f"documents/{my_case.ref}/{my_case.documents[0].id}_甲的病历.pdf"]
    everything = "".join(archive.read(n).decode("utf-8", "replace") for n in names)
    assert "甲客户" in everything and me.id_number in everything and my_case.ref in everything
    assert "乙客户" not in everything and other.id_number not in everything and their_case.ref not in everything
    assert json.loads(archive.read("applications.json"))[0]["编号"] == my_case.ref
    assert json.loads(archive.read("consents.json"))[0]["操作"] == "同意"
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "privacy.download"))
    assert entry.actor_id == mine.user.id and entry.object_id == me.id and entry.detail["files"] == 1


def test_a_deletion_request_is_queued_from_the_portal(world, login_as, make_user):
    _, _, make_policy = world
    client, person = _insured_client(login_as, make_user, make_policy)
    assert client.post("/me/privacy/requests", data={}).status_code == 422
    assert client.post("/me/privacy/requests", data={"kind": "deletion", "text": "请删除我的资料"}).status_code == 303
    (request,) = privacy_rights.requests_of(person)
    assert (request.kind, request.status, request.channel) == ("deletion", "open", "portal")
    assert "待处理" in client.get("/me/privacy").get_data(as_text=True)


def _overseas_until_imaging(case, coord):
    advance(case, coord, "verify", ("launch_decision", {"launch": True}), accept_required_documents,
            "materials_complete", "history_translated", "imaging_transferred")


def test_the_insured_names_the_overseas_hospital_and_only_then_the_coordinator_proceeds(
        world, login_as, make_user):
    directory, coord, make_policy = world
    client, person = _insured_client(login_as, make_user, make_policy)
    case = open_case(person, "overseas_second_opinion", directory, actor=coord)
    _overseas_until_imaging(case, coord)
    staff = login_as(coord)
    refused = act(staff, case, "choose_provider", country="美国", hospital_id=directory.us.id)
    assert refused.status_code == 422 and "客户尚未同意向美国的MD Anderson Cancer Center发送资料" in refused.get_data(
        as_text=True)
    assert "资料出境需要您同意" in client.get(f"/me/cases/{case.id}").get_data(as_text=True)
    form = client.get(f"/me/cases/{case.id}/cross-border").get_data(as_text=True)
    assert "个人信息出境告知书" in form and "MD Anderson Cancer Center" in form and "将发送的资料" in form
    assert client.post(f"/me/cases/{case.id}/cross-border",
                       data={"hospital_id": str(directory.us.id)}).status_code == 422  # box not ticked
    assert client.post(f"/me/cases/{case.id}/cross-border",
                       data={"hospital_id": str(directory.us.id), "agree": "y"}).status_code == 303
    record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.purpose == "cross_border"))
    assert (record.case_id, record.hospital_id, record.channel, record.country) == (
        case.id, directory.us.id, "portal", "美国")
    assert act(staff, case, "choose_provider", country="美国", hospital_id=directory.us.id).status_code in (200, 303)
    db.session.expire_all()
    assert db.session.get(Case, case.id).milestone == "provider_chosen"
    # 史带 sees the transfer on the case page and in the case export
    auditor = login_as("auditor")
    page = auditor.get(f"/audit/cases/{case.id}").get_data(as_text=True)
    assert "资料出境记录" in page and "MD Anderson Cancer Center" in page and f"记录 {record.id}" in page
    archive = _zip(auditor, f"/audit/cases/{case.id}/export.zip")
    transfers_csv = archive.read("transfers.csv").decode("utf-8-sig")
    assert "MD Anderson Cancer Center" in transfers_csv and "美国" in transfers_csv
    assert "客户自助（网页）" in transfers_csv


def test_another_insured_cannot_consent_for_a_case_that_is_not_theirs(world, login_as, make_user):
    directory, coord, make_policy = world
    _, person = _insured_client(login_as, make_user, make_policy)
    stranger, _ = _insured_client(login_as, make_user, make_policy, name="别人")
    case = open_case(person, "overseas_second_opinion", directory, actor=coord)
    assert stranger.get(f"/me/cases/{case.id}/cross-border").status_code == 404
    assert stranger.post(f"/me/cases/{case.id}/cross-border",
                         data={"hospital_id": str(directory.us.id), "agree": "y"}).status_code == 404


def test_a_restricted_document_answers_404_to_every_role(world, login_as, make_user):
    directory, coord, make_policy = world
    client, person = _insured_client(login_as, make_user, make_policy)
    case = open_case(person, "green_outpatient", directory, actor=coord)
    doc = _upload(case, coord, "旧病历.pdf")
    urls = {"insured": (client, f"/me/cases/{case.id}/documents/{doc.id}"),
            "coordinator": (login_as(coord), f"/staff/cases/{case.id}/documents/{doc.id}"),
            "supervisor": (login_as("supervisor"), f"/staff/cases/{case.id}/documents/{doc.id}"),
            "auditor": (login_as("auditor"), f"/audit/documents/{doc.id}")}
    for who, (c, url) in urls.items():
        response = c.get(url)
        response.close()  # the file is streamed: close it
        assert response.status_code == 200, who
    lifecycle.perform(case, "terminate", actor=coord, reason="duplicate", note="")
    case.closed_at = case.closed_at - timedelta(days=6 * 366)
    db.session.commit()
    privacy_rights.restrict_expired()
    db.session.commit()
    for who, (c, url) in urls.items():
        assert c.get(url).status_code == 404, who
    assert "已限制处理" in client.get(f"/me/cases/{case.id}/documents").get_data(as_text=True)
    assert "已限制处理" in urls["auditor"][0].get(f"/audit/cases/{case.id}").get_data(as_text=True)
    archive = _zip(urls["auditor"][0], f"/audit/cases/{case.id}/export.zip")
    assert not [n for n in archive.namelist() if n.startswith("documents/")]
    assert json.loads(_zip(client, "/me/privacy/download").read("restricted.json"))[0]["文件"] == "旧病历.pdf"


def test_consent_abroad_helper_is_recorded_by_the_coordinator(world, login_as):
    directory, coord, make_policy = world
    case = open_case(insured_for(make_policy), "overseas_treatment", directory, actor=coord)
    advance(case, coord, consent_abroad(directory.us))
    record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.purpose == "cross_border"))
    assert (record.channel, record.actor_id) == ("hotline", coord.id)
    assert consent.has_consent(case.insured)


def test_the_supervisor_runs_the_job_decides_requests_and_opens_a_restricted_file_only_under_legal_hold(
        world, login_as, make_user):
    directory, coord, make_policy = world
    insured_client, person = _insured_client(login_as, make_user, make_policy)
    case = open_case(person, "green_outpatient", directory, actor=coord)
    doc = _upload(case, coord, "旧病历.pdf")
    lifecycle.perform(case, "terminate", actor=coord, reason="duplicate", note="")
    case.closed_at = case.closed_at - timedelta(days=6 * 366)
    db.session.commit()
    boss = login_as("supervisor")
    assert login_as(coord).get("/staff/admin/privacy").status_code == 403
    page = boss.get("/staff/admin/privacy").get_data(as_text=True)
    assert "上传的资料与报告文件" in page and "5 年" in page and "没有待处理的请求" in page
    assert boss.post("/staff/admin/privacy/restrict").status_code == 303
    assert db.session.get(type(doc), doc.id).restricted_at is not None
    assert "文件 1 份" in boss.get("/staff/admin/privacy").get_data(as_text=True)
    # the legal-hold view needs a ground, and is audited
    refused = boss.post("/staff/admin/privacy/legal-hold", data={"document_id": doc.id, "reason": ""})
    assert refused.status_code == 422 and "请填写调阅依据" in refused.get_data(as_text=True)
    held = boss.post("/staff/admin/privacy/legal-hold", data={"document_id": doc.id, "reason": "（2026）调字第1号"})
    held.close()
    assert held.status_code == 200 and held.headers["Content-Disposition"].startswith("attachment")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "privacy.legal_hold_view"))
    assert entry.object_id == doc.id and entry.actor_role == "supervisor"
    # a request from the portal, decided with its reason, shown to the insured
    insured_client.post("/me/privacy/requests", data={"kind": "restriction"})
    (request,) = privacy_rights.requests_of(person)
    prefix = f"r{request.id}"
    assert boss.post(f"/staff/admin/privacy/requests/{request.id}",
                     data={f"{prefix}-decision": "refuse", f"{prefix}-reason": ""}).status_code == 422
    assert boss.post(f"/staff/admin/privacy/requests/{request.id}",
                     data={f"{prefix}-decision": "refuse", f"{prefix}-reason": "服务记录须依法保存"}).status_code == 303
    assert "未同意" in insured_client.get("/me/privacy").get_data(as_text=True)
    assert "服务记录须依法保存" in insured_client.get("/me/privacy").get_data(as_text=True)


def test_the_coordinator_records_a_verbal_cross_border_consent_and_then_proceeds(world, login_as):
    directory, coord, make_policy = world
    case = open_case(insured_for(make_policy), "overseas_treatment", directory, actor=coord)
    advance(case, coord, "verify", "accept", ("launch_decision", {"launch": True}), accept_required_documents,
            "materials_complete", "history_translated")
    client = login_as(coord)
    assert "资料出境同意与传输记录" in client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    page = client.get(f"/staff/cases/{case.id}/cross-border").get_data(as_text=True)
    assert "告知书全文（向来电人宣读）" in page and "MD Anderson Cancer Center" in page
    unread = client.post(f"/staff/cases/{case.id}/cross-border", data={"hospital_id": str(directory.us.id)})
    assert unread.status_code == 422 and "请先宣读出境告知书" in unread.get_data(as_text=True)
    assert client.post(f"/staff/cases/{case.id}/cross-border",
                       data={"hospital_id": str(directory.us.id), "read_aloud": "y"}).status_code == 303
    record = db.session.scalar(select(ConsentRecord).where(ConsentRecord.purpose == "cross_border"))
    assert (record.channel, record.actor_id, record.hospital_id) == ("hotline", coord.id, directory.us.id)
    assert act(client, case, "hospital_accepted", hospital_id=directory.us.id).status_code in (200, 303)
    page = client.get(f"/staff/cases/{case.id}/cross-border").get_data(as_text=True)
    assert "依据同意记录" in page and "不需要出境同意" in page


def test_the_coordinator_records_a_withdrawal_and_a_request_by_phone(world, login_as):
    directory, coord, make_policy = world
    person = insured_for(make_policy)
    case = open_case(person, "domestic_escort", directory, actor=coord)
    client = login_as(coord)
    assert client.post(f"/staff/insured/{person.id}/privacy/withdraw", data={}).status_code == 422
    assert client.post(f"/staff/insured/{person.id}/privacy/withdraw",
                       data={"confirm": "y", "note": "本人来电"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, case.id).termination_reason == "consent_withdrawn"
    record = consent.latest(person)
    assert (record.action, record.channel, record.actor_id, record.note) == (
        "withdrawn", "hotline", coord.id, "本人来电")
    assert client.post(f"/staff/insured/{person.id}/privacy/requests", data={"kind": "deletion"}).status_code == 303
    page = client.get(f"/staff/insured/{person.id}/privacy").get_data(as_text=True)
    assert "未同意" in page and "待处理" in page and "热线（陈晓）" in page


def test_the_insured_withdraws_a_cross_border_consent_before_anything_is_sent(world, login_as, make_user):
    directory, coord, make_policy = world
    client, person = _insured_client(login_as, make_user, make_policy)
    case = open_case(person, "overseas_treatment", directory, actor=coord)
    advance(case, coord, "verify", "accept", ("launch_decision", {"launch": True}), accept_required_documents,
            "materials_complete", "history_translated")
    client.post(f"/me/cases/{case.id}/cross-border", data={"hospital_id": str(directory.us.id), "agree": "y"})
    page = client.get(f"/me/cases/{case.id}/cross-border").get_data(as_text=True)
    assert "撤回对 MD Anderson Cancer Center 的出境同意" in page
    assert client.post(f"/me/cases/{case.id}/cross-border/withdraw",
                       data={"hospital_id": str(directory.us.id)}).status_code == 303
    assert [r.action for r in consent.records(person) if r.purpose == "cross_border"] == ["withdrawn", "given"]
    refused = act(login_as(coord), case, "hospital_accepted", hospital_id=directory.us.id)
    assert refused.status_code == 422 and "客户尚未同意" in refused.get_data(as_text=True)
    assert client.post(f"/me/cases/{case.id}/cross-border/withdraw",
                       data={"hospital_id": str(directory.us.id)}).status_code == 422  # nothing left to withdraw
    assert "资料出境需要您同意" in client.get(f"/me/cases/{case.id}").get_data(as_text=True)
