"""Accounts: insured self-registration against the register, login throttling, staff accounts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import InsuredPerson, Policy, User, utcnow
from . import auditlog
from .errors import DomainError
from .identity import id_number_problem, normalize_id
from .product_data import HOTLINE

MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    """scrypt hash (werkzeug's default)."""
    return generate_password_hash(password, method="scrypt")


def password_problem(password: str) -> str | None:
    if len(password or "") < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位。"
    return None


def register_insured(*, name: str, id_type: str, id_number: str, policy_no: str, username: str,
                     password: str, email: str | None = None, phone: str | None = None) -> User:
    """Create an insured login, bound only when name + ID + policy number match the register."""
    id_number = normalize_id(id_number)
    if problem := id_number_problem(id_type, id_number):
        raise DomainError(problem, "id_number")
    if problem := password_problem(password):
        raise DomainError(problem, "password")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise DomainError("该用户名已被使用，请换一个。", "username")
    policy = db.session.scalar(select(Policy).where(Policy.policy_no == policy_no.strip()))
    if policy is None:
        raise DomainError("没有找到该保单号，请核对保单上的号码。", "policy_no")
    person = db.session.scalar(
        select(InsuredPerson).where(
            InsuredPerson.policy_id == policy.id,
            InsuredPerson.id_type == id_type,
            InsuredPerson.id_number == id_number,
        )
    )
    if person is None:
        raise DomainError("该证件号码不是此保单的被保险人。", "id_number")
    if person.name != name.strip():
        raise DomainError("姓名与保单登记的被保险人姓名不一致。", "name")
    if db.session.scalar(select(User.id).where(User.insured_id == person.id)):
        raise DomainError(f"该被保险人已注册账号，请直接登录或致电 {HOTLINE} 找回。", "id_number")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role="insured",
        display_name=person.name,
        insured_id=person.id,
        email=email or person.email,
        phone=phone or person.phone,
    )
    if email:
        person.email = email
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class Login:
    """The outcome of a login attempt: the user, or why not (the failure count is written either way)."""

    user: User | None
    refusal: str | None = None


def authenticate(username: str, password: str, *, max_failures: int, lock_minutes: int,
                 now: datetime | None = None) -> Login:
    """Check the credentials; count failures and lock the account after too many. The caller commits
    whatever the outcome, so a failed attempt is counted."""
    now = now or utcnow()
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is not None and user.locked_until and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return Login(None, f"登录失败次数过多，账号已暂时锁定，请 {minutes} 分钟后再试。")
    if user is None or not check_password_hash(user.password_hash, password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = now + timedelta(minutes=lock_minutes)
                user.failed_logins = 0
                db.session.flush()
                return Login(None, f"登录失败次数过多，账号已锁定 {lock_minutes} 分钟。")
            db.session.flush()
        return Login(None, "用户名或密码不正确。")
    if not user.active:
        return Login(None, "该账号已停用，请联系管理员。")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.flush()
    return Login(user)


def create_staff(*, username: str, password: str, role: str, display_name: str,
                 email: str | None = None, phone: str | None = None, actor=None, ip: str | None = None) -> User:
    """Create a coordinator, supervisor or auditor account (supervisor screen or CLI); audited when an actor acts."""
    if role not in ("coordinator", "supervisor", "auditor"):
        raise DomainError("角色无效。", "role")
    if problem := password_problem(password):
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


def set_active(user: User, active: bool, *, actor, ip: str | None = None) -> User:
    """Deactivate a login (it can no longer sign in; nothing is deleted) or let it sign in again; a supervisor
    never deactivates themselves. Audited when it changes anything."""
    if not active and user.id == actor.id:
        raise DomainError("不能停用您自己的账号。")
    if user.active != active:
        user.active = active
        auditlog.record(f"user.{'reactivate' if active else 'deactivate'}", obj=user, actor=actor, ip=ip,
                        detail={"username": user.username})
    return user


def reset_password(user: User, password: str, *, actor, ip: str | None = None) -> User:
    """Set a new password chosen by a supervisor and lift any lock-out; audited."""
    if problem := password_problem(password):
        raise DomainError(problem, "password")
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    auditlog.record("user.password_reset", obj=user, actor=actor, ip=ip, detail={"username": user.username})
    return user
