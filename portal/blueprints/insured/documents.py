"""上传资料: the checklist of what the line still needs, uploads tagged by kind, and serving files."""

from flask import flash, redirect, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...domain import documents, submissions, waiting
from ...domain.errors import DomainError
from ...domain.product_data import DOCUMENT_KINDS, REPORT_KINDS
from ...models import Case
from ...web.files import audited_document_response
from ...web.render import render, wants_fragment
from ...web.saving import refuse, save
from . import bp
from .forms import UploadForm, upload_rule
from .queries import get_case_or_404, get_document_or_404, open_requests

REPEAT = "这些文件已经上传过了，无需重复提交。"
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
    # one bad file refuses the whole batch (nothing half-written); a stale save is shown at the files too
    result = refuse(form, CLOSED, status=409, field="files") if not case.is_open else \
        save(form, lambda: _store(case, form), field="files")
    if not result.ok:
        return _page(case, form, status=result.status)
    saved = result.value
    if wants_fragment():
        return _page(case, UploadForm(formdata=None), saved=saved, repeat=not saved, trigger="case-updated")
    flash(f"已上传 {len(saved)} 个文件，我们会尽快审核。" if saved else REPEAT, "success")
    return redirect(url_for("insured.document_list", case_id=case.id), code=303)


def _store(case, form) -> list:
    """Store every chosen file with its kind; a refusal names the input of the file it refused. The same
    submission sent twice (a double tap on a slow network) stores nothing the second time."""
    if submissions.is_repeat(form.submission_key.data, actor=current_user, purpose="upload"):
        return []
    saved = []
    for name, kind, storage in form.uploads():
        try:
            saved.append(documents.save_upload(case, storage, kind=kind, actor=current_user))
        except DomainError as error:
            raise DomainError(error.message, name) from error
    documents.record_upload(case, saved, actor=current_user)
    return saved


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
def document_view(case_id, document_id):
    """One file of the case or a delivered report, every read recorded in the audit log; its insured only."""
    case = get_case_or_404(case_id)
    document = get_document_or_404(case, document_id)
    return audited_document_response(document, download=document.kind in REPORT_KINDS)


def _page(case, form, *, status=200, saved=(), repeat=False, trigger=None):
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
                  saved=saved, repeat_note=REPEAT if repeat else None, upload_rule=upload_rule(),
                  kind_label=documents.kind_label)
