"""Insured self-registration with proof of possession (issue 13 item 1).

Name, ID number and policy number are things others may know; the phone on the insurer's register is what
the insured holds. Step one matches the register and sends a 6-digit code to that phone (and e-mail, when
the register has one); the account exists only once the code is entered. Whatever step one finds, the
visitor sees the same answer (UNIFORM_ANSWER) and gets a token, so the page cannot be used to learn whether
a policy, an ID number or a name is on the register. Every attempt is in the audit log, with the ID number
masked. The register's data is never changed: contact details the insured adds stay on their account.
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import outbox
from ..extensions import db
from ..models import ID_TYPES, InsuredPerson, Policy, RegistrationCode, User, utcnow
from . import auditlog
from .accounts import hash_password, password_problem
from .errors import DomainError
from .identity import mask_id, normalize_id
from .product_data import HOTLINE
from .text import text_problem

CODE_MINUTES = 10
MAX_ATTEMPTS = 5
#: codes sent to one insured person per hour, whoever asks (a stranger cannot flood their phone)
MAX_CODES_PER_HOUR = 5
UNIFORM_ANSWER = (f"如您填写的信息与保单登记一致，验证码已通过短信发送至保单登记的手机号，{CODE_MINUTES} 分钟内有效。"
                  f"如未收到（例如投保时未登记手机号），请致电 {HOTLINE}，英仕客服电话核实身份后为您开通。")
CODE_REFUSED = "验证码不正确或已失效，请核对短信，或重新获取验证码。"
_DUMMY = generate_password_hash("000000", method="scrypt")


def _find(name: str, id_type: str, id_number: str, policy_no: str) -> tuple[str, InsuredPerson | None]:
    """(outcome, person): matched | no_policy | not_insured | name_mismatch | already_registered | invalid."""
    if id_type not in ID_TYPES or any(text_problem(v, 60) for v in (name, id_number, policy_no)):
        return "invalid", None
    policy = db.session.scalar(select(Policy).where(Policy.policy_no == policy_no.strip()))
    if policy is None:
        return "no_policy", None
    person = db.session.scalar(select(InsuredPerson).where(
        InsuredPerson.policy_id == policy.id, InsuredPerson.id_type == id_type,
        InsuredPerson.id_number == normalize_id(id_number)))
    if person is None:
        return "not_insured", None
    if person.name != name.strip():
        return "name_mismatch", None
    if db.session.scalar(select(User.id).where(User.insured_id == person.id)):
        return "already_registered", person
    return "matched", person


def request_code(*, name: str, id_type: str, id_number: str, policy_no: str, ip: str | None,
                 now: datetime | None = None) -> str:
    """Step one: match the register and, if it matches, send a code. Returns a token in every case
    (the caller keeps it in the session and shows UNIFORM_ANSWER); the caller commits."""
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    outcome, person = _find(name or "", id_type or "", id_number or "", policy_no or "")
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = generate_password_hash(code, method="scrypt")  # on every path: the same time for every answer
    if outcome == "matched" and not person.phone:
        outcome = "no_phone"
    elif outcome == "matched" and _recent_codes(person, now) >= MAX_CODES_PER_HOUR:
        outcome = "too_many_codes"
    elif outcome == "matched":
        db.session.add(RegistrationCode(token=token, insured_id=person.id, code_hash=code_hash, ip=ip,
                                        expires_at=now + timedelta(minutes=CODE_MINUTES), created_at=now))
        _send(person, code)
    auditlog.record("register.request", obj=person, ip=ip, detail={
        "outcome": outcome, "policy_no": (policy_no or "").strip()[:40], "id_type": id_type,
        "id_number": mask_id(normalize_id(id_number or "")[:40], id_type)})
    return token


def resend(token: str | None, *, ip: str | None, now: datetime | None = None) -> str:
    """A new code for the same pending registration (the old one dies); a new token, whatever the old was."""
    now = now or utcnow()
    row = _pending(token, now) if token else None
    new_token = secrets.token_urlsafe(24)
    code = f"{secrets.randbelow(10**6):06d}"
    code_hash = generate_password_hash(code, method="scrypt")
    outcome = "no_pending"
    if row is not None:
        person = db.session.get(InsuredPerson, row.insured_id)
        row.expires_at = now  # the old code dies
        if _recent_codes(person, now) >= MAX_CODES_PER_HOUR:
            outcome = "too_many_codes"
        else:
            outcome = "sent"
            db.session.add(RegistrationCode(token=new_token, insured_id=person.id, code_hash=code_hash, ip=ip,
                                            expires_at=now + timedelta(minutes=CODE_MINUTES), created_at=now))
            _send(person, code)
    auditlog.record("register.resend", ip=ip, detail={"outcome": outcome})
    return new_token


def complete(token: str | None, *, code: str, username: str, password: str, email: str | None,
             phone: str | None, ip: str | None = None, now: datetime | None = None) -> User:
    """Step two: the code proves the phone; create the login. DomainError names the field at fault.

    A wrong code counts against the code (MAX_ATTEMPTS): the caller commits even when this raises."""
    now = now or utcnow()
    row = _pending(token, now) if token else None
    if row is None or row.attempts >= MAX_ATTEMPTS:
        check_password_hash(_DUMMY, code or "")
        auditlog.record("register.verify", ip=ip, detail={"outcome": "no_valid_code"})
        raise DomainError(CODE_REFUSED, "code")
    if not check_password_hash(row.code_hash, (code or "").strip()):
        row.attempts += 1
        auditlog.record("register.verify", obj=row, ip=ip, detail={"outcome": "wrong_code", "attempts": row.attempts})
        raise DomainError(CODE_REFUSED, "code")
    person = db.session.get(InsuredPerson, row.insured_id)
    username = (username or "").strip()
    if problem := text_problem(username, 60):
        raise DomainError(f"用户名{problem}", "username")
    if db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise DomainError("该用户名已被使用，请换一个。", "username")
    if problem := password_problem(password, username, person.name):
        raise DomainError(problem, "password")
    if db.session.scalar(select(User.id).where(User.insured_id == person.id)):
        raise DomainError(f"该被保险人已注册账号，请直接登录或致电 {HOTLINE} 找回。", "code")
    row.used_at = now
    user = User(username=username, password_hash=hash_password(password), role="insured", display_name=person.name,
                insured_id=person.id, email=(email or "").strip() or None, phone=(phone or "").strip() or None)
    db.session.add(user)
    db.session.flush()
    auditlog.record("register.complete", obj=user, actor=user, ip=ip, detail={"username": username})
    return user


def _pending(token: str, now: datetime) -> RegistrationCode | None:
    row = db.session.scalar(select(RegistrationCode).where(RegistrationCode.token == token))
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def _recent_codes(person: InsuredPerson, now: datetime) -> int:
    return db.session.scalar(select(func.count(RegistrationCode.id)).where(
        RegistrationCode.insured_id == person.id, RegistrationCode.created_at > now - timedelta(hours=1)))


def _send(person: InsuredPerson, code: str) -> None:
    text = (f"【重疾就医保】您的注册验证码为 {code}，{CODE_MINUTES} 分钟内有效。"
            "请勿告诉任何人，英仕工作人员不会向您索要验证码。")
    outbox.enqueue("sms", person.phone, text, purpose="registration_code", params={"code": code})
    if person.email:
        outbox.enqueue("email", person.email, text, subject="【重疾就医保】注册验证码", purpose="registration_code")

