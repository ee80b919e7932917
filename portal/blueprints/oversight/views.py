"""The auditor_admin's screens: list, create, reset and (de)activate 史带 accounts."""

from functools import partial

from flask import abort, flash, redirect, url_for
from sqlalchemy import select

from ...domain import accounts
from ...extensions import db
from ...models import AUDITOR_ROLES, User
from ...web.audit import who
from ...web.forms import EmptyForm
from ...web.params import PER_PAGE, page_number
from ...web.render import render
from ...web.saving import form_status, save
from . import bp
from .forms import AuditorAccountForm, PasswordForm

ROLE_LABELS = {"auditor": "史带审计（只读）", "auditor_admin": "史带账号管理员"}


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
    form = AuditorAccountForm()
    if form.validate_on_submit() and (result := save(form, lambda: _create(form), field="username")).ok:
        flash(f"已创建{ROLE_LABELS[result.value.role]}账号 {result.value.username}。", "success")
        return redirect(url_for("oversight.account_list"), code=303)
    return render("oversight/account_form.html", form=form, status=form_status(form))


def _create(form) -> User:
    return accounts.create_staff(username=form.username.data.strip(), password=form.password.data,
                                 role=form.role.data, display_name=form.display_name.data.strip(),
                                 email=form.email.data or None, **who())


@bp.route("/<int:user_id>/password", methods=["GET", "POST"])
def account_password(user_id):
    """Set a new password for a 史带 account; ends its sessions; auditor_admin only."""
    user = _account_or_404(user_id)
    form = PasswordForm()
    reset = partial(accounts.reset_password, user, form.password.data, **who())
    if form.validate_on_submit() and save(form, reset, field="password").ok:
        flash(f"已重置 {user.username} 的密码，请通过安全渠道告知本人。", "success")
        return redirect(url_for("oversight.account_list"), code=303)
    return render("oversight/account_password.html", form=form, user=user, status=form_status(form))


@bp.post("/<int:user_id>/<any(deactivate, reactivate):change>")
def account_active(user_id, change):
    """Deactivate (never oneself) or reactivate a 史带 account; auditor_admin only."""
    user = _account_or_404(user_id)
    if EmptyForm().validate_on_submit():
        result = save(None, lambda: accounts.set_active(user, change == "reactivate", **who()))
        done = f"已{'恢复' if change == 'reactivate' else '停用'} {user.username}。"
        flash(done if result.ok else result.message, "success" if result.ok else "error")
    return redirect(url_for("oversight.account_list"), code=303)
