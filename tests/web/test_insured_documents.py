"""上传资料: checklist, uploads tagged by kind and checked by content, re-upload on request, serving."""

import hashlib
import re
from pathlib import Path

from insured_support import EXE, HEIC, JPEG, PDF, PNG, reload, upload
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from portal.domain import documents
from portal.extensions import db
from portal.mail import outbox
from portal.models import Alert, AuditLog, CaseEvent, Document

HX = {"HX-Request": "true"}
MULTIPART = "multipart/form-data"


def _documents() -> list[Document]:
    return list(db.session.scalars(select(Document).order_by(Document.id)))


def test_documents_page_shows_the_checklist_limit_and_accepted_types(insured, client_of, open_case):
    case = open_case(insured)
    page = client_of(insured).get(f"/me/cases/{case.id}/documents").get_data(as_text=True)
    assert "资料清单" in page and page.count('class="todo"') == 2  # 门诊病历 and 身份证件 for 门诊绿通
    assert "支持 JPG、PNG、HEIC 照片或 PDF，单个文件不超过 10 MB。" in page
    assert 'name="file_medical_record"' in page and 'name="file_id_document"' in page
    assert 'accept="image/jpeg,image/png,image/heic' in page and "multiple" in page
    kinds = ("门诊病历", "出院小结", "血液检测报告", "CT 报告", "MRI 报告", "病理报告", "住院条", "身份证件", "其他")
    assert all(f">{label}</option>" in page for label in kinds)


def test_uploading_a_pdf_and_a_jpeg_stores_both_outside_static_with_their_sha256(insured, client_of, open_case, app):
    case, client = open_case(insured), client_of(insured)
    response = client.post(f"/me/cases/{case.id}/documents", content_type=MULTIPART, data={
        "file_medical_record": [upload(PDF, "病历.pdf")], "file_id_document": [upload(JPEG, "身份证.jpg")]})
    assert response.status_code == 303
    pdf, jpeg = _documents()
    assert (pdf.kind, pdf.content_type, jpeg.kind, jpeg.content_type) == (
        "medical_record", "application/pdf", "id_document", "image/jpeg")
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest() and pdf.original_name == "病历.pdf"
    assert "病历" not in pdf.stored_name and pdf.stored_name.endswith(".pdf")
    upload_dir = Path(app.config["UPLOAD_DIR"])
    assert (upload_dir / pdf.stored_name[:2] / pdf.stored_name).read_bytes() == PDF
    assert not upload_dir.resolve().is_relative_to(Path(app.static_folder).resolve())
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.action == "documents_uploaded"))
    assert event.summary == "客户上传资料：门诊病历、身份证件（共 2 个文件）"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已上传 2 个文件" in page and page.count('class="done"') == 2 and 'class="todo"' not in page


def test_several_files_at_once_under_one_kind(insured, client_of, open_case):
    case = open_case(insured)
    client_of(insured).post(f"/me/cases/{case.id}/documents", content_type=MULTIPART, data={
        "kind": "ct", "files": [upload(PNG, "ct-1.png"), upload(HEIC, "ct-2.heic"), upload(PDF, "ct-3.pdf")]})
    assert [(d.kind, d.content_type) for d in _documents()] == [
        ("ct", "image/png"), ("ct", "image/heic"), ("ct", "application/pdf")]


def test_upload_with_htmx_answers_the_panel_fragment_and_a_case_updated_event(insured, client_of, open_case):
    case = open_case(insured)
    response = client_of(insured).post(f"/me/cases/{case.id}/documents", content_type=MULTIPART, headers=HX,
                                       data={"file_medical_record": [upload(PDF, "病历.pdf")]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert page.lstrip().startswith(f'<div id="documents-{case.id}"') and "已上传 1 个文件" in page
    assert response.headers["HX-Trigger"] == "case-updated"


def test_documents_page_without_htmx_is_the_full_page(insured, client_of, open_case):
    case = open_case(insured)
    page = client_of(insured).get(f"/me/cases/{case.id}/documents").get_data(as_text=True)
    assert "<html" in page and re.search(r"/static/js/upload\.[0-9a-f]{12}\.js", page)  # fingerprinted (issue 20)


def test_a_file_whose_content_is_not_an_accepted_type_is_refused_whatever_its_name(
        insured, client_of, open_case, app):
    case = open_case(insured)
    response = client_of(insured).post(f"/me/cases/{case.id}/documents", content_type=MULTIPART, headers=HX, data={
        "file_medical_record": [upload(PDF, "好的.pdf")], "file_id_document": [upload(EXE, "身份证.jpg")]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in page
    assert 'id="file_id_document-error">“身份证.jpg”不是可接受的文件类型' in page
    assert _documents() == []  # the good file of the batch is not kept either
    assert not any(p.is_file() for p in Path(app.config["UPLOAD_DIR"]).rglob("*"))


def test_a_file_over_the_per_file_limit_is_refused_with_the_limit(insured, client_of, open_case, app):
    app.config["UPLOAD_MAX_BYTES"] = 1024 * 1024
    case = open_case(insured)
    big = PDF + b"0" * (1024 * 1024)
    # built by hand: werkzeug spools a body this large to a temporary file it never closes
    builder = EnvironBuilder(path=f"/me/cases/{case.id}/documents", method="POST",
                             data={"kind": "other", "files": [upload(big, "大.pdf")]})
    environ = builder.get_environ()
    try:
        page = client_of(insured).open(environ).get_data(as_text=True)
    finally:
        environ["wsgi.input"].close()
        builder.close()
    assert "“大.pdf”超过单个文件 1 MB 的上限" in page and _documents() == []


def test_upload_without_any_file_asks_for_one(insured, client_of, open_case):
    case = open_case(insured)
    response = client_of(insured).post(f"/me/cases/{case.id}/documents", content_type=MULTIPART, data={"kind": "ct"})
    assert response.status_code == 422 and "请至少选择一个文件。" in response.get_data(as_text=True)


def test_coordinators_request_and_reason_are_shown_with_a_row_to_reupload(insured, client_of, open_case, act):
    case = open_case(insured)
    client = client_of(insured)
    client.post(f"/me/cases/{case.id}/documents", content_type=MULTIPART,
                data={"file_medical_record": [upload(PDF, "病历.pdf")]})
    act(reload(case.id), "verify")
    act(reload(case.id), "request_documents", kinds=["medical_record", "ct"], reason="病历不清晰，请重新拍摄")
    page = client.get(f"/me/cases/{case.id}/documents").get_data(as_text=True)
    assert "请补充资料" in page and "病历不清晰，请重新拍摄" in page
    assert 'name="file_medical_record"' in page and 'name="file_ct"' in page
    assert "病历不清晰，请重新拍摄" in client.get(f"/me/cases/{case.id}").get_data(as_text=True)


def test_a_rejected_document_shows_its_reason(insured, client_of, open_case):
    case = open_case(insured)
    client = client_of(insured)
    client.post(f"/me/cases/{case.id}/documents", content_type=MULTIPART,
                data={"file_medical_record": [upload(PDF, "病历.pdf")]})
    document = _documents()[0]
    document.review_status, document.review_reason = "rejected", "照片模糊"
    db.session.commit()
    page = client.get(f"/me/cases/{case.id}/documents").get_data(as_text=True)
    assert "需重新上传" in page and "原因：照片模糊" in page and 'name="file_medical_record"' in page


def test_uploads_to_a_closed_case_are_refused(insured, client_of, open_case, act):
    case = act(open_case(insured), "terminate", reason="duplicate")
    client = client_of(insured)
    assert "上传资料</h2>" not in client.get(f"/me/cases/{case.id}/documents").get_data(as_text=True)
    response = client.post(f"/me/cases/{case.id}/documents", content_type=MULTIPART,
                           data={"kind": "other", "files": [upload(PDF, "x.pdf")]})
    assert response.status_code == 409 and "该申请已结束" in response.get_data(as_text=True)
    assert _documents() == []


def test_viewing_a_document_serves_it_and_records_the_read(insured, client_of, open_case):
    case = open_case(insured)
    client = client_of(insured)
    client.post(f"/me/cases/{case.id}/documents", content_type=MULTIPART,
                data={"file_id_document": [upload(JPEG, "身份证.jpg")]})
    document = _documents()[0]
    response = client.get(f"/me/cases/{case.id}/documents/{document.id}")
    body = response.get_data()
    response.close()
    assert response.status_code == 200 and body == JPEG and response.mimetype == "image/jpeg"
    assert response.headers["Content-Disposition"].startswith("inline;")
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "document.view"))
    assert (log.object_id, log.case_id, log.actor_id) == (document.id, case.id, insured.id)


def test_a_document_is_not_served_under_another_case_of_the_same_insured(insured, client_of, open_case):
    first, second = open_case(insured), open_case(insured, "domestic_escort")
    client = client_of(insured)
    client.post(f"/me/cases/{first.id}/documents", content_type=MULTIPART,
                data={"file_id_document": [upload(JPEG, "身份证.jpg")]})
    document = _documents()[0]
    assert client.get(f"/me/cases/{second.id}/documents/{document.id}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_an_upload_alerts_the_supervisors_while_unassigned_then_the_assigned_coordinator(
        insured, client_of, open_case, act, make_user):
    case, client = open_case(insured), client_of(insured)
    client.post(f"/me/cases/{case.id}/documents", content_type=MULTIPART,
                data={"file_medical_record": [upload(PDF, "病历.pdf")]})
    first = db.session.scalar(select(Alert))
    assert (first.kind, first.recipient_id, first.case_id) == ("documents_uploaded", None, case.id)
    assert first.key == f"upload:{case.id}:{_documents()[0].id}"
    assert first.message == f"案件 {case.ref} 的客户上传了资料：门诊病历（共 1 个文件），请审核。"
    coordinator = make_user("coordinator", display_name="陈晓", email="chen@example.com")
    act(case, "assign", assignee_id=coordinator.id)
    client.post(f"/me/cases/{case.id}/documents", content_type=MULTIPART,
                data={"file_id_document": [upload(JPEG, "身份证.jpg")]})
    second = db.session.scalar(select(Alert).where(Alert.id != first.id))
    assert second.recipient_id == coordinator.id and "身份证件" in second.message
    assert [m["To"] for m in outbox() if "客户上传了新资料" in m["Subject"]] == ["chen@example.com"]
    queue = client_of(coordinator).get("/staff/").get_data(as_text=True)
    assert '<span class="badge warn">新资料</span>' in queue and second.message in queue


def test_recording_the_same_upload_twice_raises_its_alert_once(insured, client_of, open_case):
    case = open_case(insured)
    client_of(insured).post(f"/me/cases/{case.id}/documents", content_type=MULTIPART,
                            data={"file_medical_record": [upload(PDF, "病历.pdf")]})
    documents.record_upload(case, _documents(), actor=insured)
    db.session.commit()
    assert db.session.scalar(select(func.count(Alert.id))) == 1


def test_an_upload_that_loses_a_race_says_so_at_the_files_and_keeps_nothing(insured, client_of, open_case,
                                                                             monkeypatch):
    """The insured's panel has no place for form-wide errors: the stale-save message must sit at the files."""
    from portal.domain.errors import StaleCaseError

    case = open_case(insured)

    def lost_race(*args, **kwargs):
        raise StaleCaseError()

    monkeypatch.setattr(documents, "record_upload", lost_race)
    response = client_of(insured).post(f"/me/cases/{case.id}/documents", content_type=MULTIPART, headers=HX,
                                       data={"file_medical_record": [upload(PDF, "病历.pdf")]})
    assert response.status_code == 409
    assert "该案件已被他人更新，请刷新后重试" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Document.id))) == 0
