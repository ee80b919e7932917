"""Serve the portal and a bare Flask app with gunicorn (2 workers each) and load both with wrk.

Same tool, same settings, same run: p50/p95 of each page are reported as ratios of the bare page.
Every target gets the same unmeasured warm-up first (imports, compiled templates, connections, per-process
caches: the steady state a server is in), then the measured run. wrk's timeout is raised to 30 s so a
slow page is measured as slow instead of dropped from the histogram as a timeout; any error or non-2xx
answer is reported and fails the row.
"""

import contextlib
import html
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "portal-bench"
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT p50=%d p95=%d p99=%d max=%d requests=%d errors=%d non2xx=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, summary.requests,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(target: str, env: dict, workers: int = 2):
    """gunicorn on a free loopback port; yields the base URL and stops it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", target], cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + ("/" if target.startswith("bench.bare") else "/healthz"), timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn {target} did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def session_cookie(base: str, username: str, password: str) -> str:
    """Log in through the real form (CSRF included) and return the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    # the same client as wrk: Flask-Login marks a session whose user agent changed as not fresh (and rewrites
    # the cookie on every request, which wrk would never store)
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(base + "/login").read().decode()
    token = html.unescape(re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1))
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": password}).encode()
    opener.open(base + "/login", data=body)
    return "; ".join(f"{c.name}={c.value}" for c in jar)


WARM_UP_SECONDS = 2


def wrk(url: str, *, cookie: str | None = None, seconds: int = 10, connections: int = 16) -> dict:
    """One wrk run; latencies in milliseconds."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (make bench installs it as root)")
    script = ROOT / "bench" / "out" / "percentiles.lua"
    script.parent.mkdir(exist_ok=True)
    script.write_text(LUA)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), url]
    command[1:1] = ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"RESULT p50=(\d+) p95=(\d+) p99=(\d+) max=(\d+) requests=(\d+) errors=(\d+) non2xx=(\d+)",
                      out)
    p50, p95, p99, worst, requests, errors, non2xx = map(int, match.groups())
    return {"p50_ms": p50 / 1000, "p95_ms": p95 / 1000, "p99_ms": p99 / 1000, "max_ms": worst / 1000,
            "requests": requests, "errors": errors, "non2xx": non2xx, "rps": round(requests / seconds),
            "seconds": seconds, "clean": requests > 0 and errors == 0 and non2xx == 0}


def measured(url: str, *, cookie: str | None = None, seconds: int = 10) -> dict:
    """The warm-up every target gets, then the measured run."""
    wrk(url, cookie=cookie, seconds=WARM_UP_SECONDS)
    return wrk(url, cookie=cookie, seconds=seconds)


def run(database_url: str, pages: dict[str, tuple[str, str | None]], *, seconds: int = 10) -> dict:
    """pages: label → (path, username or None). Closed loop (wrk, 16 connections): per page its figures and
    ratios to the bare page — the saturation table."""
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "bench-secret", "SCHEDULER_IN_PROCESS": "0",
           "MAIL_BACKEND": "none", "PYTHONPATH": str(ROOT)}
    results = {}
    with gunicorn("bench.bare_app:app", {"PYTHONPATH": str(ROOT)}) as bare:
        results["bare"] = measured(bare + "/", seconds=seconds)
    for suffix, extra in (("", {}),):
        with gunicorn("bench.wsgi_bench:app", {**env, **extra}) as base:
            for label, (path, username) in pages.items():
                cookie = session_cookie(base, username, "demo1234") if username else None
                figures = measured(base + path, cookie=cookie, seconds=seconds)
                figures["p50_ratio"] = round(figures["p50_ms"] / max(results["bare"]["p50_ms"], 0.001), 2)
                figures["p95_ratio"] = round(figures["p95_ms"] / max(results["bare"]["p95_ms"], 0.001), 2)
                results[label + suffix] = figures
    # the bare page again at the end: drift over the run shows in the two bare figures
    with gunicorn("bench.bare_app:app", {"PYTHONPATH": str(ROOT)}) as bare:
        results["bare_after"] = measured(bare + "/", seconds=seconds)
    return results


if __name__ == "__main__":
    print(run(sys.argv[1], {"login": ("/login", "coord1")}, seconds=5))


def prepare_mix(database_url: str) -> dict:
    """The ids the mixed load uses; the demo insured's cases are reopened so that uploads are allowed."""
    from sqlalchemy import select, update

    from portal import create_app
    from portal.domain import queue_counts
    from portal.extensions import db
    from portal.models import OPEN_STATUSES, Case, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        insured = db.session.scalar(select(User.insured_id).where(User.username == "wangjianguo"))
        db.session.execute(update(Case).where(Case.insured_id == insured)
                           .values(status="in_service", closed_at=None))
        queue_counts.rebuild(db.session)
        db.session.commit()
        ids = {
            "coord1": db.session.scalar(select(User.id).where(User.username == "coord1")),
            "insured": insured,
            "insured_cases": list(db.session.scalars(select(Case.id).where(Case.insured_id == insured))),
            "open_cases": list(db.session.scalars(select(Case.id).where(Case.status.in_(OPEN_STATUSES))
                                                  .order_by(Case.id).limit(300))),
        }
        ids["insured_open_cases"] = ids["insured_cases"]
        db.engine.dispose()
    return ids


def mixed(database_url: str, rates: tuple[float, ...], *, seconds: int = 60, workers: int = 2) -> dict:
    """The open-loop mix (bench/mixed_load.py) at each write rate, through gunicorn as deployed."""
    import tempfile

    from . import mixed_load

    ids = prepare_mix(database_url)
    results = {}
    with tempfile.TemporaryDirectory() as uploads:
        env = {"DATABASE_URL": database_url, "SECRET_KEY": "bench-secret", "SCHEDULER_IN_PROCESS": "0",
               "MAIL_BACKEND": "none", "PYTHONPATH": str(ROOT), "UPLOAD_DIR": uploads}
        with gunicorn("bench.wsgi_bench:app", env, workers=workers) as base:
            cookies = {name: session_cookie(base, name, "demo1234") for name in ("coord1", "coord2", "supervisor")}
            cookies["insured"] = session_cookie(base, "wangjianguo", "demo1234")
            mixed_load.run(base, cookies, ids, seconds=5, write_rate=1, user_agent=USER_AGENT)  # warm-up
            for rate in rates:
                results[rate] = mixed_load.run(base, cookies, ids, seconds=seconds, write_rate=rate,
                                               user_agent=USER_AGENT)
    return results
