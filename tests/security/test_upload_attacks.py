"""Upload attacks against every upload route: each is refused with a Chinese message naming the problem and
nothing is stored — no Document row, no file under UPLOAD_DIR. Accepted files come back with their own
type, nosniff, a Content-Disposition and a sandboxing CSP: never run, never inlined as HTML."""

from io import BytesIO
from pathlib import Path

import pytest
from helpers import accept_required_documents
from security_world import HEIC, JPEG, PDF, PNG, fingerprint

from portal.domain import lifecycle
from portal.extensions import db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
LIMIT = 4096  # per-file limit for these tests, so "oversize" stays small

NOT_ACCEPTED = "不是可接受的文件类型"
MISMATCH = "扩展名"
PATH = "文件名不能包含路径"
INVISIBLE = "不可见或特殊控制字符"
REPORT_PDF = "报告须为 PDF 文件"
#: (id, content, filename, what the message must say)
CORPUS = [
    ("exe-renamed-pdf", EXE, "检查报告.pdf", NOT_ACCEPTED),
    ("html-with-script", HTML, "病历.html", NOT_ACCEPTED),
    ("html-renamed-pdf", HTML, "病历.pdf", NOT_ACCEPTED),
    ("svg-with-script", SVG, "影像.svg", NOT_ACCEPTED),
    ("png-named-pdf", PNG, "出院小结.pdf", MISMATCH),
    ("pdf-named-jpg", PDF, "身份证.jpg", MISMATCH),
    ("jpeg-named-html", JPEG, "照片.html", MISMATCH),
    ("pdf-with-exe-suffix", PDF, "病历.pdf.exe", MISMATCH),
    ("exe-with-trailing-dot", PDF, "setup.exe. ", MISMATCH),
    ("empty", b"", "空白.pdf", "空文件"),
    ("oversize", PDF + b"0" * (LIMIT + 1), "很大的病历.pdf", "超过单个文件 4 KB 的上限"),
    ("traversal-posix", PDF, "../../../etc/cron.d/病历.pdf", PATH),
    ("traversal-windows", PDF, "..\\..\\Windows\\病历.pdf", PATH),
    ("absolute-path", PDF, "/var/lib/病历.pdf", PATH),
    ("right-to-left-override", PDF, "病历\u202efdp.exe", INVISIBLE),
    ("zero-width-space", PDF, "病\u200b历.pdf", INVISIBLE),
    ("escape-sequence-in-name", PDF, "病历\x1b[2J\x1b[31m.pdf", INVISIBLE),
    ("very-long-name", PDF, "很" * 300 + ".pdf", "文件名太长"),
]
ACCEPTED = [("jpeg", JPEG, "身份证正面.JPG", "image/jpeg"), ("png", PNG, "CT 截图.png", "image/png"),
            ("pdf", PDF, "门诊病历.pdf", "application/pdf"), ("heic", HEIC, "IMG_0001.HEIC", "image/heic"),
            ("no-extension", JPEG, "相机照片", "image/jpeg")]


@pytest.fixture
def upload_app(app):
    app.config["UPLOAD_MAX_BYTES"] = LIMIT
    return app


def stored_files(app) -> set[Path]:
    return {p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()}


def at_expert_assigned(world):
    """A's second-opinion case moved on to the point where the report is uploaded."""
    case = world.case_a
    for action in ("verify", "accept"):
        lifecycle.perform(case, action, actor=world.c1)
    accept_required_documents(case, world.c1)  # what materials_complete waits for
    for action, fields in (("materials_complete", {}), ("assign_expert", {"expert_id": world.expert.id})):
        lifecycle.perform(case, action, actor=world.c1, **fields)
    db.session.commit()
    return case


def post_insured(client, world, content, name, headers=None):
    return client.post(f"/me/cases/{world.case_a.id}/documents", content_type="multipart/form-data",
                       headers=headers or {}, data={"file_medical_record": [(BytesIO(content), name)]})


def post_staff(client, world, content, name, headers=None):
    return client.post(f"/staff/cases/{world.case_a.id}/documents", content_type="multipart/form-data",
                       headers=headers or {}, data={"upload-kind": "medical_record",
                                                    "upload-version": str(world.case_a.version),
                                                    "upload-file": (BytesIO(content), name)})


def post_report(client, world, content, name, headers=None):
    return client.post(f"/staff/cases/{world.case_a.id}/actions/issue_report", content_type="multipart/form-data",
                       headers=headers or {}, data={"issue_report-version": str(world.case_a.version),
                                                    "issue_report-document_id": "",
                                                    "issue_report-upload": (BytesIO(content), name)})


ROUTES = {"insured.document_upload": ("insured_a", post_insured),
          "coordinator.document_upload": ("c1", post_staff),
          "coordinator.case_perform(issue_report)": ("c1", post_report)}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_attack_file_is_refused_with_a_reason_and_nothing_is_stored(upload_app, login_as, world, route):
    if route.endswith("(issue_report)"):
        at_expert_assigned(world)
    who, post = ROUTES[route]
    client = login_as(getattr(world, who))
    wrong = {}
    for attack, content, name, message in CORPUS:
        before, files = fingerprint(), stored_files(upload_app)
        response = post(client, world, content, name)
        html = response.get_data(as_text=True)
        # a report route names the stricter rule first when the content is not a PDF at all
        reasons = {message, REPORT_PDF} if route.endswith("(issue_report)") and message == MISMATCH else {message}
        if response.status_code != 422 or not any(reason in html for reason in reasons):
            wrong[attack] = f"{response.status_code}, no “{message}”"
        elif fingerprint() != before or stored_files(upload_app) != files:
            wrong[attack] = "something was stored"
    assert wrong == {}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_htmx_uploads_are_refused_the_same_way(upload_app, login_as, world, route):
    if route.endswith("(issue_report)"):
        at_expert_assigned(world)
    who, post = ROUTES[route]
    before, files = fingerprint(), stored_files(upload_app)
    response = post(login_as(getattr(world, who)), world, EXE, "病历.pdf", headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert NOT_ACCEPTED in html and "<html" not in html
    assert fingerprint() == before and stored_files(upload_app) == files


def test_a_report_must_be_a_pdf(upload_app, login_as, world):
    at_expert_assigned(world)
    before, files = fingerprint(), stored_files(upload_app)
    response = post_report(login_as(world.c1), world, JPEG, "报告.jpg")
    assert response.status_code == 422 and REPORT_PDF in response.get_data(as_text=True)
    assert fingerprint() == before and stored_files(upload_app) == files


def test_one_bad_file_in_a_batch_stores_none_of_them(upload_app, login_as, world):
    before, files = fingerprint(), stored_files(upload_app)
    response = login_as(world.insured_a).post(
        f"/me/cases/{world.case_a.id}/documents", content_type="multipart/form-data",
        data={"file_medical_record": [(BytesIO(PDF), "好的病历.pdf"), (BytesIO(PDF), "另一份.pdf")],
              "kind": "ct", "files": [(BytesIO(SVG), "ct.svg")]})
    assert response.status_code == 422 and NOT_ACCEPTED in response.get_data(as_text=True)
    assert fingerprint() == before
    assert stored_files(upload_app) == files


def test_a_request_over_the_size_limit_is_refused_in_chinese(upload_app, login_as, world):
    upload_app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    before, files = fingerprint(), stored_files(upload_app)
    response = post_insured(login_as(world.insured_a), world, PDF + b"0" * (128 * 1024), "大文件.pdf")
    assert response.status_code == 413
    assert "上传的文件太大" in response.get_data(as_text=True)
    assert fingerprint() == before and stored_files(upload_app) == files


@pytest.mark.parametrize(("content", "name", "content_type"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted_files_are_served_as_what_they_are_and_never_as_a_page(upload_app, login_as, world, content, name,
                                                                        content_type):
    from portal.models import Document

    insured = login_as(world.insured_a)
    files = stored_files(upload_app)
    assert post_insured(insured, world, content, name).status_code == 303
    document = db.session.query(Document).filter_by(original_name=name).one()
    assert document.content_type == content_type
    (new_file,) = stored_files(upload_app) - files
    assert new_file.read_bytes() == content and name not in str(new_file)  # random name, never the client's
    for client, url in ((insured, f"/me/cases/{world.case_a.id}/documents/{document.id}"),
                        (login_as(world.c1), f"/staff/cases/{world.case_a.id}/documents/{document.id}"),
                        (login_as(world.auditor), f"/audit/documents/{document.id}")):
        with client.get(url) as response:
            assert response.status_code == 200, url
            assert response.mimetype == content_type
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith(("inline;", "attachment;")) and "filename*=UTF-8''" in disposition
            csp = response.headers["Content-Security-Policy"]
            assert "sandbox" in csp and "default-src 'none'" in csp
            assert response.get_data() == content


def test_a_file_name_with_markup_is_shown_as_text_and_sent_encoded(upload_app, login_as, world):
    name = "<img src=x onerror=alert(1)>.pdf"
    client = login_as(world.insured_a)
    assert post_insured(client, world, PDF, name).status_code == 303
    page = client.get(f"/me/cases/{world.case_a.id}/documents").get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    staff_page = login_as(world.c1).get(f"/staff/cases/{world.case_a.id}").get_data(as_text=True)
    assert "<img src=x" not in staff_page
    from portal.models import Document

    document = db.session.query(Document).filter_by(original_name=name).one()
    with client.get(f"/me/cases/{world.case_a.id}/documents/{document.id}") as response:
        disposition = response.headers["Content-Disposition"]
    assert f'filename="document-{document.id}.pdf"' in disposition  # the plain filename is ours, not theirs
    assert "<" not in disposition and " " not in disposition.split("filename*=")[1]
