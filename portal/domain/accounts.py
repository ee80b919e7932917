"""Accounts: passwords, login, staff accounts (registration of the insured: portal.domain.registration)."""

from datetime import datetime

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from ..extensions import db
from ..models import AUDITOR_ROLES, User, utcnow
from . import auditlog
from .errors import DomainError
from .text import text_problem

MIN_PASSWORD = 10
#: zxcvbn's 0–4 guessability score; below this a password is on (or close to) the common-password lists
MIN_PASSWORD_SCORE = 2
#: who may be created / managed from the 英仕 supervisor's screens; 史带's own roles only by auditor_admin or CLI
PROVIDER_ROLES = ("coordinator", "supervisor")
#: a fixed scrypt hash checked when the username is unknown, so that answer takes as long as a wrong password
_DUMMY_HASH = generate_password_hash("dummy-password-for-timing", method="scrypt")
LOGIN_FAILED = "用户名或密码不正确。"


def hash_password(password: str) -> str:
    """scrypt hash (werkzeug's default)."""
    return generate_password_hash(password, method="scrypt")


def password_problem(password: str, *user_inputs: str) -> str | None:
    """A Chinese message when the password is too short or too easy to guess (zxcvbn's common-password
    lists, keyboard walks, dates, the person's own name and username); None when it will do."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位。"
    if len(password) > 128:
        return "密码不能超过 128 位。"
    if zxcvbn(password, user_inputs=[u for u in user_inputs if u])["score"] < MIN_PASSWORD_SCORE:
        return "密码太常见或太容易猜到，请换一个更长、不含姓名和用户名的密码。"
    return None


def authenticate(username: str, password: str, *, now: datetime | None = None) -> User:
    """Return the user for good credentials; one answer for every failure, in the same time.

    No account lock: a lock lets any stranger lock staff out with five guesses. Guessing is slowed by the
    rate limits on POST /login instead (per address, and per address + account: portal.web.ratelimit)."""
    now = now or utcnow()
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    if not check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "") or user is None:
        raise DomainError(LOGIN_FAILED)
    if not user.active:
        raise DomainError("该账号已停用，请联系管理员。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user


def create_staff(*, username: str, password: str, role: str, display_name: str,
                 email: str | None = None, phone: str | None = None, actor=None, ip: str | None = None) -> User:
    """Create a staff or 史带 account; audited when an actor acts (CLI: none).

    A supervisor (英仕) creates only 英仕 roles; 史带's auditor accounts are created by an auditor_admin or
    the CLI — the provider never controls the accounts of those who oversee it."""
    if role not in ("coordinator", "supervisor", *AUDITOR_ROLES):
        raise DomainError("角色无效。", "role")
    if actor is not None and role not in manageable_roles(actor):
        raise DomainError("您不能创建此角色的账号。", "role")
    if problem := text_problem(display_name, 60) or text_problem(username, 60):
        raise DomainError(problem, "display_name")
    if problem := password_problem(password, username, display_name):
        raise DomainError(problem, "password")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise DomainError("该用户名已被使用。", "username")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name, email=email, phone=phone)
    db.session.add(user)
    db.session.flush()
    if actor is not None:
        auditlog.record("user.create", obj=user, actor=actor, ip=ip,
                        detail={"username": user.username, "role": user.role})
    return user


def manageable_roles(actor) -> tuple[str, ...]:
    """The roles whose accounts `actor` may create, reset and (de)activate."""
    return {"supervisor": PROVIDER_ROLES, "auditor_admin": AUDITOR_ROLES}.get(getattr(actor, "role", None), ())


def may_manage(actor, user: User) -> bool:
    """True when `actor` may manage `user`'s account (英仕 supervisors: 英仕 staff; auditor_admin: 史带)."""
    return user.role in manageable_roles(actor)


def _check_manager(user: User, actor) -> None:
    if actor is not None and not may_manage(actor, user):
        raise DomainError("您无权管理此账号。")


def set_active(user: User, active: bool, *, actor, ip: str | None = None) -> User:
    """Deactivate a login (it can no longer sign in; nothing is deleted) or let it sign in again; a supervisor
    never deactivates themselves. Audited when it changes anything."""
    _check_manager(user, actor)
    if not active and user.id == actor.id:
        raise DomainError("不能停用您自己的账号。")
    if user.active != active:
        user.active = active
        auditlog.record(f"user.{'reactivate' if active else 'deactivate'}", obj=user, actor=actor, ip=ip,
                        detail={"username": user.username})
    return user


def reset_password(user: User, password: str, *, actor, ip: str | None = None) -> User:
    """Set a new password chosen by the account's manager; ends every session of the user; audited."""
    _check_manager(user, actor)
    if problem := password_problem(password, user.username, user.display_name):
        raise DomainError(problem, "password")
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    auditlog.record("user.password_reset", obj=user, actor=actor, ip=ip, detail={"username": user.username})
    return user
