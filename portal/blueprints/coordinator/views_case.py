"""The case workspace: one generic action endpoint for every lifecycle step, document review and viewing."""

from flask import abort, flash, request, url_for
from flask_login import current_user

from ...domain import auditlog, documents, lifecycle, lines, review, submissions
from ...domain.errors import DomainError
from ...extensions import db
from ...web.files import document_response
from ...web.render import redirect_after_post, render, wants_fragment
from . import bp
from .action_forms import EXTRA_UPLOADS, action_form, upload_kind
from .choices import Choices
from .forms import ReviewForm, StaffUploadForm
from .views_common import STALE_MESSAGE, get_case_for_write_or_403, get_case_or_404, save, workspace

PAGE, FRAGMENT = "coordinator/case_detail.html", "coordinator/_case_workspace.html"


def _workspace(case, *, bound=None, status=200, message=None):
    return render(PAGE, FRAGMENT, status=status, **workspace(case, bound=bound, message=message))


def _done(case, message: str):
    """After a save: 303 back to the workspace, or the refreshed workspace for htmx."""
    if not wants_fragment():
        flash(message, "success")
        return redirect_after_post(url_for("coordinator.case_detail", case_id=case.id))
    return render(PAGE, FRAGMENT, trigger="case-updated", **workspace(case, message=message))


def _stale_if_unversioned(form) -> bool:
    """A write without the version the user saw cannot be checked, so it is refused like a stale one."""
    if form.expected_version() is None:
        form.form_errors.append(STALE_MESSAGE)
        return True
    return False


@bp.get("/cases/<int:case_id>")
def case_detail(case_id):
    """The case workspace: clocks, next step, line panels, documents, timeline; staff."""
    return _workspace(get_case_or_404(case_id))


@bp.post("/cases/<int:case_id>/actions/<code>")
def case_perform(case_id, code):
    """Run one lifecycle action (its form built from lines.ACTIONS); lifecycle decides who may; staff."""
    case = get_case_for_write_or_403(case_id)
    spec = lines.ACTIONS.get(code)
    if spec is None or not set(spec.roles) & {"coordinator", "supervisor"}:
        abort(404)
    form = action_form(spec, case, Choices(case.policy.product), bind=True)
    if _stale_if_unversioned(form):
        return _workspace(case, bound=form, status=409)
    if spec not in lifecycle.available_actions(case, current_user):
        # a page left open too long: perform() states why (stale version first, then the refusal)
        failure = save(form, lambda: lifecycle.perform(case, spec.code, actor=current_user,
                                                        expected_version=form.expected_version()))
        return _workspace(case, bound=form, status=failure[0] if failure else 409)
    if not form.validate_on_submit():
        return _workspace(case, bound=form, status=422)

    def write():
        fields = form.domain_args()
        fields.update(_uploads(case, spec.code, form))
        lifecycle.perform(case, spec.code, actor=current_user, expected_version=form.expected_version(), **fields)

    failure = save(form, write)
    if failure:
        return _workspace(case, bound=form, status=failure[0])
    return _done(case, f"已完成：{spec.label}")


def _uploads(case, code: str, form) -> dict:
    """Store the PDFs attached to an action; the main one becomes its document_id."""
    fields = {}
    kind = upload_kind(code, case.line_code)
    if kind and _has_file(form.upload.data):
        fields["document_id"] = documents.save_upload(case, form.upload.data, kind=kind, actor=current_user).id
    if extra := EXTRA_UPLOADS.get((code, case.line_code)):
        name, extra_kind, _ = extra
        if _has_file(form[name].data):
            try:
                documents.save_upload(case, form[name].data, kind=extra_kind, actor=current_user)
            except DomainError as error:
                raise DomainError(error.message, name) from error
    return fields


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
    document = _document_or_404(case, document_id)
    auditlog.record("document.view", obj=document)
    db.session.commit()
    return document_response(document, download=request.args.get("download") == "1")


@bp.post("/cases/<int:case_id>/documents/<int:document_id>/review")
def document_review(case_id, document_id):
    """Accept a document, or reject it with a reason the insured reads; staff."""
    case = get_case_for_write_or_403(case_id)
    document = _document_or_404(case, document_id)
    form = ReviewForm(prefix=f"doc{document.id}-")
    form.document_id = document.id
    if not form.validate_on_submit():
        return _workspace(case, bound=form, status=422)
    if _stale_if_unversioned(form):
        return _workspace(case, bound=form, status=409)
    failure = save(form, lambda: review.review_document(
        document, decision=form.decision.data, reason=form.reason.data, actor=current_user,
        expected_version=form.expected_version()))
    if failure:
        return _workspace(case, bound=form, status=failure[0])
    return _done(case, f"已{review.DECISIONS[form.decision.data]}：{document.original_name}")


@bp.post("/cases/<int:case_id>/documents")
def document_upload(case_id):
    """Upload a document the insured sent by email or post, on their behalf; staff."""
    case = get_case_for_write_or_403(case_id)
    form = StaffUploadForm(prefix="upload-")
    if not form.validate_on_submit():
        return _workspace(case, bound=form, status=422)
    if not _has_file(form.file.data):
        form.file.errors = [*form.file.errors, "请选择要上传的文件。"]
        return _workspace(case, bound=form, status=422)
    if _stale_if_unversioned(form):
        return _workspace(case, bound=form, status=409)

    def write():
        if submissions.is_repeat(form.submission_key.data, actor=current_user, purpose="upload"):
            raise DomainError("该文件已上传，无需重复提交。")
        document = documents.save_upload(case, form.file.data, kind=form.kind.data, actor=current_user)
        review.record_staff_upload(document, actor=current_user, expected_version=form.expected_version())

    failure = save(form, write)
    if failure:
        return _workspace(case, bound=form, status=failure[0])
    return _done(case, f"已上传：{form.file.data.filename}")
