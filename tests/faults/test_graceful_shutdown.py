"""Issue 18 item 9: on SIGTERM gunicorn (gthread, graceful_timeout) finishes every request it has accepted —
none is reset — and exits."""

import re
import signal
import threading

from harness import Client, Gunicorn, in_threads, wait_until
from world import add_cases, scalar


def _waiting_requests(db) -> int:
    with db.connect() as connection:
        return connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                                  "application_name = 'web' AND wait_event_type = 'Lock'", (db.name,)).fetchone()[0]


def test_sigterm_finishes_the_accepted_requests_before_the_workers_exit(pg_database):
    db = pg_database
    ids = add_cases(db.app, 5, assignee="supervisor")
    server = Gunicorn({**db.env(DATABASE_LOCK_TIMEOUT=60), "PGAPPNAME": "web"}, db.logs / "gunicorn.log",
                      workers=1)
    holder = db.connect()
    try:
        clients = [Client(server.base).login("supervisor") for _ in ids]
        forms = []
        for client, case_id in zip(clients, ids, strict=True):
            page = client.get(f"/staff/cases/{case_id}").text
            forms.append({"note-text": "关机前受理的备注",
                          "note-version": re.search(r'name="note-version"[^>]*value="(\d+)"', page).group(1)})
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE case_event IN SHARE MODE")  # every note is accepted, then waits here
        results = {}
        posting = threading.Thread(target=lambda: results.update(replies=in_threads(
            [lambda c=c, i=i, f=f: c.post(f"/staff/cases/{i}/actions/note", f)
             for c, i, f in zip(clients, ids, forms, strict=True)], timeout=90)), daemon=True)
        posting.start()
        wait_until(lambda: _waiting_requests(db) == len(ids), timeout=30, what="every note in flight")
        server.signal(signal.SIGTERM)  # a deploy or a stop, while they are in flight
        wait_until(lambda: "Handling signal: term" in server.output(), timeout=30, what="gunicorn stopping")
        holder.rollback()
        posting.join(90)
        replies = results["replies"]
        assert [getattr(r, "status", r) for r in replies] == [303] * len(ids)  # none reset
        assert scalar(db.app, "SELECT count(*) FROM case_event WHERE action = 'note'") == len(ids)
        assert server.popen.wait(60) == 0
    finally:
        holder.close()
        server.stop()
