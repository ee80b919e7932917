"""Authentication views: login, two-step registration with a one-time code, logout."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from ...domain import accounts, registration
from ...domain.errors import DomainError
from ...extensions import db
from ...web import sessions
from ...web.forms import EmptyForm
from ...web.params import safe_next
from ...web.ratelimit import address_and_account, attempted, configured, count_attempt, failed, limiter
from ...web.saving import form_status, refuse, save
from . import bp
from .forms import CodeForm, LoginForm, RegisterForm

HOME_BY_ROLE = {
    "insured": "insured.home",
    "coordinator": "coordinator.queue",
    "supervisor": "coordinator.queue",
    "auditor": "auditor.dashboard",
    "auditor_admin": "oversight.account_list",
}
#: the session key holding the pending registration's token
PENDING = "register_token"


def home_url(user) -> str:
    return url_for(HOME_BY_ROLE[user.role])


@bp.get("/")
def index():
    """Send a visitor to their own start page, or to login."""
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(configured("RATELIMIT_LOGIN_ADDRESS"), methods=["POST"], deduct_when=failed, scope="login-address")
@limiter.limit(configured("RATELIMIT_LOGIN_ACCOUNT"), methods=["POST"], deduct_when=failed,
               key_func=address_and_account, scope="login-account")
def login():
    """Log in with username and password; one answer for every failure; failures are rate-limited."""
    form = LoginForm()
    if form.validate_on_submit() and (result := save(form, lambda: _sign_in(form), field="password")).ok:
        return redirect(safe_next(home_url(result.value), request.args.get("next")), code=303)
    return render_template("auth/login.html", form=form), form_status(form)


def _sign_in(form):
    """The user for good credentials, with a new server-side session (DomainError: one answer for all)."""
    user = accounts.authenticate(form.username.data, form.password.data)
    sessions.start(user)
    return user


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(configured("RATELIMIT_REGISTER"), methods=["POST"], deduct_when=attempted, scope="register")
def register():
    """Step one: name + ID + policy number; whatever matches, the same answer and the code page."""
    form = RegisterForm()
    if form.validate_on_submit():
        count_attempt()
        session[PENDING] = registration.request_code(
            name=form.name.data, id_type=form.id_type.data, id_number=form.id_number.data,
            policy_no=form.policy_no.data, ip=request.remote_addr)
        db.session.commit()
        return redirect(url_for("auth.register_code"), code=303)
    return render_template("auth/register.html", form=form), form_status(form)


@bp.route("/register/code", methods=["GET", "POST"])
@limiter.limit(configured("RATELIMIT_CODE"), methods=["POST"], deduct_when=attempted, scope="register-code")
def register_code():
    """Step two: the code from the SMS, then username and password; the account exists only now."""
    if PENDING not in session:
        return redirect(url_for("auth.register"))
    form = CodeForm()
    if form.validate_on_submit() and (user := _complete(form)):
        sessions.start(user)
        db.session.commit()
        flash("注册成功，欢迎使用重疾就医保服务。", "success")
        return redirect(url_for("insured.home"), code=303)
    return _code_page(form, form_status(form))


def _complete(form):
    """The new account; None with the refusal at its field — committed all the same: a wrong code counts,
    and the attempt is in the audit log."""
    count_attempt()
    try:
        return registration.complete(session.get(PENDING), code=form.code.data, username=form.username.data,
                                     password=form.password.data, email=form.email.data, phone=form.phone.data,
                                     ip=request.remote_addr)
    except DomainError as error:
        db.session.commit()
        refuse(form, error.message, field=error.field or "code")
        return None


@bp.post("/register/resend")
@limiter.limit(configured("RATELIMIT_RESEND"), deduct_when=attempted, scope="register-resend")
def register_resend():
    """A new code for the pending registration (the same answer whether there is one or not)."""
    if EmptyForm().validate_on_submit() and PENDING in session:
        count_attempt()
        session[PENDING] = registration.resend(session.get(PENDING), ip=request.remote_addr)
        db.session.commit()
        flash("如信息与保单登记一致，新的验证码已发送，请查看短信。", "info")
    return redirect(url_for("auth.register_code"), code=303)


def _code_page(form, status: int):
    return render_template("auth/register_code.html", form=form, resend_form=EmptyForm(),
                           answer=registration.UNIFORM_ANSWER), status


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with CSRF so no link can log a user out); ends every session of this user."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("auth.index"), code=303)
    sessions.end_all(current_user._get_current_object())
    db.session.commit()
    flash("您已安全退出。", "info")
    return redirect(url_for("auth.login"), code=303)
