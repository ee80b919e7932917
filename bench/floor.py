"""The floor (issue 20 item 2): the coordinator queue's first page and the insured home with the same visible
content, written with the fewest raw SQL statements over the same database and one bare template each — what
these pages cost on this stack (Flask, the DBAPI driver, Jinja) before any of the portal's structure.

"The same visible content" is meant literally: the same markup, labels, dates, badges, links, counts, filter
options, alerts, next-step hints, the CSRF token and the header — and the same checks the real page must make
before it shows anything: the user's row is read and checked (active, session generation, role) as the session
loader does, and the insured home checks the consent in effect. What each line prints comes from the same
pure helpers the portal uses (date formatting, ID masking, working days left, next steps), because that is the
content, not structure. The whose-page id is taken from the URL (so load generators need no login); the user
row is read and checked all the same.

Mounted under /_floor/ on the portal's own app in the benchmarks (`attach`), so it shares the process, the
connection pool and the gunicorn workers with the pages it is the floor of, and it is measured in the same run
and under the same mixed load. Bench only, never in the app.
"""

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

from flask import Blueprint, abort, current_app, request, url_for
from flask_wtf.csrf import generate_csrf
from jinja2 import FileSystemLoader
from markupsafe import Markup

from portal import calendar
from portal.domain import lines as line_specs
from portal.domain import sla
from portal.domain.identity import mask_id
from portal.domain.ledger import policy_year
from portal.domain.product_data import HOTLINE
from portal.extensions import db
from portal.models import OPEN_STATUSES, STATUSES
from portal.web.labels import STATUS_TONES

bp = Blueprint("floor", __name__, url_prefix="/_floor")

_OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN_STATUSES)

#: the user row, as the session loader reads it (the generation is what ends a revoked session)
USER_BY_ID = 'SELECT id, role, display_name, active, session_generation FROM "user" WHERE id = :who'
USER_BY_INSURED = ('SELECT id, role, display_name, active, session_generation FROM "user" '
                   "WHERE insured_id = :who AND role = 'insured' ORDER BY id LIMIT 1")

#: the first page of 全部: running clocks nearest first with the case, the insured and the clock's own columns;
#: `nearest` tells whether the clock is its case's nearest running one (a case is listed once; `state || ''` keeps
#: that lookup on the case's clocks, as in worklist._no_running_clock)
QUEUE_ROWS = """
SELECT c.id, c.ref, c.submitted_at, c.line_code, c.status, c.milestone, c.city, c.country, c.assignee_id,
       c.insured_id, i.name, i.id_number, i.id_type,
       k.kind, k.state, k.days, k.start_date, k.paused_days, k.paused_on, k.due_date, k.provisional, k.outcome,
       NOT EXISTS (SELECT 1 FROM sla_clock o WHERE o.case_id = k.case_id AND (o.state || '') = 'running'
                   AND o.deadline IS NOT NULL
                   AND (o.deadline < k.deadline OR (o.deadline = k.deadline AND o.id < k.id))),
       k.id, k.deadline
FROM sla_clock k JOIN "case" c ON c.id = k.case_id JOIN insured_person i ON i.id = c.insured_id
WHERE k.state = 'running' AND k.deadline IS NOT NULL
ORDER BY k.deadline, k.id LIMIT 51
"""
#: the four counted tabs, from the same counter rows the portal keeps
QUEUE_COUNTS = f"""
SELECT COALESCE(SUM(CASE WHEN assignee_id = :me AND status IN ({_OPEN_SQL}) THEN n ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN assignee_id = 0 AND status IN ({_OPEN_SQL}) THEN n ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN status = 'awaiting_documents' THEN n ELSE 0 END), 0),
       COALESCE(SUM(n), 0)
FROM queue_count
"""
#: my unread alerts (supervisors: also those for every supervisor), the newest 20, with how many there are
ALERTS = """
SELECT id, kind, case_id, message, created_at, count(*) OVER () FROM alert
WHERE (recipient_id = :me OR (:supervisor AND recipient_id IS NULL)) AND read_at IS NULL
ORDER BY created_at DESC, id DESC LIMIT 20
"""
STAFF = """SELECT id, display_name FROM "user" WHERE role IN ('coordinator', 'supervisor') AND active = :yes
ORDER BY display_name"""
CITIES = """WITH RECURSIVE cities(city) AS (SELECT (SELECT min(city) FROM "case") UNION ALL
SELECT (SELECT min(c.city) FROM "case" c WHERE c.city > cities.city) FROM cities WHERE cities.city IS NOT NULL)
SELECT city FROM cities WHERE city IS NOT NULL ORDER BY city"""
LINE_NAMES = "SELECT code, short_name FROM service_line ORDER BY position, id"

HOME_PERSON = """
SELECT i.name, i.id_number, i.id_type, p.policy_no, p.start_date, p.end_date, pr.name, pr.id
FROM insured_person i JOIN policy p ON p.id = i.policy_id JOIN product pr ON pr.id = p.product_id WHERE i.id = :who
"""
HOME_CONSENT = """
SELECT r.id FROM consent_record r
WHERE r.id = (SELECT max(id) FROM consent_record WHERE insured_id = :who AND purpose = 'processing')
  AND r.action = 'given'
  AND r.notice_id = (SELECT n.id FROM notice n WHERE n.kind = 'privacy' AND n.effective_from <= :today
                     ORDER BY n.version DESC LIMIT 1)
"""
#: every line of the product (names for the case cards) with this policy year's ledger row, if any
HOME_LINES = """
SELECT l.code, l.name, l.short_name, l.entitlement, e.total, e.reserved, e.consumed, e.lapsed
FROM service_line l LEFT JOIN entitlement e ON e.insured_id = :who AND e.line_code = l.code AND e.year_start = :year
WHERE l.product_id = :product ORDER BY l.position, l.id
"""
#: a page of cases, newest first, with the first running clock that has a due date, and the total
HOME_CASES = """
SELECT c.id, c.ref, c.line_code, c.status, c.submitted_at, k.kind, k.due_date, k.provisional, count(*) OVER ()
FROM "case" c LEFT JOIN sla_clock k ON k.id = (SELECT min(o.id) FROM sla_clock o WHERE o.case_id = c.id
                                              AND (o.state || '') = 'running' AND o.due_date IS NOT NULL)
WHERE c.insured_id = :who ORDER BY c.submitted_at DESC, c.id DESC LIMIT 10
"""
HOME_UNREAD = "SELECT count(*) FROM notification WHERE insured_id = :who AND read_at IS NULL"

#: the bare templates (bench/floor_templates/), read and compiled once per process
TEMPLATES = Path(__file__).parent / "floor_templates"

STATUS_HINT = {"submitted": "我们已收到您的申请，正在核实身份和保障。", "verifying": "我们正在核实您的身份和保障。",
               "awaiting_documents": "需要您补充资料；补齐后我们会继续办理，等待期间服务时限暂停计算。",
               "in_service": "我们正在为您办理。", "completed": "服务已完成。", "terminated": "服务已终止。",
               "cancelled": "您已取消这次申请。"}
ALERT_KINDS = {"due_soon": "即将到期", "breached": "已超时", "documents_uploaded": "新资料"}

#: per process, as the portal keeps them: compiled templates, fingerprinted asset URLs, the product's line names,
#: next steps per (role, line, status, milestone, whose case)
_environment: list = []  # one Jinja environment: it compiles each template once
_static: dict = {}
_line_names: list = []
_steps: dict = {}


def _render(name: str, **context) -> str:
    if not _environment:  # the app's settings (autoescape, filters), the floors' own folder
        _environment.append(current_app.jinja_env.overlay(loader=FileSystemLoader(TEMPLATES)))
    return _environment[0].get_template(name).render(**context)


def _rows(sql: str, **params) -> list:
    return db.session.execute(db.text(sql), params).all()


def _assets() -> SimpleNamespace:
    if not _static:
        _static.update(favicon=url_for("static", filename="favicon.svg"),
                       app_css=url_for("static", filename="css/app.css"),
                       staff_css=url_for("static", filename="css/staff.css"),
                       insured_css=url_for("static", filename="css/insured.css"),
                       htmx=url_for("static", filename="vendor/htmx.min.js"),
                       submit_once=url_for("static", filename="js/submit-once.js"),
                       chosen=url_for("static", filename="js/chosen.js"))
    return SimpleNamespace(**_static)


def _user(sql: str, who: int, roles: tuple) -> tuple:
    """The user row, checked as the session loader and the role gate check it."""
    found = _rows(sql, who=who)
    if not found or not found[0][3] or found[0][1] not in roles:
        abort(403)
    return found[0]


def _day(value) -> date:
    """A DATE or DATETIME column as a business date (SQLite hands back text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return calendar.to_business_date(value if value.tzinfo else value.replace(tzinfo=UTC))
    return value


def _next_step(user, r) -> tuple:
    from portal.blueprints.coordinator.views_common import next_step

    whose = "none" if r[8] is None else "mine" if r[8] == user[0] else "other"
    key = (user[1], r[3], r[4], r[5], whose)
    if key not in _steps:
        spec = next_step(SimpleNamespace(line_code=r[3], status=r[4], milestone=r[5], assignee_id=r[8],
                                         insured_id=r[9]), SimpleNamespace(id=user[0], role=user[1]))
        _steps[key] = (spec.code.replace("_", "-"), spec.label) if spec else (None, None)
    return _steps[key]


def _badges(clock, left: int) -> tuple:
    from portal.blueprints.coordinator.queue_rows import _badges

    return _badges(clock, left)


def _stamp(value) -> str:
    """2026-11-28 14:30 in Asia/Shanghai."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(calendar.BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def _names() -> dict:
    """One short name per line code across products, in product order (configuration: once per process)."""
    if not _line_names:
        seen = {}
        for code, name in _rows(LINE_NAMES):
            seen.setdefault(code, name)
        _line_names.extend(seen.items())
    return dict(_line_names)


def _queue_line(user, r, today, names, staff_names) -> tuple:
    clock = SimpleNamespace(state=r[14], days=r[15], start_date=_day(r[16]), paused_days=r[17],
                            paused_on=_day(r[18]) if r[18] else None, due_date=_day(r[19]),
                            provisional=bool(r[20]), outcome=r[21])
    code, label = _next_step(user, r)
    return (r[0], calendar.format_cn_date(clock.due_date), _badges(clock, sla.working_days_left(clock, today)),
            sla.clock_label(r[13]), r[1], calendar.format_cn_date(_day(r[2])), r[10], mask_id(r[11], r[12]),
            names.get(r[3], r[3]), STATUS_TONES.get(r[4], "info"), STATUSES.get(r[4], r[4]),
            line_specs.milestone_label(r[3], r[5]), r[6] or r[7] or "—",
            staff_names.get(r[8], "—") if r[8] else "未分配", code, label)


@bp.get("/queue/<int:user_id>")
def queue(user_id):
    """The queue's first page (全部) for one coordinator: six statements, one bare template; as an htmx swap
    (HX-Request, as the page answers a tab or filter change) the tabs, rows and pager only: four statements."""
    user = _user(USER_BY_ID, user_id, ("coordinator", "supervisor"))
    today = calendar.business_today()
    names = _names()
    staff = _rows(STAFF, yes=True)
    staff_names = dict(staff)
    found = _rows(QUEUE_ROWS)
    rows = [_queue_line(user, r, today, names, staff_names) for r in found[:50] if r[22]]
    mine, unassigned, waiting, every = _rows(QUEUE_COUNTS, me=user_id)[0]
    tabs = (("mine", "我的", mine), ("unassigned", "未分配", unassigned), ("due_soon", "即将到期", None),
            ("overdue", "已超时", None), ("waiting", "等待客户", waiting), ("all", "全部", every))
    next_cursor = None
    if len(found) > 50:
        deadline = found[49][24]
        deadline = datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline
        deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=UTC)
        next_cursor = f"d_{deadline.astimezone(UTC).strftime('%Y%m%dT%H%M%S%f')}_{found[49][23]}"
    swap = request.headers.get("HX-Request") == "true"
    results = _render("queue_results.html", oob=swap, tabs=tabs, rows=rows, next_cursor=next_cursor)
    if swap:
        return results
    alerts = _rows(ALERTS, me=user_id, supervisor=user[1] == "supervisor")
    shown = [(a[0], a[1].replace("_", "-"), "bad" if a[1] == "breached" else "warn", ALERT_KINDS.get(a[1], "系统"),
              a[2], a[3], _stamp(a[4])) for a in alerts]
    return _render("queue.html", s=_assets(), css=_static["staff_css"], title="工作队列 · 英仕", body_class="desk",
                   csrf=generate_csrf(), user=user, alert_count=alerts[0][5] if alerts else 0, alerts=shown,
                   line_names=_line_names, statuses=list(STATUSES.items()), cities=[c for (c,) in _rows(CITIES)],
                   staff=staff, results=Markup(results), tel=_TEL, hotline=HOTLINE)


_TEL = "tel:" + HOTLINE.replace("-", "")


def _promise(status, kind, due, provisional):
    if status not in OPEN_STATUSES or due is None:
        return None, False
    return (f"我们将最晚于 {calendar.format_cn_date(_day(due))}前{sla.PROMISE_VERBS.get(kind, '为您办理')}",
            bool(provisional))


@bp.get("/home/<int:insured_id>")
def home(insured_id):
    """我的服务 for one insured person: six statements, one bare template."""
    _user(USER_BY_INSURED, insured_id, ("insured",))
    today = calendar.business_today()
    if not _rows(HOME_CONSENT, who=insured_id, today=today):
        abort(403)  # the real page redirects to the consent form
    p = _rows(HOME_PERSON, who=insured_id)[0]
    start, end = _day(p[4]), _day(p[5])
    year = policy_year(SimpleNamespace(start_date=start, end_date=end), today)
    lines = _rows(HOME_LINES, who=insured_id, year=year[0] if year else None, product=p[7])
    balances = [(r[2], r[3] if r[4] is None else r[4] - r[5] - r[6] - r[7], r[3] if r[4] is None else r[4])
                for r in lines] \
        if year else []
    names = {r[0]: r[1] for r in lines}
    cases = []
    found = _rows(HOME_CASES, who=insured_id)
    for c in found:
        text, provisional = _promise(c[3], c[5], c[6], c[7])
        cases.append((c[0], names.get(c[2], c[2]), STATUS_TONES.get(c[3], ""), STATUSES.get(c[3], c[3]), c[1],
                      calendar.format_cn_date(_day(c[4])), text, provisional, STATUS_HINT.get(c[3], "")))
    total = found[0][8] if found else 0
    unread = _rows(HOME_UNREAD, who=insured_id)[0][0]
    return _render("home.html", s=_assets(), css=_static["insured_css"], title="我的服务 · 重疾就医保",
                   body_class="phone", csrf=generate_csrf(), unread=unread, p=p, masked=mask_id(p[1], p[2]),
                   year=(year[0].isoformat(), year[1].isoformat()) if year else None, balances=balances,
                   cases=cases, total=total, pages=-(-total // 10), tel=_TEL, hotline=HOTLINE)


def attach(app) -> None:
    """Mount the floor pages on a benchmark app."""
    app.register_blueprint(bp)
