"""The case workspace: one generic action endpoint for every lifecycle step, document review and viewing."""

from flask import abort, flash, url_for
from flask_login import current_user

from ...domain import documents, lifecycle, lines, review, submissions
from ...domain.errors import DomainError
from ...web import action_ui
from ...web.files import audited_document_response
from ...web.render import redirect_after_post, render, wants_fragment
from ...web.saving import Saved, refuse, save, stale
from . import bp
from .action_forms import action_form
from .choices import Choices
from .forms import ReviewForm, StaffUploadForm
from .views_common import get_case_for_write_or_403, get_case_or_404, workspace

PAGE, FRAGMENT = "coordinator/case_detail.html", "coordinator/_case_workspace.html"


def _workspace(case, *, bound=None, status=200, message=None):
    return render(PAGE, FRAGMENT, status=status, **workspace(case, bound=bound, message=message))


def _done(case, message: str):
    """After a save: 303 back to the workspace, or the refreshed workspace for htmx."""
    if not wants_fragment():
        flash(message, "success")
        return redirect_after_post(url_for("coordinator.case_detail", case_id=case.id))
    return render(PAGE, FRAGMENT, trigger="case-updated", **workspace(case, message=message))


def _unversioned(form) -> Saved | None:
    """A write without the version the user saw cannot be checked, so it is refused like a stale one."""
    return stale(form) if form.expected_version() is None else None


def _staff_action_or_404(code: str):
    spec = lines.ACTIONS.get(code)
    if spec is None or not set(spec.roles) & {"coordinator", "supervisor"}:
        abort(404)
    return spec


def _refused(case, spec, form) -> Saved | None:
    """Why the posted action cannot run: no version, a page left open too long (stale before refused), or
    the form's own errors; None when it may run."""
    if refused := _unversioned(form):
        return refused
    if why := lifecycle.refusal(case, spec.code, current_user):
        return stale(form) if form.expected_version() != case.version else refuse(form, why)
    if not form.validate_on_submit():
        return Saved(False, status=422)
    return None


def _perform(case, spec, form) -> None:
    fields = form.domain_args()
    fields.update(_uploads(case, spec.code, form))
    lifecycle.perform(case, spec.code, actor=current_user, expected_version=form.expected_version(), **fields)


@bp.get("/cases/<int:case_id>")
def case_detail(case_id):
    """The case workspace: clocks, next step, line panels, documents, timeline; staff."""
    return _workspace(get_case_or_404(case_id))


@bp.post("/cases/<int:case_id>/actions/<code>")
def case_perform(case_id, code):
    """Run one lifecycle action (its form built from lines.ACTIONS); lifecycle decides who may; staff."""
    case = get_case_for_write_or_403(case_id)
    spec = _staff_action_or_404(code)
    form = action_form(spec, case, Choices(case.policy.product), bind=True)
    result = _refused(case, spec, form) or save(form, lambda: _perform(case, spec, form))
    if not result.ok:
        return _workspace(case, bound=form, status=result.status)
    return _done(case, f"已完成：{spec.label}")


def _uploads(case, code: str, form) -> dict:
    """Store the PDFs attached to an action; the main one becomes its document_id."""
    fields = {}
    kind = action_ui.upload_kind(code, case.line_code)
    if kind and _has_file(form.upload.data):
        fields["document_id"] = documents.save_upload(case, form.upload.data, kind=kind, actor=current_user).id
    extra = action_ui.extra_upload(code, case.line_code)
    if extra and _has_file(form[extra.name].data):
        try:
            documents.save_upload(case, form[extra.name].data, kind=extra.kind, actor=current_user)
        except DomainError as error:
            raise DomainError(error.message, extra.name) from error
    return fields


def _store_staff_upload(case, form) -> None:
    if submissions.is_repeat(form.submission_key.data, actor=current_user, purpose="upload"):
        raise DomainError("该文件已上传，无需重复提交。")
    document = documents.save_upload(case, form.file.data, kind=form.kind.data, actor=current_user)
    review.record_staff_upload(document, actor=current_user, expected_version=form.expected_version())


def _invalid(form, *, file_field=None) -> Saved | None:
    """The form's own errors (422), a missing file (422), then a missing version (409); None when fine."""
    if not form.validate_on_submit():
        return Saved(False, status=422)
    if file_field is not None and not _has_file(file_field.data):
        return refuse(form, "请选择要上传的文件。", field=file_field.name)
    return _unversioned(form)


def _has_file(data) -> bool:
    return bool(getattr(data, "filename", None))


def _document_or_404(case, document_id: int):
    document = next((d for d in case.documents if d.id == document_id), None)
    if document is None:
        abort(404)
    return document


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
def document_view(case_id, document_id):
    """Open one document of the case inline (or ?download=1); every view is in the audit log; staff."""
    case = get_case_or_404(case_id)
    return audited_document_response(_document_or_404(case, document_id))


@bp.post("/cases/<int:case_id>/documents/<int:document_id>/review")
def document_review(case_id, document_id):
    """Accept a document, or reject it with a reason the insured reads; staff."""
    case = get_case_for_write_or_403(case_id)
    document = _document_or_404(case, document_id)
    form = ReviewForm(prefix=f"doc{document.id}-")
    form.document_id = document.id
    result = _invalid(form) or save(form, lambda: review.review_document(
        document, decision=form.decision.data, reason=form.reason.data, actor=current_user,
        expected_version=form.expected_version()))
    if not result.ok:
        return _workspace(case, bound=form, status=result.status)
    return _done(case, f"已{review.DECISIONS[form.decision.data]}：{document.original_name}")


@bp.post("/cases/<int:case_id>/documents")
def document_upload(case_id):
    """Upload a document the insured sent by email or post, on their behalf; staff."""
    case = get_case_for_write_or_403(case_id)
    form = StaffUploadForm(prefix="upload-")
    result = _invalid(form, file_field=form.file) or save(form, lambda: _store_staff_upload(case, form))
    if not result.ok:
        return _workspace(case, bound=form, status=result.status)
    return _done(case, f"已上传：{form.file.data.filename}")
