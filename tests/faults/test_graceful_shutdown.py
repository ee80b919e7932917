"""Issue 18 item 9: on SIGTERM gunicorn (gthread, graceful_timeout) finishes every request it has accepted —
none is reset — and exits; what it had not accepted yet is reset, and the page sends it again, once."""

import contextlib
import os
import re
import signal
import threading
from pathlib import Path

import pytest
from harness import PASSWORD, Client, Gunicorn, in_threads, wait_until
from helpers import PDF
from playwright.sync_api import expect
from world import add_cases, rows, scalar


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


def _accept_queue(port: int) -> int:
    """Connections waiting in the accept queue of the socket listening on 127.0.0.1:`port` (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":  # LISTEN: rx_queue is the accept queue
            return int(fields[4].split(":")[1], 16)
    return 0


@pytest.mark.browser
def test_uploads_reset_by_a_stopping_gunicorn_are_sent_again_by_the_page_and_land_once(database, browser, tmp_path):
    """The issue's case: a worker with requests queued but not accepted is stopped (SIGTERM); they are reset.
    A second gunicorn shares the port (--reuse-port, as a restart beside the old one); each page's upload form
    sends its request again (portal/static/js/submit-once.js) with the same idempotency key: it lands once."""
    db = database
    ids = add_cases(db.app, 3, insured="wangjianguo")
    (tmp_path / "病历.pdf").write_bytes(PDF)
    # keep-alive 0: each request on a connection of its own (a request on a kept-alive one would be answered)
    first = Gunicorn(db.env(), db.logs / "first.log", workers=1, args=("--reuse-port", "--keep-alive", "0"))
    second, worker = None, None
    context = browser.new_context(base_url=first.base, locale="zh-CN")
    context.set_default_timeout(20_000)
    try:
        login = context.new_page()
        login.goto("/login")
        login.get_by_label("用户名").fill("wangjianguo")
        login.get_by_label("密码").fill(PASSWORD)
        login.get_by_role("button", name="登录").click()
        login.wait_for_url(re.compile(r"/me/"))
        pages = []
        for case_id in ids:
            page = context.new_page()
            page.goto(f"/me/cases/{case_id}/documents")
            page.get_by_label("资料类型").select_option(label="门诊病历")
            page.get_by_label("选择文件（可多选）").set_input_files(str(tmp_path / "病历.pdf"))
            pages.append(page)
        posts = []
        context.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        [worker] = first.children()
        os.kill(worker, signal.SIGSTOP)  # the worker accepts nothing more: its next requests wait in the queue
        for page in pages:
            page.get_by_role("button", name="上传").click()
        wait_until(lambda: _accept_queue(first.port) >= len(pages), timeout=30, what="every upload queued")
        second = Gunicorn(db.env(), db.logs / "second.log", workers=1, port=first.port, args=("--reuse-port",))
        first.signal(signal.SIGTERM)
        wait_until(lambda: "Handling signal: term" in first.output(), timeout=30, what="gunicorn stopping")
        os.kill(worker, signal.SIGCONT)  # it stops gracefully; what it never accepted is reset
        for page in pages:
            expect(page.get_by_role("status")).to_contain_text("已上传 1 个文件", timeout=20_000)
        assert first.popen.wait(60) == 0
    finally:
        context.close()
        if worker:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker, signal.SIGCONT)  # a failure above must not leave it stopped
        first.stop()
        if second:
            second.stop()
    assert len(posts) > len(pages)  # some were reset and sent again
    assert rows(db.app, "SELECT case_id, count(*) FROM document WHERE case_id >= :first GROUP BY case_id "
                        "ORDER BY case_id", first=ids[0]) == [(case_id, 1) for case_id in ids]
