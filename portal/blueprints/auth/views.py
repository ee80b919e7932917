"""Authentication views."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ...domain import accounts
from ...extensions import db
from ...web.forms import EmptyForm
from ...web.saving import form_status, refuse, save
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
    if form.validate_on_submit() and (user := _authenticate(form)):
        login_user(user)
        return redirect(_same_site(request.args.get("next", ""), home_url(user)), code=303)
    return render_template("auth/login.html", form=form), form_status(form)


def _authenticate(form):
    """The user for good credentials, else None with the reason at the password; the attempt is committed
    either way (failures count towards the lock-out)."""
    login = accounts.authenticate(form.username.data, form.password.data,
                                  max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                                  lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    db.session.commit()
    if login.refusal:
        refuse(form, login.refusal, field="password")
    return login.user


def _same_site(target: str, default: str) -> str:
    """Only same-site paths: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else default


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Insured self-registration, bound to the policy register (name + ID + policy number)."""
    form = RegisterForm()
    if form.validate_on_submit() and (result := save(form, lambda: _register(form), field="name")).ok:
        login_user(result.value)
        flash("注册成功，欢迎使用重疾就医保服务。", "success")
        return redirect(url_for("insured.home"), code=303)
    return render_template("auth/register.html", form=form), form_status(form)


def _register(form):
    return accounts.register_insured(
        name=form.name.data, id_type=form.id_type.data, id_number=form.id_number.data,
        policy_no=form.policy_no.data, username=form.username.data,
        password=form.password.data, email=form.email.data or None, phone=form.phone.data or None)


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with CSRF so no link can log a user out)."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.index"), code=303)
    logout_user()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"), code=303)
