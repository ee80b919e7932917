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
        coord = db.session.scalar(select(User.id).where(User.username == "coord1"))
        found = [("coordinator queue", "coord1", url_for("coordinator.queue", tab="all")),
                 ("auditor dashboard", "auditor", url_for("auditor.dashboard")),
                 ("insured home", "wangjianguo", url_for("insured.home"))]
        for label, username, endpoint in (("coordinator case", "supervisor", "coordinator.case_detail"),
                                          ("auditor case", "auditor", "auditor.case_detail"),
                                          ("insured case", "wangjianguo", "insured.case_detail")):
            if case_id and endpoint in app.view_functions:
                found.append((label, username, url_for(endpoint, case_id=case_id)))
        # the floor of the two pages issue 20 measures against (bench/floor.py): same content, fewest statements
        # logged in as the pages are, so the floors decode the same session cookie (they read and check the
        # user row themselves, by the id in the URL)
        found += [("coordinator queue (htmx swap)", "coord1", url_for("coordinator.queue", tab="all") + "#htmx"),
                  ("floor: coordinator queue", "coord1", f"/_floor/queue/{coord}"),
                  ("floor: coordinator queue (htmx swap)", "coord1", f"/_floor/queue/{coord}#htmx"),
                  ("floor: insured home", "wangjianguo", f"/_floor/home/{insured.insured_id}")]
        return found


#: page → its floor (bench/floor.py), reported as a ratio
FLOORS = {"coordinator queue": "floor: coordinator queue",
          "coordinator queue (htmx swap)": "floor: coordinator queue (htmx swap)",
          "insured home": "floor: insured home"}


def run(database_url: str, *, timed: int = 21) -> dict[str, dict]:
    """Statements executed by one GET of each page (after one warm-up request), and the median in-process
    time of `timed` more GETs (no HTTP, no gunicorn: what the page itself costs).

    Requests run outside any app context of ours, so each gets its own session and `g`, as in production.
    """
    from .floor import attach

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    attach(app)
    with app.app_context():
        targets = pages(app)
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: statements.append(sql))
    figures: dict[str, dict] = {}
    prepared = []
    for label, username, path in targets:
        client = app.test_client()
        if username is not None:  # through the login form: sessions are server-side records (issue 13)
            login = client.post("/login", data={"username": username, "password": "demo1234"})
            if login.status_code not in (302, 303):
                raise RuntimeError(f"bench login as {username} failed: {login.status_code}")
        headers = {"HX-Request": "true"} if path.endswith("#htmx") else {}
        path = path.removesuffix("#htmx")
        client.get(path, headers=headers)  # warm-up: first-request caches
        statements.clear()
        response = client.get(path, headers=headers)
        figures[label] = {"statements": len(statements) if response.status_code == 200 else -response.status_code}
        prepared.append((label, client, path, headers))
    # round robin: each page and its floor are timed side by side, so a load spike on the shared machine hits
    # both alike instead of one page's whole series
    times: dict[str, list[float]] = {label: [] for label, *_ in prepared}
    bare_times = []
    from .bare_app import app as bare_app

    bare_client = bare_app.test_client()
    bare_client.get("/")
    for _ in range(timed):
        for label, client, path, headers in prepared:
            started = time.perf_counter()
            client.get(path, headers=headers)
            times[label].append(time.perf_counter() - started)
        started = time.perf_counter()
        bare_client.get("/")
        bare_times.append(time.perf_counter() - started)
    for label, values in times.items():
        figures[label]["ms"] = round(statistics.median(values) * 1000, 2)
    engine.dispose()
    bare = statistics.median(bare_times) * 1000
    for label, f in figures.items():
        f["bare_ratio"] = round(f["ms"] / bare, 1)
        if label in FLOORS and FLOORS[label] in figures:
            f["floor_ms"] = figures[FLOORS[label]]["ms"]
            f["floor_ratio"] = round(f["ms"] / max(f["floor_ms"], 0.001), 2)
    figures["bare"] = {"statements": 0, "ms": round(bare, 3), "bare_ratio": 1.0}
    return figures
