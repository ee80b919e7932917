"""Issue 18 items 2 and 3: the database stopped, or a lock held past the limit, answers the self-contained
Chinese 503 page — never gunicorn's bare "Internal Server Error" — and the site recovers without a restart."""

import re

from harness import OUTAGE, Client, Gunicorn, wait_until
from world import add_cases, scalar


def _note_form(client: Client, case_id: int) -> dict:
    page = client.get(f"/staff/cases/{case_id}").text
    version = re.search(r'name="note-version"[^>]*value="(\d+)"', page).group(1)
    return {"note-text": "客户来电询问进度", "note-version": version}


def _is_outage_page(reply) -> bool:
    return (reply.status == 503 and OUTAGE in reply.text and "Internal Server Error" not in reply.text
            and "style-src 'sha256-" in reply.headers.get("Content-Security-Policy", ""))


def test_database_stopped_every_page_answers_503_in_chinese_and_recovers_by_itself(pg_database, pg_server):
    db = pg_database
    [case_id] = add_cases(db.app, 1, insured="zhangwei", assignee="coord1")
    server = Gunicorn(db.env(), db.logs / "gunicorn.log", workers=1)
    try:
        insured, coordinator = Client(server.base).login("zhangwei"), Client(server.base).login("coord1")
        supervisor, auditor = Client(server.base).login("supervisor"), Client(server.base).login("auditor")
        anonymous = Client(server.base)
        anonymous.get("/login")
        note = _note_form(coordinator, case_id)
        htmx = {"HX-Request": "true"}
        pages = [
            (insured, "GET", "/me/", None, {}), (insured, "GET", f"/me/cases/{case_id}", None, {}),
            (insured, "GET", f"/me/cases/{case_id}/documents", None, htmx),
            (coordinator, "GET", "/staff/", None, {}), (coordinator, "GET", "/staff/", None, htmx),
            (coordinator, "GET", f"/staff/cases/{case_id}", None, {}),
            (coordinator, "POST", f"/staff/cases/{case_id}/actions/note", note, {}),
            (coordinator, "POST", f"/staff/cases/{case_id}/actions/note", note, htmx),
            (supervisor, "GET", "/staff/admin/assignments", None, {}),
            (auditor, "GET", "/audit/", None, {}), (auditor, "GET", "/audit/cases", None, htmx),
            (anonymous, "POST", "/login", {"username": "coord1", "password": "demo1234"}, {}),
        ]
        for client, method, path, data, headers in pages:
            assert client.request(method, path, data, headers=headers).status in (200, 303, 409), path
        workers = sorted(server.children())

        pg_server.stop()
        for client, method, path, data, headers in pages:
            reply = client.request(method, path, data, headers=headers)
            assert _is_outage_page(reply), (method, path, reply.status, reply.text[:300])
            assert reply.headers["Retry-After"] and reply.headers["Cache-Control"] == "no-store"
            assert (reply.headers.get("HX-Refresh") == "true") is bool(headers)  # htmx reloads into the page
        health = anonymous.get("/healthz")
        assert health.status == 503 and '"database":"unreachable"' in health.text.replace(" ", "")

        pg_server.start()
        wait_until(lambda: anonymous.get("/healthz").status == 200, timeout=30, what="/healthz after the restart")
        for client, method, path, _data, headers in pages:
            if method == "GET":
                assert client.request(method, path, headers=headers).status == 200, path
        assert sorted(server.children()) == workers  # recovered without restarting a worker
        assert "Internal Server Error" not in server.output()
    finally:
        server.stop()


def test_a_lock_held_past_the_limit_answers_503_before_the_worker_timeout_and_writes_nothing(database):
    db = database
    [case_id] = add_cases(db.app, 1, assignee="supervisor")
    # the shipped limits: gunicorn's worker timeout 30 s (gunicorn.conf.py); the lock wait shortened from 10 s
    server = Gunicorn(db.env(DATABASE_LOCK_TIMEOUT=2), db.logs / "gunicorn.log", workers=1)
    holder = db.connect()
    try:
        supervisor = Client(server.base).login("supervisor")
        note = _note_form(supervisor, case_id)
        events = lambda: scalar(db.app, "SELECT count(*) FROM case_event WHERE case_id = :id", id=case_id)  # noqa: E731
        before, version = events(), scalar(db.app, 'SELECT version FROM "case" WHERE id = :id', id=case_id)
        if db.backend == "sqlite":
            holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long import or a stuck writer holds it
        else:
            holder.execute("BEGIN")
            holder.execute('SELECT id FROM "case" WHERE id = %s FOR UPDATE', (case_id,))
        reply = supervisor.post(f"/staff/cases/{case_id}/actions/note", note)
        assert _is_outage_page(reply), (reply.status, reply.text[:300])
        assert reply.seconds < 30  # answered by the request itself, not by gunicorn killing the worker
        holder.rollback()
        assert events() == before  # nothing half-written
        assert scalar(db.app, 'SELECT version FROM "case" WHERE id = :id', id=case_id) == version
        assert supervisor.post(f"/staff/cases/{case_id}/actions/note", note).status == 303  # the retry works
        assert events() == before + 1
        assert "WORKER TIMEOUT" not in server.output()
    finally:
        holder.close()
        server.stop()
