"""Authentication views."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ...domain import accounts
from ...domain.errors import DomainError
from ...extensions import db
from ...web.forms import EmptyForm
from ...web.params import safe_next
from . import bp
from .forms import LoginForm, RegisterForm

HOME_BY_ROLE = {
    "insured": "insured.home",
    "coordinator": "coordinator.queue",
    "supervisor": "coordinator.queue",
    "auditor": "auditor.dashboard",
}


def home_url(user) -> str:
    return url_for(HOME_BY_ROLE[user.role])


@bp.get("/")
def index():
    """Send a visitor to their own start page, or to login."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with username and password; repeated failures lock the account for a while."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.username.data, form.password.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
            )
        except DomainError as error:
            form.password.errors.append(error.message)
            return render_template("auth/login.html", form=form), 422
        db.session.commit()
        login_user(user)
        return redirect(safe_next(home_url(user), request.args.get("next")), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Insured self-registration, bound to the policy register (name + ID + policy number)."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register_insured(
                name=form.name.data, id_type=form.id_type.data, id_number=form.id_number.data,
                policy_no=form.policy_no.data, username=form.username.data,
                password=form.password.data, email=form.email.data or None, phone=form.phone.data or None,
            )
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(error.message)
            return render_template("auth/register.html", form=form), 422
        db.session.commit()
        login_user(user)
        flash("注册成功，欢迎使用重疾就医保服务。", "success")
        return redirect(url_for("insured.home"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with CSRF so no link can log a user out)."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.index"), code=303)
    logout_user()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"), code=303)
