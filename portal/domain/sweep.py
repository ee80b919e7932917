"""The deadline sweep: due-soon and breached alerts for running SLA clocks, exactly once (SPEC §5, issue 7).

Why it is safe to run any number of times, from any number of processes:
- each alert has a unique key per clock and kind (`clock:42:breached`) and is inserted with
  INSERT ... ON CONFLICT DO NOTHING, so a second sweep, or a racing one, inserts nothing;
- a breach is recorded with a conditional UPDATE (`WHERE breached IS false`), so only one sweep
  writes the case-history event;
- it looks at every running clock due by the end of the next working day, not at "the last ten
  minutes": after any downtime the first sweep raises each missed alert once.
A clock already past its deadline gets the breached alert only: the due-soon warning it missed can no
longer be acted on. Paused clocks are skipped (their due date moves while the insured is asked for
material). Email goes out only for newly inserted alerts, and only once the caller commits.
It works in bounded batches (issue 18): each batch runs in a savepoint and, given `commit`, is committed on
its own, so a backlog of thousands of alerts lands piece by piece whatever staff do meanwhile. A coordinator
appending to a case's history at the very moment its breach is recorded (StaleCaseError on the history's
unique (case_id, seq)) or a deadlock only undoes that batch: it is split in halves and tried again with fresh
chain tails, and a single case that still races is revisited after the rest; what never settles is left to the
next sweep — the alerts of every other case land regardless.
"""

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import literal_column, select, update
from sqlalchemy.exc import OperationalError

from .. import calendar, outbox
from ..extensions import db
from ..models import STAFF_ROLES, Alert, Case, SlaClock, User, utcnow
from . import heap, history, live_clocks, rollups
from .batching import chunks
from .errors import StaleCaseError
from .leases import dialect_insert
from .sla import clock_label

log = logging.getLogger(__name__)

#: clocks per batch (one savepoint, and one commit when the caller passes `commit`)
BATCH = 1000
#: passes over the cases that raced before the rest of them is left to the next sweep
PASSES = 3
#: alert rows per INSERT: ten bound parameters a row, well under SQLite's 32,766 and PostgreSQL's 65,535
ALERT_ROWS = 500
#: PostgreSQL deadlock and serialization failure: the batch lost a race, not a bug
_RACE_STATES = {"40P01", "40001"}

#: Alert.kind -> email subject
SUBJECTS = {
    "due_soon": "时限即将到期",
    "breached": "时限已超期",
    "audit_failed": "记录完整性校验失败",
    "documents_uploaded": "客户上传了新资料",
}


@dataclass(frozen=True)
class SweepResult:
    """How many alerts this sweep newly raised, per kind (0 and 0 when run again)."""

    due_soon: int = 0
    breached: int = 0


def clock_key(clock, kind: str) -> str:
    """The idempotency key of a clock alert (a SlaClock or a row with its id): one per clock and kind, ever."""
    return f"clock:{clock.id}:{kind}"


def due_horizon(now: datetime) -> datetime:
    """End of the next working day after today: a clock due by then has at most one working day left."""
    return calendar.end_of_business_day(calendar.add_working_days(calendar.business_today(now), 1))


def sweep(now: datetime | None = None, *, commit: Callable[[], None] | None = None,
          batch_size: int = BATCH) -> SweepResult:
    """Raise the due-soon and breached alerts of every running clock, batch by batch (scheduler, CLI).

    With `commit` (the job's), each batch is committed as soon as it is done; without it everything stays in
    the caller's transaction, which the caller commits."""
    now = now or utcnow()
    with heap.frozen():
        return _sweep(now, commit, batch_size)


def _sweep(now: datetime, commit: Callable[[], None] | None, batch_size: int) -> SweepResult:
    """`sweep` itself: the due clocks, the alerts they still lack, then batch after batch."""
    # One range query on ix_sla_clock_state_deadline: its cost follows the due clocks, not all clocks.
    # Plain rows, not entities: a repeated sweep reads hundreds of clocks it then leaves alone.
    due = db.session.execute(
        select(SlaClock.id, SlaClock.case_id, SlaClock.kind, SlaClock.due_date, SlaClock.deadline,
               SlaClock.breached, Case.ref, User.id.label("user_id"), User.active, User.role, User.email)
        .join(Case, Case.id == SlaClock.case_id).outerjoin(User, User.id == Case.assignee_id)
        .where(SlaClock.state == "running", SlaClock.deadline <= due_horizon(now))
        .order_by(SlaClock.deadline, SlaClock.id)
    ).all()
    wanted = []  # (row, kind, key) triples: each key built once
    for row in due:
        kind = "breached" if row.deadline < now else "due_soon"
        wanted.append((row, kind, clock_key(row, kind)))
    raised = _existing_keys([key for _, _, key in wanted])
    todo = [(row, kind, key) for row, kind, key in wanted
            if key not in raised or (kind == "breached" and not row.breached)]
    if not todo:
        return SweepResult()
    supervisors = _addresses(None) if any(_recipient_id(row) is None for row, _, _ in todo) else []
    counts = {"due_soon": 0, "breached": 0}
    pending = todo
    for _ in range(PASSES):
        pending = _in_batches(_by_case(pending), now, supervisors, counts, commit, batch_size)
        if not pending:
            break
    if pending:
        log.warning("deadline sweep: %d clock(s) kept racing staff edits; the next sweep revisits them", len(pending))
    return SweepResult(**counts)


def _by_case(triples: list) -> list[list]:
    """The (row, kind, key) triples grouped per case: a race undoes whole cases, never half of one."""
    groups: dict[int, list] = {}
    for triple in triples:
        groups.setdefault(triple[0].case_id, []).append(triple)
    return list(groups.values())


def _in_batches(groups: list[list], now: datetime, supervisors: list[str], counts: dict,
                commit: Callable[[], None] | None, batch_size: int) -> list:
    """Process case groups a batch at a time; a batch that lost a race is halved and retried at once.
    Returns the triples of the single cases that still raced (for the next pass)."""
    queue, raced = deque(), []
    batch, size = [], 0
    for group in groups:  # batches of about `batch_size` clocks, whole cases each
        batch.append(group)
        size += len(group)
        if size >= batch_size:
            queue.append(batch)
            batch, size = [], 0
    if batch:
        queue.append(batch)
    while queue:
        batch = queue.popleft()
        pairs = [pair for group in batch for pair in group]
        try:
            with db.session.begin_nested():
                new, alerts = _sweep_batch(pairs, now, supervisors)
        except (StaleCaseError, OperationalError) as error:
            if isinstance(error, OperationalError) and not _lost_race(error):
                raise
            if len(batch) == 1:
                raced.extend(pairs)
            else:
                half = len(batch) // 2
                queue.extendleft([batch[half:], batch[:half]])
            continue
        _mail_new(alerts, new)  # after the savepoint held: a rolled-back batch sends nothing
        for alert in alerts:
            if alert["key"] in new:
                counts[alert["kind"]] += 1
        if commit is not None:
            commit()
    return raced


def _lost_race(error: OperationalError) -> bool:
    return getattr(getattr(error, "orig", None), "sqlstate", None) in _RACE_STATES


def _sweep_batch(pairs: list, now: datetime, supervisors: list[str]) -> tuple[dict[str, int], list[dict]]:
    """One batch: breaches into the clocks and case histories, then the alerts (bulk inserts)."""
    wording = _Wording(calendar.business_today())  # today: for the dates in the messages (format_cn_date's year)
    _record_breaches([row for row, kind, _ in pairs if kind == "breached" and not row.breached], now, wording)
    own_mail = _mail_on()
    alerts = [_clock_alert(row, kind, key, supervisors, wording, own_mail) for row, kind, key in pairs]
    return _insert_alerts(alerts, now), alerts


class _Wording(dict):
    """(clock label, Chinese due date) per (clock kind, due date), worked out once per batch: its thousands of
    clocks share a handful of due dates, and each date's text needs a look-up of this year."""

    def __init__(self, today: date):
        super().__init__()
        self.today = today

    def __missing__(self, key: tuple[str, date]) -> tuple[str, str]:
        kind, due_date = key
        self[key] = found = (clock_label(kind), calendar.format_cn_date(due_date, today=self.today))
        return found


def _existing_keys(keys: list[str]) -> set[str]:
    """Which of these alert keys exist already (so a repeated sweep does not even try to insert)."""
    found = set()
    for chunk in chunks(keys):
        found.update(db.session.scalars(select(Alert.key).where(Alert.key.in_(chunk))))
    return found


def _record_breaches(rows: list, now: datetime, wording: _Wording) -> None:
    """Mark clocks breached for good and write each breach to its case history, unless another sweep did first.

    One conditional UPDATE ... RETURNING per chunk: only the clocks this sweep flipped get a history event.
    `breached_at` is the deadline itself, not the moment a sweep noticed: after downtime the breach still
    lands in the right day and week of the reports.
    """
    table = SlaClock.__table__
    # `state || ''`, not `state`: the term still refuses a clock paused or stopped meanwhile, but SQLite's planner
    # can no longer answer it from ix_sla_clock_state_breached_at — it did, reading every running clock's entry
    # for each chunk (a sweep then cost O(running clocks), not O(due)); the ids go by the primary key.
    running = (table.c.state + literal_column("''")) == "running"
    marked = set()
    for chunk in chunks([row.id for row in rows]):
        marked.update(db.session.scalars(
            update(table).where(table.c.id.in_(chunk), table.c.breached.is_(False), running)
            .values(breached=True, breached_at=table.c.deadline).returning(table.c.id)
        ))
    # the flipped clocks had no mark before (running: no outcome, no stop, not breached); rollups recount them
    rollups.touched_clocks(db.session, dict.fromkeys(marked, []))
    rows = [row for row in rows if row.id in marked]
    live_clocks.touched(db.session, {row.id: ("running", row.due_date, False) for row in rows})
    entries = []
    for row in rows:
        label, due = wording[row.kind, row.due_date]
        entries.append((row.case_id, dict(
            actor=None, kind="clock", action="breached", internal=True, now=now,
            summary=f"{label}已超期（应于 {due}前完成）",
            data={"clock_id": row.id, "clock": row.kind, "due_date": row.due_date, "deadline": row.deadline})))
    history.append_rows(entries)


def _recipient_id(row) -> int | None:
    """The case's coordinator while they can act on it; None (= the supervisors) otherwise."""
    return row.user_id if row.user_id is not None and row.active and row.role in STAFF_ROLES else None


def _clock_alert(row, kind: str, key: str, supervisors: list[str], wording: _Wording, own_mail: bool) -> dict:
    """The due-soon or breached alert of one clock, to its coordinator (supervisors when unassigned); `own_mail`:
    whether mail is on (then the coordinator's address is where it goes)."""
    label, due = wording[row.kind, row.due_date]
    if kind == "breached":
        message = f"案件 {row.ref} 的{label}已超期（应于 {due}前完成），请尽快处理。"
    else:
        message = f"案件 {row.ref} 的{label}将于 {due}到期，剩余不超过 1 个工作日。"
    recipient_id = _recipient_id(row)
    own = [row.email] if row.email and own_mail else []
    return dict(key=key, kind=kind, message=message, recipient_id=recipient_id,
                case_id=row.case_id, clock_id=row.id, addresses=supervisors if recipient_id is None else own)


def raise_alert(*, key: str, kind: str, message: str, recipient_id: int | None = None, case_id: int | None = None,
                clock_id: int | None = None, now: datetime | None = None, addresses: list[str] | None = None) -> bool:
    """Insert an alert unless one with this key exists; True when new (its email then leaves on commit).

    `recipient_id` None means every supervisor; `addresses` (default: looked up) is where the email goes.
    """
    addresses = _addresses(recipient_id) if addresses is None else addresses
    return bool(raise_alerts([dict(key=key, kind=kind, message=message, recipient_id=recipient_id,
                                   case_id=case_id, clock_id=clock_id, addresses=addresses)], now=now))


def raise_alerts(alerts: list[dict], *, now: datetime | None = None) -> set[str]:
    """raise_alert for many (each a dict of its arguments, `addresses` given): the keys newly inserted.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING per chunk: safe against concurrent writers on SQLite and
    PostgreSQL, and only the rows this call inserted send their email.
    """
    new = _insert_alerts(alerts, now or utcnow())
    _mail_new(alerts, new)
    return set(new)


def _insert_alerts(alerts: list[dict], now: datetime) -> dict[str, int]:
    """Insert the alerts not there yet; {key: id} of the ones this call inserted."""
    table, new = Alert.__table__, {}
    for chunk in chunks(alerts, ALERT_ROWS):
        new.update((key, alert_id) for key, alert_id in db.session.execute(
            # executemany (one statement compiled once, sent in batches by the driver layer), not a VALUES list
            # of hundreds of rows compiled anew each time
            dialect_insert(table).on_conflict_do_nothing(index_elements=["key"])
            .returning(table.c.key, table.c.id), [
                dict(key=a["key"], kind=a["kind"], message=a["message"][:300], case_id=a.get("case_id"),
                     clock_id=a.get("clock_id"), recipient_id=a.get("recipient_id"), created_at=now,
                     emailed_at=None)  # stamped by the outbox once the e-mail really left
                for a in chunk
            ]))
    return new


def _mail_new(alerts: list[dict], new: dict[str, int]) -> None:
    """Queue the email of each newly inserted alert in the outbox; it is tried once the transaction commits."""
    for alert in alerts:
        if alert["key"] in new:
            for address in alert["addresses"]:
                outbox.enqueue("email", address, f"{alert['message']}\n\n请登录英仕协调员工作台查看。",
                               subject=f"【重疾就医保】{SUBJECTS.get(alert['kind'], '提醒')}", purpose="alert",
                               alert_id=new[alert["key"]])


def _mail_on() -> bool:
    return current_app.config.get("MAIL_BACKEND") != "none"


def _addresses(recipient_id: int | None) -> list[str]:
    """Where an alert's email goes: the user, or every active supervisor; none when mail is off."""
    if not _mail_on():
        return []
    if recipient_id is not None:
        email = db.session.scalar(select(User.email).where(User.id == recipient_id))
        return [email] if email else []
    return list(db.session.scalars(
        select(User.email).where(User.role == "supervisor", User.active.is_(True), User.email.is_not(None))
        .order_by(User.id)
    ))
