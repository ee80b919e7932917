"""Real-browser fixtures: the portal served from a thread, Debian Chromium driven by Playwright.

The server shares the test database with the `app` fixture: a test seeds rows through the domain,
commits, then drives the browser. CSRF is ON here, as in production.
"""

import re
import threading
from pathlib import Path

import pytest
from helpers import test_config
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def live_app(database_url):
    """The app behind the live server (CSRF on); its upload folder follows each test's `app`."""
    return create_app({**test_config(), "SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": True})


@pytest.fixture(scope="session")
def _live_server_url(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with live_app.app_context():
        db.engine.dispose()  # else psycopg warns about connections left open (an error under -W error)


@pytest.fixture
def live_server(app, live_app, _live_server_url):
    """Base URL of the portal served on a free loopback port; files seeded by the test are served too."""
    live_app.config["UPLOAD_DIR"] = app.config["UPLOAD_DIR"]
    return _live_server_url


@pytest.fixture
def phone_page(app, browser, live_server):
    """A phone: 390×844, touch, mobile viewport, Chinese locale."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desk_page(app, browser, live_server):
    """A laptop: 1366×768."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=live_server)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_login():
    """Log in through the real login form and wait for the role's start page."""

    def login(page, username, password="demo1234", *, consent=True):
        page.goto("/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(r"/(me|staff|audit)/"))
        if consent and "/me/consent" in page.url:
            # an insured who has not consented yet (the demo people) meets the consent gate first (SPEC §7)
            page.get_by_label(re.compile("单独同意")).check()
            page.get_by_role("button", name="同意并继续").click()
            page.wait_for_url(re.compile(r"/me/(?!consent)"))
        return page

    return login


@pytest.fixture
def shot(request):
    """shot(page, "01-home") saves test-artifacts/screenshots/<test>/01-home.png (full page)."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe_violations():
    """Serious and critical axe-core violations of the current page (axe-core from the npm registry)."""

    def run(page):
        # evaluate() goes through DevTools, so the page's CSP (script-src 'self') stays on while axe runs
        page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")
        ]

    return run
