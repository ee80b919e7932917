"""A living demo (issue 14 item 10): a few weeks of cases on every line in every state — some paused, some
breached, some with promises into next year (暂定), reports delivered to 史带, ratings and a weekly report —
all made through intake, the lifecycle, documents, ratings, the sweep and the report builder, never by raw
inserts. Created once: a second `demo-data` finds the first demo policy's cases and adds nothing."""

import io
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .. import calendar
from ..extensions import db
from ..models import Case, Document, Expert, Hospital, InsuredPerson, Policy, Product, User, WeeklyReport
from . import consent, documents, intake, lifecycle, ratings, reports, review, sweep, transfers
from .accounts import hash_password

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
#: (policy number suffix, name, ID number) of the demo people whose cases fill the queue and the dashboard
PEOPLE = [
    ("01", "孙立新", "110101196505120018"), ("02", "周美华", "310101197008230027"),
    ("03", "吴国栋", "440101195911300031"), ("04", "郑秀兰", "320102196802140047"),
    ("05", "冯建军", "330102197203090054"), ("06", "陈丽娟", "510104196912250061"),
    ("07", "褚志强", "420102196406180073"), ("08", "卫红梅", "610102197110050088"),
    ("09", "蒋文斌", "120101196303270094"), ("10", "沈玉珍", "500101197407110108"),
    ("11", "韩德明", "210102196609220115"), ("12", "杨淑芬", "370102197001310126"),
    ("13", "朱海涛", "410102196812040131"),
]


def _with_check_digit(first17: str) -> str:
    """A 身份证 number with its GB 11643 check digit."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def ensure_demo_history(today: date | None = None) -> bool:
    """Create the demo history once (True when created now); needs the product, directories and staff."""
    today = today or calendar.business_today()
    product = db.session.scalar(select(Product).where(Product.code == "ZJJYB"))
    coord = db.session.scalar(select(User).where(User.username == "coord1"))
    coord2 = db.session.scalar(select(User).where(User.username == "coord2"))
    if None in (product, coord, coord2):
        return False
    people = [_person(product, suffix, name, _with_check_digit(id_number[:17]), today)
              for suffix, name, id_number in PEOPLE]
    if db.session.scalar(select(Case.id).where(Case.insured_id == people[0].id).limit(1)) is not None:
        return False
    _World(today, people, coord, coord2).build()
    return True


def _person(product, suffix: str, name: str, id_number: str, today: date) -> InsuredPerson:
    policy_no = f"SD2026DEMO{suffix}"
    policy = db.session.scalar(select(Policy).where(Policy.policy_no == policy_no))
    if policy is None:
        policy = Policy(policy_no=policy_no, product_id=product.id, holder_name=name, waiting_days=90,
                        start_date=today - timedelta(days=200), end_date=today + timedelta(days=165))
        db.session.add(policy)
        db.session.flush()
    person = db.session.scalar(select(InsuredPerson).where(InsuredPerson.policy_id == policy.id))
    if person is None:
        person = InsuredPerson(policy_id=policy.id, name=name, id_type="id_card", id_number=id_number)
        db.session.add(person)
        db.session.flush()
    return person


class _World:
    """Builds the demo cases; `at(days_ago, hour)` is a Shanghai wall-clock time before today."""

    def __init__(self, today, people, coord, coord2):
        self.today, self.people, self.coord, self.coord2 = today, iter(people), coord, coord2
        self.bj = self._hospital("北京协和医院", overseas=False)
        self.sh = self._hospital("复旦大学附属中山医院", overseas=False)
        self.us = self._hospital("MD Anderson Cancer Center", overseas=True)
        self.sg = self._hospital("Singapore General Hospital", overseas=True)
        self.expert = db.session.scalar(select(Expert).where(Expert.name == "刘振华"))
        self.us_expert = db.session.scalar(select(Expert).where(Expert.name == "Dr. Emily Carter"))

    @staticmethod
    def _hospital(name, *, overseas):
        return db.session.scalar(select(Hospital).where(Hospital.name == name, Hospital.overseas.is_(overseas)))

    def at(self, days_ago: int, hour: int = 10, minute: int = 0) -> datetime:
        return datetime.combine(self.today - timedelta(days=days_ago), time(hour, minute), calendar.BUSINESS_TZ)

    def open(self, line: str, days_ago: int, *, actor=None, **data) -> Case:
        """A hotline request taken `days_ago` days ago."""
        person = next(self.people)
        when = self.at(days_ago, 9, 30)
        if not consent.has_consent(person, when):  # read aloud on the call and consented to (SPEC §7)
            consent.give(person, actor=actor or self.coord, channel="hotline", now=when - timedelta(minutes=5))
        request = {"illness": "恶性肿瘤——重度", "diagnosis": "肺腺癌",
                   "first_diagnosis_date": (when.date() - timedelta(days=20)).isoformat(), **data}
        if line in ("green_outpatient", "green_inpatient", "domestic_escort") and "city" not in data:
            request.update(city="北京", hospital_id=self.bj.id, department="肿瘤内科")
        if line.startswith("overseas"):
            request.setdefault("country", "美国")
        case = intake.submit_request(insured=person, line_code=line, data=request, actor=actor or self.coord,
                                     channel="ys_hotline", now=when)
        if case.status != "submitted" and request["illness"] != "高血压":
            raise RuntimeError(f"demo case refused: {[r for r in case.eligibility if not r['passed']]}")
        return case

    def step(self, case, action: str, days_ago: int, hour: int = 11, *, actor=None, **fields) -> None:
        lifecycle.perform(case, action, actor=actor or self.coord, now=self.at(days_ago, hour), **fields)

    def papers(self, case, days_ago: int) -> None:
        """The insured's documents, received by e-mail, filed and accepted by the coordinator."""
        now = self.at(days_ago, 10)
        for kind in documents.missing_kinds(case, accepted_only=True):
            upload = FileStorage(io.BytesIO(PDF), filename=f"{kind}.pdf", content_type="application/pdf")
            document = documents.save_upload(case, upload, kind=kind, actor=self.coord)
            document.uploaded_at = now
            review.record_staff_upload(document, actor=self.coord, now=now)
            review.review_document(document, decision="accepted", actor=self.coord, now=now)
        db.session.expire(case, ["documents"])

    def report(self, case, kind: str, days_ago: int) -> int:
        upload = FileStorage(io.BytesIO(PDF), filename=f"{kind}.pdf", content_type="application/pdf")
        document = documents.save_upload(case, upload, kind=kind, actor=self.coord)
        document.uploaded_at = self.at(days_ago, 9)
        return document.id

    def rate(self, case, score: int, comment: str = "") -> None:
        user = User(username=f"demo{case.insured_id}", password_hash=hash_password(f"demo-{case.ref}"),
                    role="insured", display_name=case.insured.name, insured_id=case.insured_id, active=False)
        db.session.add(user)
        db.session.flush()
        user.active = True
        ratings.rate(case, actor=user, score=score, comment=comment, now=self.at(0, 8))
        user.active = False  # the demo people have no login; only their ratings stay

    def build(self) -> None:
        c = self
        # 门诊绿通, arranged in time and visited, rated
        case = c.open("green_outpatient", 26)
        c.step(case, "verify", 26), c.step(case, "accept", 26, 14)
        c.step(case, "confirm_hospital", 25, hospital_id=c.bj.id, department="肿瘤内科")
        c.step(case, "book_appointment", 24, hospital_id=c.bj.id, department="肿瘤内科", scheduled_at=c.at(20, 9))
        c.step(case, "record_visit", 20, 16, outcome="visited")
        c.rate(case, 5, "安排很及时，协调员很耐心。")
        # 门诊绿通, booked after its 5 working days (breached), then a no-show (counts as used)
        case = c.open("green_outpatient", 22, actor=c.coord2)
        c.step(case, "verify", 22, actor=c.coord2), c.step(case, "accept", 22, 15, actor=c.coord2)
        c.step(case, "confirm_hospital", 13, actor=c.coord2, hospital_id=c.bj.id, department="心内科")
        c.step(case, "book_appointment", 12, actor=c.coord2, hospital_id=c.bj.id, department="心内科",
               scheduled_at=c.at(9, 9))
        c.step(case, "record_visit", 9, 17, actor=c.coord2, outcome="no_show")
        c.rate(case, 3)
        # 门诊绿通, never arranged: its clock is past due (the sweep records the breach)
        case = c.open("green_outpatient", 16, actor=c.coord2, city="上海", hospital_id=c.sh.id)
        c.step(case, "verify", 16, actor=c.coord2), c.step(case, "accept", 15, actor=c.coord2)
        # 住院绿通, applied before the 住院条 exists: its clock waits for the slip's date
        case = c.open("green_inpatient", 3)
        c.step(case, "verify", 3, 14), c.step(case, "accept", 2)
        # 住院绿通, slip given, admission booked for next week
        case = c.open("green_inpatient", 6, admission_slip_date=(c.today - timedelta(days=7)).isoformat())
        c.step(case, "verify", 6), c.step(case, "accept", 6, 14)
        c.step(case, "confirm_hospital", 5, hospital_id=c.bj.id, department="胸外科")
        c.step(case, "book_appointment", 2, hospital_id=c.bj.id, department="胸外科", scheduled_at=c.at(-6, 8))
        # 国内二诊, completed: report delivered to the insured and 史带, rated
        case = c.open("domestic_second_opinion", 24)
        c.step(case, "verify", 24), c.step(case, "accept", 24, 14)
        c.papers(case, 22)
        c.step(case, "materials_complete", 22, 15)
        c.step(case, "assign_expert", 21, expert_id=c.expert.id)
        c.step(case, "issue_report", 14, document_id=c.report(case, "report", 14))
        c.step(case, "deliver", 13, document_id=_last_report(case))
        c.rate(case, 4, "报告解释很清楚。")
        # 门诊绿通, paused: waiting on the insured's documents (the clock's paused days extend it)
        case = c.open("green_outpatient", 4, actor=c.coord2, city="上海", hospital_id=c.sh.id)
        c.step(case, "verify", 4, actor=c.coord2)
        c.step(case, "request_documents", 3, actor=c.coord2, kinds=["medical_record", "ct"],
               reason="医院需要门诊病历和最近一次 CT 报告")
        # 陪诊, just submitted (the queue's newest)
        c.open("domestic_escort", 0, city="北京", hospital_id=c.bj.id)
        # 海外二诊, launched, materials complete, history being translated; report due next year (暂定)
        case = c.open("overseas_second_opinion", 10, hospital_id=c.us.id)
        c.step(case, "verify", 10), c.step(case, "launch_decision", 9, launch=True, note="符合海外二诊条件")
        c.papers(case, 6)
        c.step(case, "materials_complete", 5), c.step(case, "history_translated", 2)
        # 海外二诊, not launched (terminated with its own reason)
        case = c.open("overseas_second_opinion", 12, actor=c.coord2)
        c.step(case, "verify", 12, actor=c.coord2)
        c.step(case, "launch_decision", 11, actor=c.coord2, launch=False, note="病情不适合海外会诊")
        # 海外就医, launched, hospital accepted, visa granted: 40 working days into next year (暂定)
        case = c.open("overseas_treatment", 20, country="新加坡", hospital_id=c.sg.id)
        c.step(case, "verify", 20), c.step(case, "launch_decision", 19, launch=True)
        c.papers(case, 15)
        c.step(case, "materials_complete", 15, 15), c.step(case, "history_translated", 12)
        transfers.give(case, hospital_id=c.sg.id, actor=c.coord, channel="hotline", now=c.at(10))
        c.step(case, "hospital_accepted", 9, hospital_id=c.sg.id)
        c.step(case, "visa_applied", 8, applied_on=c.at(8).date())
        c.step(case, "visa_granted", 2, decided_on=c.at(3).date())
        # 门诊绿通, being verified today
        case = c.open("green_outpatient", 0, actor=c.coord2, city="上海", hospital_id=c.sh.id)
        c.step(case, "verify", 0, 11, actor=c.coord2)
        # a request kept on record: the illness is not on the product's list (登记备案)
        c.open("green_outpatient", 4, illness="高血压")
        db.session.flush()
        sweep.sweep(c.at(0, 8))
        week = reports.week_of(c.today - timedelta(days=7))
        if db.session.scalar(select(WeeklyReport.id).where(WeeklyReport.week == week).limit(1)) is None:
            reports.build_weekly(week, built_by="demo-data", now=c.at(0, 9))


def _last_report(case) -> int:
    return db.session.scalar(select(Document.id).where(Document.case_id == case.id, Document.kind == "report")
                             .order_by(Document.id.desc()).limit(1))
