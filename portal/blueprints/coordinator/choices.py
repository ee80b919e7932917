"""Select options of the coordinator forms, each looked up once per request (directories, roster, bills)."""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import or_, select

from ...domain import directory, lines
from ...domain.documents import kind_label
from ...domain.handlers.base import as_datetime
from ...extensions import db
from ...models import STAFF_ROLES, Bill, Escort, EscortAssignment, EscortHourLog, Expert, Hospital, User, utcnow

#: the bill currency proposed first for a country of treatment
COUNTRY_CURRENCY = {"美国": "USD", "德国": "EUR", "日本": "JPY", "新加坡": "SGD", "英国": "GBP"}


@dataclass
class RosterEntry:
    """One escort of the case's city: the booking that clashes with the requested window, and what is ahead."""

    escort: Escort
    clash: EscortAssignment | None = None
    upcoming: list[EscortAssignment] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.clash is None


def escort_window(case) -> tuple[datetime, datetime] | None:
    """The time the insured needs an escort, as recorded by `record_escort_request`."""
    window = (case.request_data or {}).get("escort_window") or {}
    if not window.get("starts_at") or not window.get("ends_at"):
        return None
    return (as_datetime(window["starts_at"], "starts_at", ""), as_datetime(window["ends_at"], "ends_at", ""))


def staff_options() -> list[tuple[int, str]]:
    """Active coordinators and supervisors, by name (two columns as tuples: no User object per colleague)."""
    return [(user_id, name) for user_id, name in db.session.execute(_STAFF)]


_STAFF = (select(User.id, User.display_name).where(User.role.in_(STAFF_ROLES), User.active.is_(True))
          .order_by(User.display_name))


class Choices:
    """Options for the forms of one product; one instance per request."""

    def __init__(self, product):
        self.product = product
        self._roster: dict[int, list[RosterEntry]] = {}

    def illnesses(self):
        return [(name, name) for name in self.product.covered_illnesses]

    def countries(self):
        return [(name, name) for name in self.product.countries]

    @cached_property
    def _hospitals(self) -> list[Hospital]:
        # deactivated ones too: a case requested before the deactivation may still use them
        return list(db.session.scalars(select(Hospital).where(or_(Hospital.active.is_(True),
                                                                  Hospital.deactivated_at.is_not(None)))
                                       .order_by(Hospital.overseas, Hospital.country, Hospital.city, Hospital.name)))

    def hospitals(self, *, overseas: bool, city: str | None = None, country: str | None = None, case=None):
        """(id, "city · name") of directory hospitals, optionally of one city or country: the active ones, or
        for `case` those listed when it was requested."""
        return [(h.id, f"{h.country} · {h.city} · {h.name}" if overseas else f"{h.city} · {h.name}")
                for h in self._hospitals
                if h.overseas == overseas and (city is None or h.city == city)
                and (country is None or h.country == country)
                and (h.active if case is None else directory.listed_when_requested(h, case))]

    def hospitals_for(self, case):
        line = self.product.line(case.line_code)
        if line.overseas:
            return self.hospitals(overseas=True, country=case.country, case=case)
        return self.hospitals(overseas=False, city=case.city, case=case)

    def roster(self, case) -> list[RosterEntry]:
        """Active escorts of the case's city with their bookings from now on and any clash with the window."""
        if case.id in self._roster:
            return self._roster[case.id]
        escorts = list(db.session.scalars(select(Escort).where(Escort.city == case.city, Escort.active.is_(True))
                                          .order_by(Escort.name)))
        entries = {e.id: RosterEntry(e) for e in escorts}
        window = escort_window(case)
        bookings = db.session.scalars(select(EscortAssignment).where(
            EscortAssignment.escort_id.in_(entries), EscortAssignment.cancelled_at.is_(None),
            EscortAssignment.ends_at >= utcnow()).order_by(EscortAssignment.starts_at)) if entries else []
        for booking in bookings:
            entry = entries[booking.escort_id]
            entry.upcoming.append(booking)
            if window and booking.case_id != case.id and booking.starts_at < window[1] \
                    and booking.ends_at > window[0]:
                entry.clash = entry.clash or booking
        self._roster[case.id] = list(entries.values())
        return self._roster[case.id]

    def escorts_for(self, case):
        return [(r.escort.id, f"{r.escort.name}（{'空闲' if r.available else '该时段已有安排'}）")
                for r in self.roster(case)]

    def experts_for(self, case):
        """Domestic lines: 三甲 experts of the expert cities; overseas: experts of the chosen country."""
        query = select(Expert).where(Expert.active.is_(True)).order_by(Expert.city, Expert.name)
        if self.product.line(case.line_code).overseas:
            query = query.where(Expert.country != "中国")
            if case.country:
                query = query.where(Expert.country == case.country)
        else:
            query = query.where(Expert.country == "中国", Expert.city.in_(self.product.expert_cities))
            return [(e.id, f"{e.city} · {e.name} {e.title or ''} {e.specialty or ''} · {e.hospital_name or ''}".strip())
                    for e in db.session.scalars(query) if directory.expert_grade(e) == directory.EXPERT_GRADE]
        return [(e.id, f"{e.city} · {e.name} {e.title or ''} {e.specialty or ''} · {e.hospital_name or ''}".strip())
                for e in db.session.scalars(query)]

    def termination_reasons(self, case):
        return [(code, reason.label) for code, reason in lines.reasons_for(case.line_code).items()]

    def bills_for(self, case):
        return [(b.id, f"{b.bill_date:%Y-%m-%d} {b.hospital_name} {b.currency} {b.amount:,.2f}"
                       f"（{lines.BILL_STATUSES.get(b.status, b.status)}）")
                for b in db.session.scalars(select(Bill).where(Bill.case_id == case.id, Bill.voided_at.is_(None))
                                            .order_by(Bill.id))]

    def hour_logs_for(self, case):
        """The escort-hour entries that still count (not voided)."""
        return [(h.id, f"{h.day:%Y-%m-%d} {h.escort_name} {h.hours} 小时")
                for h in db.session.scalars(select(EscortHourLog).where(
                    EscortHourLog.case_id == case.id, EscortHourLog.voided_at.is_(None)).order_by(EscortHourLog.id))]

    def documents_for(self, case, kind: str | None):
        if kind is None:
            return []
        return [(d.id, d.original_name) for d in case.documents if d.kind == kind and d.withdrawn_at is None]

    @staticmethod
    def staff():
        return staff_options()

    def currency_for(self, case) -> str:
        return COUNTRY_CURRENCY.get(case.country or "", "USD")

    @staticmethod
    def kind_label(kind: str) -> str:
        return kind_label(kind)
