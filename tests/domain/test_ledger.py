"""Entitlement ledger: policy years, reserve → consume / release, lapse, and the race for the last unit."""

import itertools
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.domain import ledger
from portal.domain.errors import DomainError
from portal.extensions import db
from portal.models import Case, Entitlement, EntitlementEntry, Policy

D = date
ON = D(2026, 6, 15)
YEAR_2026 = D(2026, 1, 1)
_refs = itertools.count(1)


def _case(insured, line_code="domestic_escort", *, on=ON):
    """A bare case in the policy year containing `on` (intake is tested elsewhere)."""
    case = Case(ref=f"ZJ{on:%Y%m%d}-{next(_refs):04d}", policy_id=insured.policy_id, insured_id=insured.id,
                line_code=line_code, policy_year_start=ledger.policy_year(insured.policy, on)[0])
    db.session.add(case)
    db.session.flush()
    return case


def _row(insured, line_code="domestic_escort", year_start=YEAR_2026) -> Entitlement:
    return db.session.scalar(select(Entitlement).filter_by(insured_id=insured.id, line_code=line_code,
                                                           year_start=year_start))


def _counts(row):
    db.session.refresh(row)
    return row.total, row.reserved, row.consumed, row.lapsed, row.remaining


@pytest.mark.parametrize(
    ("on", "year"),
    [
        (D(2026, 2, 28), None),                                  # before cover
        (D(2026, 3, 1), (D(2026, 3, 1), D(2027, 2, 28))),
        (D(2027, 2, 28), (D(2026, 3, 1), D(2027, 2, 28))),
        (D(2027, 3, 1), (D(2027, 3, 1), D(2028, 1, 31))),        # the last year is cut at the end date
        (D(2028, 1, 31), (D(2027, 3, 1), D(2028, 1, 31))),
        (D(2028, 2, 1), None),                                   # after cover
    ],
)
def test_policy_year_runs_from_the_start_anniversary_and_stops_at_the_end_date(on, year):
    policy = Policy(start_date=D(2026, 3, 1), end_date=D(2028, 1, 31))
    assert ledger.policy_year(policy, on) == year


def test_a_29_february_start_has_its_anniversary_on_28_february_in_common_years():
    policy = Policy(start_date=D(2024, 2, 29), end_date=D(2029, 2, 27))
    assert ledger.policy_year(policy, D(2025, 2, 27)) == (D(2024, 2, 29), D(2025, 2, 27))
    assert ledger.policy_year(policy, D(2025, 2, 28)) == (D(2025, 2, 28), D(2026, 2, 27))
    assert ledger.policy_year(policy, D(2028, 3, 1)) == (D(2028, 2, 29), D(2029, 2, 27))


def test_balances_list_every_line_in_product_order_without_writing(make_policy, product):
    insured = make_policy()
    balances = ledger.balances(insured, ON)
    assert [b.line_code for b in balances] == [line.code for line in product.lines]
    escort = next(b for b in balances if b.line_code == "domestic_escort")
    assert (escort.name, escort.total, escort.reserved, escort.consumed, escort.remaining) == (
        "国内就医陪诊", 2, 0, 0, 2)
    assert db.session.scalar(select(func.count()).select_from(Entitlement)) == 0  # a read page never writes


def test_balances_outside_cover_are_empty(make_policy):
    assert ledger.balances(make_policy(), D(2027, 1, 1)) == []


def test_remaining_reads_without_writing(make_policy):
    insured = make_policy()
    assert ledger.remaining(insured, "domestic_escort", ON) == 2
    assert ledger.remaining(insured, "domestic_escort", D(2027, 1, 1)) == 0
    assert db.session.scalar(select(func.count()).select_from(Entitlement)) == 0


def test_reserve_consume_and_release_move_units_and_journal_each_move(make_policy, make_user):
    insured, coordinator = make_policy(), make_user("coordinator")
    first, second, third = _case(insured), _case(insured), _case(insured)
    ledger.reserve(first, actor=coordinator)
    ledger.reserve(second)
    row = _row(insured)
    assert _counts(row) == (2, 2, 0, 0, 0)
    with pytest.raises(DomainError, match="本保单年度该项服务次数已用完。"):
        ledger.reserve(third)
    ledger.consume(first, actor=coordinator)
    assert _counts(row) == (2, 1, 1, 0, 0)
    ledger.release(second)
    assert _counts(row) == (2, 0, 1, 0, 1)
    ledger.reserve(third)
    assert _counts(row) == (2, 1, 1, 0, 0)
    entries = db.session.execute(select(EntitlementEntry.case_id, EntitlementEntry.kind, EntitlementEntry.actor_id)
                                 .order_by(EntitlementEntry.id)).all()
    assert entries == [(first.id, "reserve", coordinator.id), (second.id, "reserve", None),
                       (first.id, "consume", coordinator.id), (second.id, "release", None),
                       (third.id, "reserve", None)]


def test_a_case_holds_at_most_one_unit(make_policy):
    case = _case(make_policy())
    ledger.reserve(case)
    with pytest.raises(DomainError, match="已占用"):
        ledger.reserve(case)


def test_consume_without_a_reservation_is_refused(make_policy):
    with pytest.raises(DomainError, match="没有占用"):
        ledger.consume(_case(make_policy()))


def test_release_without_a_reservation_changes_nothing(make_policy):
    insured = make_policy()
    ledger.release(_case(insured))
    assert db.session.scalar(select(func.count()).select_from(EntitlementEntry)) == 0


def test_each_policy_year_has_its_own_units(make_policy):
    insured = make_policy(start=D(2026, 1, 1), end=D(2027, 12, 31))
    ledger.reserve(_case(insured, "green_outpatient"))
    with pytest.raises(DomainError):
        ledger.reserve(_case(insured, "green_outpatient"))
    ledger.reserve(_case(insured, "green_outpatient", on=D(2027, 1, 1)))
    assert _row(insured, "green_outpatient", D(2027, 1, 1)).reserved == 1
    assert ledger.remaining(insured, "green_outpatient", D(2026, 12, 31)) == 0
    assert ledger.remaining(insured, "green_outpatient", D(2027, 1, 1)) == 0


def test_lapse_records_the_free_units_of_ended_years_only(make_policy):
    insured = make_policy(start=D(2026, 1, 1), end=D(2026, 12, 31))
    held = _case(insured)
    ledger.reserve(held)
    row = _row(insured)
    assert ledger.lapse_expired(D(2026, 12, 31)) == 0        # the last day still belongs to the year
    assert ledger.lapse_expired(D(2027, 1, 1)) == 1
    assert _counts(row) == (2, 1, 0, 1, 0)                   # the reserved unit stays with its open case
    assert row.lapsed_at is not None
    assert ledger.lapse_expired(D(2027, 1, 2)) == 0          # nothing more to lapse
    ledger.release(held)                                     # a unit freed after the year ended lapses too
    assert ledger.lapse_expired(D(2027, 1, 3)) == 1
    assert _counts(row) == (2, 0, 0, 2, 0)
    lapses = db.session.execute(select(EntitlementEntry.units).where(EntitlementEntry.kind == "lapse")).scalars()
    assert list(lapses) == [1, 1]


def test_twenty_simultaneous_requests_for_the_last_unit_give_it_to_exactly_one(app, make_policy):
    insured = make_policy()
    ledger.reserve(_case(insured))                             # one of the two escort units is taken
    case_ids = [_case(insured).id for _ in range(20)]
    db.session.commit()
    barrier = threading.Barrier(len(case_ids), timeout=30)
    outcomes, lock = [], threading.Lock()

    def worker(case_id):
        with app.app_context():                                # its own scoped session and connection
            try:
                barrier.wait()
                ledger.reserve(db.session.get(Case, case_id))
                db.session.commit()
                outcome = "won"
            except DomainError:
                db.session.rollback()
                outcome = "refused"
            except Exception as error:  # noqa: BLE001 — any other failure must show in the assertion
                db.session.rollback()
                outcome = repr(error)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=worker, args=(case_id,)) for case_id in case_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 19 + ["won"]
    row = _row(insured)
    assert (row.total, row.reserved + row.consumed) == (2, 2)
    reserves = select(func.count()).select_from(EntitlementEntry).where(EntitlementEntry.kind == "reserve")
    assert db.session.scalar(reserves) == 2
