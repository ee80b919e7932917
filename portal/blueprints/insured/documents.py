"""上传资料: the checklist of what the line still needs, uploads tagged by kind, and serving files."""

from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...domain import auditlog, documents, submissions, waiting
from ...domain.errors import DomainError
from ...domain.product_data import DOCUMENT_KINDS, REPORT_KINDS
from ...extensions import db
from ...models import Case
from ...web.files import document_response
from ...web.render import redirect_after_post, render, wants_fragment
from . import bp
from .forms import UploadForm, upload_rule
from .queries import get_case_or_404, get_document_or_404, open_requests

CLOSED = "该申请已结束，无需再上传资料。"


@bp.get("/cases/<int:case_id>/documents")
def document_list(case_id):
    """上传资料: checklist, the coordinator's requests, the upload form and the files so far; its insured only."""
    case = get_case_or_404(case_id, selectinload(Case.documents))
    return _page(case, UploadForm())


@bp.post("/cases/<int:case_id>/documents")
def document_upload(case_id):
    """Store the chosen files, each with its kind (all or none); the case's insured only, while it is open."""
    case = get_case_or_404(case_id, selectinload(Case.documents))
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(case, form, status=422)
    if not case.is_open:
        form.files.errors.append(CLOSED)
        return _page(case, form, status=409)
    saved, current = [], "files"
    try:
        if submissions.is_repeat(form.submission_key.data, actor=current_user, purpose="upload"):
            db.session.rollback()  # the same files, sent twice (a double tap): stored once
            flash("这些文件已经上传过了，无需重复提交。", "info")
            return redirect_after_post(url_for("insured.document_list", case_id=case.id))
        for name, kind, storage in form.uploads():
            current = name  # where a refusal of this file is shown
            saved.append(documents.save_upload(case, storage, kind=kind, actor=current_user))
        documents.record_upload(case, saved, actor=current_user)
    except DomainError as error:
        db.session.rollback()  # one bad file refuses the whole batch: nothing half-written
        form[current].errors.append(error.message)
        return _page(case, form, status=422)
    db.session.commit()
    if wants_fragment():
        return _page(case, UploadForm(formdata=None), saved=saved, trigger="case-updated")
    flash(f"已上传 {len(saved)} 个文件，我们会尽快审核。", "success")
    return redirect(url_for("insured.document_list", case_id=case.id), code=303)


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
def document_view(case_id, document_id):
    """One file of the case or a delivered report, every read recorded in the audit log; its insured only."""
    case = get_case_or_404(case_id)
    document = get_document_or_404(case, document_id)
    auditlog.record("document.view", obj=document)
    db.session.commit()
    download = request.args.get("download") == "1" or document.kind in REPORT_KINDS
    return document_response(document, download=download)


def _page(case, form, *, status=200, saved=(), trigger=None):
    uploaded = [d for d in documents.active_documents(case) if d.kind not in REPORT_KINDS]
    requests = open_requests(case)
    requested = [kind for request_ in requests for kind in request_.kinds if kind in DOCUMENT_KINDS]
    # the checklist follows what was requested too (a CT report asked for is listed and counted)
    missing = list(dict.fromkeys([*documents.missing_kinds(case), *waiting.still_wanted(case, requests)]))
    line = case.policy.product.line(case.line_code)
    return render("insured/document_list.html", "insured/_documents_panel.html", status=status, trigger=trigger,
                  case=case, line=line, form=form, uploaded=uploaded, missing=missing, requests=requests,
                  rows=list(dict.fromkeys([*missing, *requested])),
                  required=list(dict.fromkeys([*(line.required_documents if line else []), *requested])),
                  saved=saved, upload_rule=upload_rule(), kind_label=documents.kind_label)
