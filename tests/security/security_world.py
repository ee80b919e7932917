"""The world the security tests run against (imported by name; this module holds no tests).

Two insured people A and B, each with a case, an uploaded document and a delivered report; coordinator
C1 holds A's case and C2 holds B's; a spare coordinator C3 for the account screens; a supervisor, an
auditor, directory rows, alerts and a weekly report. Names, ID numbers and references are distinctive,
so a test can prove that a refused answer never carries the other person's data.
"""

from datetime import timedelta
from io import BytesIO
from types import SimpleNamespace

from helpers import JPEG, PDF, password_hash, valid_id_card
from sqlalchemy import func, select, text
from werkzeug.datastructures import FileStorage

from portal import calendar
from portal.domain import documents, intake, lifecycle, reports
from portal.extensions import db
from portal.models import Alert, DataRequest, Escort, Expert, Hospital, InsurerDelivery, User, utcnow

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PASSWORD = "Secur1ty-pass"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32

PEOPLE = {"a": ("安雅琴", valid_id_card(4242, "3101151975")), "b": ("白若溪", valid_id_card(5353, "4401061982"))}


def file_storage(content: bytes, name: str, content_type: str = "application/octet-stream") -> FileStorage:
    return FileStorage(BytesIO(content), filename=name, content_type=content_type)


def make_login(role: str, username: str, display_name: str, insured=None) -> User:
    user = User(username=username, password_hash=password_hash(PASSWORD), role=role, display_name=display_name,
                insured_id=getattr(insured, "id", None))
    db.session.add(user)
    db.session.commit()
    return user


def build_world(make_policy, product) -> SimpleNamespace:
    """Every row the matrix, CSRF and header tests address by id; committed."""
    today = calendar.business_today()
    w = SimpleNamespace(today=today)
    w.hospital = Hospital(name="复旦大学附属中山医院", city="上海", address="徐汇区枫林路180号", level="三甲")
    w.escort = Escort(name="周丽", phone="13800010001", city="上海")
    w.expert = Expert(name="刘振华", title="主任医师", specialty="肿瘤内科", city="北京", country="中国",
                      hospital_grade="三甲")
    db.session.add_all([w.hospital, w.escort, w.expert])
    db.session.commit()

    w.supervisor = make_login("supervisor", "sec_super", "何主管")
    w.c1 = make_login("coordinator", "sec_c1", "陈一")
    w.c2 = make_login("coordinator", "sec_c2", "程二")
    w.c3 = make_login("coordinator", "sec_c3", "曹三")
    w.auditor = make_login("auditor", "sec_auditor", "史审计")
    w.auditor_admin = make_login("auditor_admin", "sec_auditor_admin", "史管理")
    start = today - timedelta(days=200)
    for key, coordinator in (("a", w.c1), ("b", w.c2)):
        name, id_number = PEOPLE[key]
        person = make_policy(name=name, id_number=id_number, start=start, end=start + timedelta(days=364),
                             policy_no=f"SEC-{key.upper()}-0001")
        user = make_login("insured", f"sec_insured_{key}", name, insured=person)
        case = intake.submit_request(insured=person, line_code="domestic_second_opinion", actor=user, data={
            "illness": "恶性肿瘤——重度", "first_diagnosis_date": today - timedelta(days=30), "diagnosis": "肺腺癌"})
        lifecycle.perform(case, "assign", actor=w.supervisor, assignee_id=coordinator.id)
        document = documents.save_upload(case, file_storage(JPEG, f"{name}的身份证.jpg"), kind="id_document",
                                         actor=user)
        report = documents.save_upload(case, file_storage(PDF, f"{name}的报告.pdf"), kind="report",
                                       actor=coordinator)
        report.delivered_at = utcnow()
        db.session.commit()
        setattr(w, f"insured_{key}", user)
        setattr(w, f"person_{key}", person)
        setattr(w, f"case_{key}", case)
        setattr(w, f"doc_{key}", document)
        setattr(w, f"report_{key}", report)

    w.alert_c1 = Alert(key="sec:c1", kind="due_soon", case_id=w.case_a.id, recipient_id=w.c1.id, message="即将超时")
    w.alert_c2 = Alert(key="sec:c2", kind="due_soon", case_id=w.case_b.id, recipient_id=w.c2.id, message="即将超时")
    w.alert_all = Alert(key="sec:all", kind="breached", case_id=w.case_b.id, recipient_id=None, message="已超时")
    db.session.add_all([w.alert_c1, w.alert_c2, w.alert_all])
    w.weekly = reports.build_weekly(built_by="cli")
    w.delivery = db.session.scalars(select(InsurerDelivery)).one()  # the weekly report, sent to 史带
    w.data_request = DataRequest(insured_id=w.person_a.id, kind="deletion", channel="portal", status="open")
    db.session.add(w.data_request)
    db.session.commit()
    return w


def secrets_of(world, key: str) -> list[str]:
    """What must never reach anyone refused access: the person's name, ID number, policy, case and files."""
    person, case = getattr(world, f"person_{key}"), getattr(world, f"case_{key}")
    return [person.name, person.id_number, person.policy.policy_no, case.ref,
            getattr(world, f"doc_{key}").original_name, getattr(world, f"report_{key}").original_name]


def fingerprint() -> dict[str, int]:
    """Row counts of every table plus the columns that updates touch: any write shows up here.

    The audit log is left out: refused auditor writes are *supposed* to add a row there.
    """
    tables = [t.name for t in db.metadata.sorted_tables if t.name != "audit_log"]
    parts = [f'(SELECT count(*) FROM "{name}") AS "{name}"' for name in tables]
    parts += [
        '(SELECT coalesce(sum(version), 0) FROM "case") AS case_versions',
        '(SELECT count(*) FROM "user" WHERE active) AS active_users',
        '(SELECT count(*) FROM notification WHERE read_at IS NULL) AS unread_notes',
        '(SELECT count(*) FROM alert WHERE read_at IS NULL) AS unread_alerts',
        '(SELECT count(*) FROM hospital WHERE active) AS active_hospitals',
        "(SELECT count(*) FROM document WHERE review_status <> 'pending') AS reviewed_documents",
        "(SELECT count(*) FROM insurer_delivery WHERE read_at IS NULL) AS unread_deliveries",
    ]
    db.session.rollback()  # read what the requests committed, not a stale snapshot
    row = db.session.execute(text("SELECT " + ", ".join(parts))).mappings().one()
    return dict(row)


def audit_count(action: str) -> int:
    from portal.models import AuditLog

    return db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))
