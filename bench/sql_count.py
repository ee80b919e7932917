"""SQL statements per request for the main pages, counted in-process (must not grow with N)."""

import statistics
import time

from flask import url_for
from sqlalchemy import event, select

from portal import create_app
from portal.extensions import db
from portal.models import Case, User


def pages(app) -> list[tuple[str, str, str]]:
    """(label, username, path) of the pages measured; case pages use a case of the demo insured."""
    with app.test_request_context():
        insured = db.session.scalar(select(User).where(User.username == "wangjianguo"))
        case_id = db.session.scalar(select(Case.id).where(Case.insured_id == insured.insured_id).limit(1))
        found = [("coordinator queue", "coord1", url_for("coordinator.queue")),
                 ("auditor dashboard", "auditor", url_for("auditor.dashboard")),
                 ("insured home", "wangjianguo", url_for("insured.home"))]
        for label, username, endpoint in (("coordinator case", "supervisor", "coordinator.case_detail"),
                                          ("auditor case", "auditor", "auditor.case_detail"),
                                          ("insured case", "wangjianguo", "insured.case_detail")):
            if case_id and endpoint in app.view_functions:
                found.append((label, username, url_for(endpoint, case_id=case_id)))
        return found


def run(database_url: str, *, timed: int = 5) -> dict[str, dict]:
    """Statements executed by one GET of each page (after one warm-up request), and the median in-process
    time of `timed` more GETs (no HTTP, no gunicorn: what the page itself costs).

    Requests run outside any app context of ours, so each gets its own session and `g`, as in production.
    """
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        targets = [(label, db.session.scalar(select(User.id).where(User.username == username)), path)
                   for label, username, path in pages(app)]
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    figures: dict[str, dict] = {}
    for label, user_id, path in targets:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = str(user_id)
            session["_fresh"] = True
        client.get(path)  # warm-up: first-request caches
        statements.clear()
        response = client.get(path)
        count = len(statements) if response.status_code == 200 else -response.status_code
        times = []
        for _ in range(timed):
            started = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - started)
        figures[label] = {"statements": count, "ms": round(statistics.median(times) * 1000, 1)}
    engine.dispose()
    return figures
