"""The floor (issue 20 item 2): the coordinator queue's first page and the insured home with the same visible
content, written with the fewest raw SQL statements over the same database and a bare template — what these
pages cost on this stack (Flask, the DBAPI driver, Jinja) before any of the portal's structure.

Mounted under /_floor/ on the portal's own app in the benchmarks (`attach`), so it shares the process, the
connection pool and the gunicorn workers with the pages it is the floor of, and it is measured in the same run
and under the same mixed load. No authentication: the user is fixed by the URL (bench only, never in the app).
"""

from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app

from portal import calendar
from portal.extensions import db

bp = Blueprint("floor", __name__, url_prefix="/_floor")

OPEN = ("submitted", "verifying", "awaiting_documents", "in_service")
_OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN)

#: the first page of "全部" for one coordinator: running clocks nearest first, with the case and the insured
QUEUE_ROWS = f"""
SELECT c.id, c.ref, c.submitted_at, c.line_code, c.status, c.city, c.country, c.assignee_id,
       i.name, i.id_number, k.due_date, k.kind
FROM sla_clock k JOIN "case" c ON c.id = k.case_id JOIN insured_person i ON i.id = c.insured_id
WHERE k.state = 'running' AND k.deadline IS NOT NULL AND c.status IN ({_OPEN_SQL})
ORDER BY k.deadline, k.id LIMIT 50
"""
#: the four tab counts, from the same counter rows the portal keeps
QUEUE_COUNTS = f"""
SELECT COALESCE(SUM(CASE WHEN assignee_id = :me AND status IN ({_OPEN_SQL}) THEN n ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN assignee_id = 0 AND status IN ({_OPEN_SQL}) THEN n ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN status = 'awaiting_documents' THEN n ELSE 0 END), 0),
       COALESCE(SUM(n), 0)
FROM queue_count
"""
HOME_PERSON = """
SELECT i.name, i.id_number, p.policy_no, p.start_date, p.end_date, pr.name
FROM insured_person i JOIN policy p ON p.id = i.policy_id JOIN product pr ON pr.id = p.product_id WHERE i.id = :who
"""
HOME_BALANCES = """
SELECT l.short_name, l.entitlement, COALESCE(e.reserved + e.consumed, 0)
FROM insured_person i JOIN policy p ON p.id = i.policy_id JOIN service_line l ON l.product_id = p.product_id
LEFT JOIN entitlement e ON e.insured_id = i.id AND e.line_code = l.code AND e.year_start <= :today
     AND e.year_end >= :today
WHERE i.id = :who ORDER BY l.position
"""
HOME_CASES = """
SELECT c.id, c.ref, c.line_code, c.status, c.submitted_at,
       (SELECT k.due_date FROM sla_clock k WHERE k.case_id = c.id AND k.state = 'running' ORDER BY k.deadline LIMIT 1)
FROM "case" c WHERE c.insured_id = :who ORDER BY c.submitted_at DESC, c.id DESC LIMIT 10
"""

QUEUE_TEMPLATE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>工作队列</title></head><body>
<nav>{% for label, n in counts %}<a href="?tab={{ loop.index }}">{{ label }} <span>{{ n }}</span></a>{% endfor %}</nav>
<table><tbody>{% for r in rows %}<tr><td>{{ r[10] }}</td><td><a href="/staff/cases/{{ r[0] }}">{{ r[1] }}</a>
{{ r[2] }}</td><td>{{ r[8] }} {{ r[9][:6] }}********{{ r[9][-4:] }}</td><td>{{ r[3] }}</td><td>{{ r[4] }}</td>
<td>{{ r[5] or r[6] or "—" }}</td><td>{{ r[7] or "未分配" }}</td><td>{{ r[11] }}</td></tr>{% endfor %}</tbody></table>
</body></html>"""
HOME_TEMPLATE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>我的服务</title></head><body>
<h1>我的服务</h1><p>您好，{{ person[0] }}。</p><dl><dt>产品</dt><dd>{{ person[5] }}</dd>
<dt>保单号</dt><dd>{{ person[2] }}</dd>
<dt>被保险人</dt><dd>{{ person[0] }}（{{ person[1][:6] }}********{{ person[1][-4:] }}）</dd>
<dt>保障期间</dt><dd>{{ person[3] }} 至 {{ person[4] }}</dd></dl>
<ul>{% for b in balances %}<li>{{ b[0] }} 剩余 {{ b[1] - b[2] }}/{{ b[1] }} 次</li>{% endfor %}</ul>
<ul>{% for c in cases %}<li><a href="/me/cases/{{ c[0] }}">{{ c[1] }}</a> {{ c[2] }} {{ c[3] }} {{ c[4] }}
{% if c[5] %}我们将最晚于 {{ c[5] }} 前为您安排{% endif %}</li>{% endfor %}</ul></body></html>"""


_compiled: dict = {}


def _render(source: str, **context) -> str:
    """A bare template, compiled once per process (as the portal's templates are)."""
    template = _compiled.get(source)
    if template is None:
        template = _compiled[source] = current_app.jinja_env.from_string(source)
    return template.render(**context)


def _rows(sql: str, **params) -> list:
    return db.session.execute(db.text(sql), params).all()


@bp.get("/queue/<int:user_id>")
def queue(user_id):
    """The queue's first page for one coordinator: two statements, a bare template."""
    rows = _rows(QUEUE_ROWS)
    counts = _rows(QUEUE_COUNTS, me=user_id)[0]
    labels = ("我的", "未分配", "等待客户", "全部")
    return _render(QUEUE_TEMPLATE, rows=rows, counts=list(zip(labels, counts, strict=True)))


@bp.get("/home/<int:insured_id>")
def home(insured_id):
    """我的服务 for one insured person: three statements, a bare template."""
    today = calendar.business_today(datetime.now(UTC) + timedelta(0))
    person = _rows(HOME_PERSON, who=insured_id)[0]
    balances = _rows(HOME_BALANCES, who=insured_id, today=today)
    cases = _rows(HOME_CASES, who=insured_id)
    return _render(HOME_TEMPLATE, person=person, balances=balances, cases=cases)


def attach(app) -> None:
    """Mount the floor pages (and exempt them from the login gates: they have none) on a benchmark app."""
    app.register_blueprint(bp)
