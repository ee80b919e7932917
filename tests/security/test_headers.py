"""Security headers on every page of every audience, pages free of inline script and style, and the
session cookie's flags (Secure when APP_ENV=production)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_authorization_matrix import MATRIX, RIGHT_ROLE, build_path, client_for, routes, variants

ROOT = Path(__file__).resolve().parents[2]
#: markup the CSP would silently break: inline script, inline style, event-handler attributes
INLINE = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "style= attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "on*= attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"<[a-z][^>]*\shx-on", re.I),
    "javascript: URL": re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I),
}


def directives(csp: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in csp.split(";") if part.strip()}


def _pages(app, world):
    """(role, path) for every GET route, as each role it is meant for, with real arguments."""
    pages = []
    for rule in routes(app):
        if "GET" not in rule.methods:
            continue
        entry = MATRIX[rule.endpoint]
        roles = {RIGHT_ROLE[entry.audience]} | ({"supervisor"} if entry.audience == "staff" else set())
        for role in sorted(roles):
            for _, args in [v for v in variants(entry.object, world, role) if v[0] == "own"][:2]:
                query = "?" + "&".join(f"{k}={v}" for k, v in entry.query.items()) if entry.query else ""
                pages.append((rule.endpoint, role, build_path(app, rule, args) + query))
    return pages


def _problems(response) -> list[str]:
    headers, found = response.headers, []
    csp = directives(headers.get("Content-Security-Policy", ""))
    script = csp.get("script-src") or csp.get("default-src", "")
    if not script or "'unsafe-inline'" in script or "'unsafe-eval'" in script:
        found.append(f"script-src {script!r}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no nosniff")
    if headers.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin",
                                              "strict-origin-when-cross-origin"):
        found.append(f"Referrer-Policy {headers.get('Referrer-Policy')!r}")
    if response.mimetype == "text/html":
        if csp.get("frame-ancestors") != "frame-ancestors 'none'":
            found.append(f"frame-ancestors {csp.get('frame-ancestors')!r}")
        if "'unsafe-inline'" in csp.get("style-src", ""):
            found.append("style-src allows inline")
        html = response.get_data(as_text=True)
        found += [f"{what}: {m.group(0)[:80]}" for what, pattern in INLINE.items() if (m := pattern.search(html))]
    elif response.status_code == 200 and response.mimetype != "application/json":
        # a stored file or an export: a download or a sandboxed document, never a page of this site
        sandboxed = "sandbox" in csp
        attachment = headers.get("Content-Disposition", "").startswith("attachment")
        if not (sandboxed or attachment):
            found.append(f"{response.mimetype} neither sandboxed nor an attachment")
    return found


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_every_page_carries_the_security_headers_and_no_inline_script(app, login_as, world, htmx):
    pages = _pages(app, world)
    assert len(pages) >= 40
    bad = {}
    for endpoint, role, path in pages:
        client = client_for(app, login_as, world, role)
        with client.get(path, headers={"HX-Request": "true"} if htmx else {}) as response:
            assert response.status_code in (200, 302), (path, role, response.status_code)
            if problems := _problems(response):
                bad[f"{endpoint} {path} as {role}"] = problems
    assert bad == {}


@pytest.mark.parametrize("path", ["/login", "/no-such-page", "/me/", "/static/favicon.svg"])
def test_error_pages_redirects_and_static_files_carry_them_too(client, path):
    with client.get(path) as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"]


def test_the_session_cookie_is_httponly_and_samesite_lax(app, world):
    from security_world import PASSWORD

    response = app.test_client().post("/login", data={"username": world.insured_a.username, "password": PASSWORD})
    assert response.status_code == 303
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    flags = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")}
    assert "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"


PRODUCTION_PROBE = """
import json
from portal import create_app
app = create_app()
response = app.test_client().get("/login")
print(json.dumps({"cookies": response.headers.getlist("Set-Cookie"), "status": response.status_code,
                  "hsts": response.headers.get("Strict-Transport-Security"),
                  "debug": app.debug, "csrf": app.config.get("WTF_CSRF_ENABLED", True)}))
"""


def _production(database_url, tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SESSION_COOKIE_SECURE", "FLASK_DEBUG")}
    environ.update(APP_ENV="production", DATABASE_URL=database_url, UPLOAD_DIR=str(tmp_path / "uploads"), **env)
    return subprocess.run([sys.executable, "-c", PRODUCTION_PROBE], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_in_production_the_session_cookie_is_secure(database_url, tmp_path):
    """Config is read from the environment at start-up, so a fresh process with APP_ENV=production is asked."""
    done = _production(database_url, tmp_path, SECRET_KEY="production-test-key-of-32-bytes-or-more")
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200 and not result["debug"] and result["csrf"]
    session = next(c for c in result["cookies"] if c.startswith("session="))
    flags = {part.strip().lower() for part in session.split(";")}
    assert {"secure", "httponly", "samesite=lax"} <= flags
    assert result["hsts"].startswith("max-age=31536000")


def test_production_refuses_a_weak_secret_key(database_url, tmp_path):
    done = _production(database_url, tmp_path, SECRET_KEY="x")
    assert done.returncode != 0
    assert "at least 32" in done.stderr


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_production_refuses_to_start_without_a_secret_key(database_url, tmp_path):
    done = _production(database_url, tmp_path)
    assert done.returncode != 0
    assert "SECRET_KEY must be set" in done.stderr
