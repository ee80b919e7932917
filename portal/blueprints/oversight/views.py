"""The auditor_admin's screens: list, create, reset and (de)activate 史带 accounts."""

from flask import abort, flash, redirect, url_for
from sqlalchemy import select

from ...domain import accounts
from ...extensions import db
from ...models import AUDITOR_ROLES, User
from ...web.account_admin import new_account_page, password_page
from ...web.audit import who
from ...web.forms import EmptyForm
from ...web.params import PER_PAGE, page_number
from ...web.render import render
from ...web.saving import save
from . import bp
from .forms import ROLE_LABELS, AuditorAccountForm


def _account_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role not in AUDITOR_ROLES:
        abort(404)
    return user


@bp.get("/")
def account_list():
    """史带 accounts (auditors and account administrators); auditor_admin only."""
    stmt = select(User).where(User.role.in_(AUDITOR_ROLES)).order_by(User.role, User.username)
    pagination = db.paginate(stmt, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render("oversight/account_list.html", pagination=pagination, roles=ROLE_LABELS, form=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
def account_new():
    """Create a 史带 auditor (or another account administrator); auditor_admin only."""
    return new_account_page(AuditorAccountForm(), roles=ROLE_LABELS, template="oversight/account_form.html",
                            back="oversight.account_list")


@bp.route("/<int:user_id>/password", methods=["GET", "POST"])
def account_password(user_id):
    """Set a new password for a 史带 account; ends its sessions; auditor_admin only."""
    return password_page(_account_or_404(user_id), roles=ROLE_LABELS, template="oversight/account_password.html",
                         back="oversight.account_list")


@bp.post("/<int:user_id>/<any(deactivate, reactivate):change>")
def account_active(user_id, change):
    """Deactivate (never oneself) or reactivate a 史带 account; auditor_admin only."""
    user = _account_or_404(user_id)
    if EmptyForm().validate_on_submit():
        result = save(None, lambda: accounts.set_active(user, change == "reactivate", **who()))
        done = f"已{'恢复' if change == 'reactivate' else '停用'} {user.username}。"
        flash(done if result.ok else result.message, "success" if result.ok else "error")
    return redirect(url_for("oversight.account_list"), code=303)
