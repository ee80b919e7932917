"""Plain helpers for tests (importable as `helpers`: tests/ is on sys.path via its conftest)."""

import functools
import itertools
from contextlib import contextmanager


@contextmanager
def as_database_owner():
    """Tamper behind the application's back the way the database owner could: the append-only triggers
    (portal/db_guards.py) dropped for the block, put back and committed after it."""
    from portal import db_guards
    from portal.extensions import db

    with db_guards.suspended(db.session):
        yield
    db.session.commit()


def valid_id_card(n: int, prefix: str = "1101051980") -> str:
    """A syntactically valid 18-digit 身份证 number with the right GB 11643 check digit."""
    body = f"{prefix}{n % 10**7:07d}"[:17]
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


@functools.cache
def password_hash(password: str) -> str:
    """scrypt costs ~0.2 s a call by design: hash each test password once per run, not once per account."""
    from portal.domain.accounts import hash_password

    return hash_password(password)


def test_config() -> dict:
    """TestConfig as a dict, ready for create_app overrides."""
    from portal.config import TestConfig

    return {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}


#: the smallest well-formed PDF (a catalog with an empty page tree): what every upload test sends
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" \
      b"trailer<</Root 1 0 R>>\n%%EOF\n"
#: a JPEG header and end marker: sniffed as image/jpeg
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def accept_required_documents(case, reviewer, *, now=None) -> list:
    """Upload (as `reviewer`, on the insured's behalf) and accept every required document of the case's line
    that no coordinator has accepted yet — what `materials_complete` waits for. Flushes; the caller commits."""
    import io

    from werkzeug.datastructures import FileStorage

    from portal.domain import documents, review
    from portal.extensions import db

    accepted = []
    for kind in documents.missing_kinds(case, accepted_only=True):
        upload = FileStorage(io.BytesIO(PDF), filename=f"{kind}.pdf", content_type="application/pdf")
        document = review.record_staff_upload(documents.save_upload(case, upload, kind=kind, actor=reviewer),
                                              actor=reviewer, now=now)
        accepted.append(review.review_document(document, decision="accepted", actor=reviewer, now=now))
    db.session.expire(case, ["documents"])  # save_upload adds rows by case_id: reload the collection
    return accepted


class RecordingSms:
    """An SMS provider adapter for tests (SMS_BACKEND="helpers:RecordingSms"): records instead of sending."""

    sent: list = []

    def __init__(self, config):
        self.config = config

    def send(self, phone, text, *, purpose, params):
        self.sent.append((phone, purpose))


def notice_2027(*extra: dict, without: tuple[str, ...] = ()) -> dict:
    """A complete 2027 notice in the holiday-cn layout (invented dates: all seven statutory holidays named,
    元旦 on 2027-01-01, a 春节 make-up day on Sunday 2027-02-14); `extra` entries added, `without` names dropped."""
    off = {"元旦": ["2027-01-01"], "春节": [f"2027-02-{d:02d}" for d in range(6, 13)], "清明节": ["2027-04-05"],
           "劳动节": [f"2027-05-0{d}" for d in range(1, 6)], "端午节": ["2027-06-09"], "中秋节": ["2027-09-15"],
           "国庆节": [f"2027-10-0{d}" for d in range(1, 8)]}
    days = [{"name": name, "date": day, "isOffDay": True} for name, dates in off.items() if name not in without
            for day in dates]
    if "春节" not in without:
        days.append({"name": "春节", "date": "2027-02-14", "isOffDay": False})
    return {"year": 2027, "days": [*days, *extra]}


_case_refs = itertools.count(1)


def case_with_notes(insured, *, actor, notes: int, now):
    """A 门诊绿通 case of `insured` with `notes` note events in its history chain; flushed, not committed."""
    from portal.domain import history
    from portal.extensions import db
    from portal.models import Case

    case = Case(ref=f"ZJ20260615-{next(_case_refs):04d}", policy_id=insured.policy_id, insured_id=insured.id,
                line_code="green_outpatient")
    db.session.add(case)
    db.session.flush()
    for n in range(notes):
        history.append(case, actor=actor, kind="note", action="note", summary=f"第{n + 1}条", now=now)
    return case


def issued_receipt(now) -> dict:
    """Issue and commit an audit checkpoint; its receipt as 史带 keeps it (parsed JSON)."""
    import json

    from portal.domain import checkpoints
    from portal.extensions import db

    checkpoint = checkpoints.issue(reason="test", now=now)
    db.session.commit()
    return json.loads(checkpoints.receipt_json(checkpoint))
