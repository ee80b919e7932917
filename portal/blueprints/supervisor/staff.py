"""英仕 staff accounts: coordinators and supervisors (supervisors only; 史带 manages its own, SPEC §1)."""

from flask import abort, flash, request, url_for
from sqlalchemy import func, or_, select

from ...domain import accounts
from ...extensions import db
from ...models import OPEN_STATUSES, Case, User, utcnow
from ...web.account_admin import new_account_page, password_page
from ...web.audit import who
from ...web.params import PER_PAGE, page_number, safe_next
from ...web.render import redirect_after_post, render, wants_fragment
from ...web.saving import save
from . import bp
from .forms import STAFF_ROLE_LABELS, StaffAccountForm

ROW = "coordinator/admin/_staff_row.html"


def staff_or_404(user_id: int) -> User:
    """An 英仕 staff account; insured logins and 史带's auditor accounts are not managed here (404)."""
    user = db.session.get(User, user_id)
    if user is None or user.role not in accounts.PROVIDER_ROLES:
        abort(404)
    return user


def open_case_counts(user_ids) -> dict[int, int]:
    """Open cases per assignee, in one query."""
    rows = db.session.execute(select(Case.assignee_id, func.count()).where(
        Case.assignee_id.in_(user_ids), Case.status.in_(OPEN_STATUSES)).group_by(Case.assignee_id))
    return dict(rows.all())


@bp.get("/admin/users")
def staff_list():
    """英仕 staff accounts with their open case counts, filterable; supervisors only."""
    role, active, q = request.args.get("role", ""), request.args.get("active", "1"), request.args.get("q", "").strip()
    stmt = select(User).where(User.role.in_(accounts.PROVIDER_ROLES))
    if role in accounts.PROVIDER_ROLES:
        stmt = stmt.where(User.role == role)
    if active in ("1", "0"):
        stmt = stmt.where(User.active.is_(active == "1"))
    if q:
        stmt = stmt.where(or_(User.username.ilike(f"%{q}%"), User.display_name.ilike(f"%{q}%")))
    pagination = db.paginate(stmt.order_by(User.role, User.username), page=page_number(), per_page=PER_PAGE,
                             error_out=False)
    return render("coordinator/admin/staff_list.html", "coordinator/admin/_staff_results.html",
                  pagination=pagination, role=role, active=active, q=q, roles=STAFF_ROLE_LABELS,
                  open_cases=open_case_counts([u.id for u in pagination.items]), now=utcnow(),
                  next_url=request.full_path.rstrip("?"))


@bp.route("/admin/users/new", methods=["GET", "POST"])
def staff_new():
    """Create a coordinator or supervisor login; supervisors only."""
    return new_account_page(StaffAccountForm(), roles=STAFF_ROLE_LABELS, template="coordinator/admin/staff_form.html",
                            back="supervisor.staff_list")


@bp.post("/admin/users/<int:user_id>/deactivate")
def staff_deactivate(user_id):
    """Deactivate a login (it can no longer sign in; nothing is deleted); never one's own; supervisors only."""
    user = staff_or_404(user_id)
    result = save(None, lambda: accounts.set_active(user, False, **who()))
    if not result.ok:
        return _row_response(user, error=result.message, status=result.status)
    still_open = open_case_counts([user.id]).get(user.id, 0)
    message = f"已停用 {user.username}。" + (f"该账号仍有 {still_open} 个在办案件，请重新分派。" if still_open else "")
    return _row_response(user, message=message)


@bp.post("/admin/users/<int:user_id>/reactivate")
def staff_reactivate(user_id):
    """Let a deactivated login sign in again; supervisors only."""
    user = staff_or_404(user_id)
    accounts.set_active(user, True, **who())
    db.session.commit()
    return _row_response(user, message=f"已恢复 {user.username}。")


def _row_response(user: User, *, message: str = "", error: str = "", status: int = 200):
    """The updated row for htmx; for a plain post a flash and back to the list."""
    next_url = safe_next(url_for("supervisor.staff_list"))
    if wants_fragment():
        return render(ROW, status=status, user=user, roles=STAFF_ROLE_LABELS, next_url=next_url,
                      open_cases=open_case_counts([user.id]), now=utcnow(), row_message=message, row_error=error)
    flash(error or message, "error" if error else "success")
    return redirect_after_post(next_url)


@bp.route("/admin/users/<int:user_id>/password", methods=["GET", "POST"])
def staff_password_reset(user_id):
    """Set a new password for a staff login; ends its sessions; supervisors only."""
    return password_page(staff_or_404(user_id), roles=STAFF_ROLE_LABELS,
                         template="coordinator/admin/staff_password.html", back="supervisor.staff_list")
