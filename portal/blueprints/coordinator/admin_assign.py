"""Assigning and reassigning cases (supervisors; SPEC §1)."""

from flask import flash, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ... import calendar
from ...domain import lifecycle, sla
from ...domain.errors import DomainError, StaleCaseError
from ...extensions import db
from ...models import OPEN_STATUSES, STATUSES, Case, ServiceLine
from ...web.params import PER_PAGE, id_arg, page_number, safe_next
from ...web.render import redirect_after_post, render, wants_fragment
from . import bp
from .admin import supervisor_required
from .admin_forms import active_assignees, assign_form_for
from .views_common import get_case_or_404

FORM = "coordinator/admin/_assign_form.html"


def line_names() -> dict[str, str]:
    """Service-line code → short Chinese name, from product data."""
    return dict(db.session.execute(select(ServiceLine.code, ServiceLine.short_name)).all())


@bp.get("/admin/assignments")
@supervisor_required
def assignment_list():
    """Open cases to assign: unassigned ones by default, or one person's, or all; supervisors only."""
    show = request.args.get("assignee", "unassigned")
    stmt = (select(Case).where(Case.status.in_(OPEN_STATUSES))
            .options(joinedload(Case.insured), joinedload(Case.assignee), selectinload(Case.clocks)))
    if show == "unassigned":
        stmt = stmt.where(Case.assignee_id.is_(None))
    elif show != "all":
        show = str(id_arg("assignee"))  # junk or an impossible id: 404
        stmt = stmt.where(Case.assignee_id == int(show))
    pagination = db.paginate(stmt.order_by(Case.submitted_at, Case.id), page=page_number(), per_page=PER_PAGE,
                             error_out=False)
    return render("coordinator/admin/assignment_list.html", "coordinator/admin/_assignment_results.html",
                  pagination=pagination, show=show, assignees=active_assignees(), line_names=line_names(),
                  statuses=STATUSES, current_clock=sla.current_clock, due_date=sla.effective_due_date,
                  today=calendar.business_today(), next_url=request.full_path.rstrip("?"))


@bp.post("/cases/<int:case_id>/assign")
@supervisor_required
def case_assign(case_id):
    """Assign or reassign a case to an active coordinator or supervisor; supervisors only."""
    case = get_case_or_404(case_id)
    assignees = active_assignees()
    form = assign_form_for(case, assignees)
    next_url = safe_next(url_for("coordinator.assignment_list"))
    if not form.validate_on_submit():
        # a missing or garbled version means the page the supervisor saw cannot be checked
        error = form.assignee_id.errors[0] if form.assignee_id.errors else "页面已过期，请刷新后重试。"
        return _form_response(case, assignees, next_url, assign_error=error, status=422)
    try:
        lifecycle.perform(case, "assign", actor=current_user, assignee_id=form.assignee_id.data,
                          expected_version=form.version.data)
        db.session.commit()
    except (StaleCaseError, StaleDataError):
        db.session.rollback()
        return _form_response(case, assignees, next_url, assign_error=StaleCaseError().message, status=409)
    except DomainError as error:
        db.session.rollback()
        return _form_response(case, assignees, next_url, assign_error=error.message, status=422)
    if wants_fragment():
        return _form_response(case, assignees, next_url, assigned=True, trigger="case-updated")
    flash(f"已将案件 {case.ref} 分派给{case.assignee.display_name}。", "success")
    return redirect_after_post(next_url)


def _form_response(case, assignees, next_url, *, status=200, trigger=None, **ctx):
    """The assign form alone for htmx; a small page around it otherwise (errors without JavaScript)."""
    return render("coordinator/admin/case_assign.html", FORM, status=status, trigger=trigger, case=case,
                  assignees=assignees, next_url=next_url, **ctx)
