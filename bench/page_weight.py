"""Page weight of the insured portal on a first visit (empty cache): each page plus its CSS and JS, as sent.

Serves the real app (demo data, temporary SQLite database) with werkzeug on a loopback port, logs in
as the demo insured through the login form with urllib, and fetches each page and every stylesheet
and script it links, asking for brotli or gzip as a browser does. The app compresses its pages
(Flask-Compress) and WhiteNoise serves precompressed static files; should a response come back
uncompressed, its gzip size (level 6) is counted instead and the output says so.
Budget (issue 20): home and apply pages ≤ 30 KB each, htmx included (issue 4 had 50 KB).

Run from the repository root: ``python -m bench.page_weight`` (or call ``run()``).
"""

from __future__ import annotations

import gzip
import http.cookiejar
import logging
import re
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import brotli

BUDGET = 30 * 1024
USERNAME, PASSWORD = "wangjianguo", "demo1234"
#: (label, path) of the pages under budget; the apply form of the line with the most questions is included
PAGES = [
    ("我的服务", "/me/"),
    ("申请服务", "/me/apply"),
    ("申请表·门诊绿通", "/me/apply/green_outpatient"),
    ("申请表·住院绿通", "/me/apply/green_inpatient"),
]
_ASSET = re.compile(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"]+)"')


@contextmanager
def _served_app():
    """The portal with demo data on a temporary SQLite database, served from a thread."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from portal import create_app
    from portal.domain.demo import load_demo_data
    from portal.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "UPLOAD_DIR": f"{tmp}/uploads",
                          "SECRET_KEY": "bench", "MAIL_BACKEND": "none", "TESTING": False})
        with app.app_context():
            upgrade()
            load_demo_data(history=False)
            db.session.commit()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log in the table
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=5)
            with app.app_context():
                db.engine.dispose()


class _Browser:
    """A cookie-keeping urllib client that asks for gzip like a browser does."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def fetch(self, path: str, data: dict | None = None) -> dict:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(urllib.parse.urljoin(self.base, path), data=body,
                                         headers={"Accept-Encoding": "br, gzip", "User-Agent": "page-weight-bench"})
        with self.opener.open(request) as response:
            raw = response.read()
            headers = "".join(f"{k}: {v}\r\n" for k, v in response.headers.items())
            encoding = response.headers.get("Content-Encoding")
            status = response.status
        encoded = encoding in ("gzip", "br")
        plain = gzip.decompress(raw) if encoding == "gzip" else brotli.decompress(raw) if encoding == "br" else raw
        return {"path": path, "status": status, "raw": len(plain), "served_gzip": encoded,
                "gzip": len(raw) if encoded else len(gzip.compress(plain, 6)),
                "headers": len(f"HTTP/1.1 {status}\r\n{headers}\r\n".encode()), "text": plain}

    def login(self) -> None:
        page = self.fetch("/login")["text"].decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        landed = self.fetch("/login", {"csrf_token": token, "username": USERNAME, "password": PASSWORD})
        if "我的服务" not in landed["text"].decode():
            raise RuntimeError("could not log in as the demo insured")


def _first_load(browser: _Browser, path: str) -> dict:
    """The page and each stylesheet and script it links, as a browser with an empty cache fetches them."""
    page = browser.fetch(path)
    assets = dict.fromkeys(_ASSET.findall(page["text"].decode()))
    parts = [page] + [browser.fetch(urllib.parse.urlsplit(asset).path) for asset in assets]
    for part in parts:
        if part["status"] != 200:
            raise RuntimeError(f"{part['path']} answered {part['status']}")
    gzip_bytes = sum(p["gzip"] for p in parts)
    header_bytes = sum(p["headers"] for p in parts)
    return {
        "resources": {p["path"]: {"raw": p["raw"], "gzip": p["gzip"]} for p in parts},
        "gzip_bytes": gzip_bytes,
        "header_bytes": header_bytes,
        "transfer_bytes": gzip_bytes + header_bytes,
        "within_budget": gzip_bytes + header_bytes <= BUDGET,
        "served_gzip": all(p["served_gzip"] for p in parts),
    }


def run() -> dict:
    """Measure every page of PAGES; returns per-page figures, the budget and how gzip was measured."""
    with _served_app() as base:
        browser = _Browser(base)
        browser.login()
        pages = {path: {"label": label, **_first_load(browser, path)} for label, path in PAGES}
    served = all(p["served_gzip"] for p in pages.values())
    return {
        "budget_bytes": BUDGET,
        "gzip": "as served (brotli or gzip)" if served else
                "computed with gzip.compress(level 6): werkzeug does not compress",
        "pages": pages,
        "all_within_budget": all(p["within_budget"] for p in pages.values()),
    }


def main() -> int:
    """Print a table of bytes per page and resource; exit 1 when a page is over budget."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    result = run()
    print(f"Insured portal, first load (empty cache). gzip sizes {result['gzip']}.")
    print(f"{'resource':<44}{'raw B':>10}{'sent B':>10}")
    for path, page in result["pages"].items():
        print(f"\n{page['label']}  {path}")
        for resource, size in page["resources"].items():
            print(f"  {resource:<42}{size['raw']:>10,}{size['gzip']:>10,}")
        verdict = "OK" if page["within_budget"] else "OVER BUDGET"
        print(f"  {'total (gzip bodies + ' + format(page['header_bytes'], ',') + ' B headers)':<42}"
              f"{'':>10}{page['transfer_bytes']:>10,}  = {page['transfer_bytes'] / 1024:.1f} KB "
              f"of {result['budget_bytes'] // 1024} KB  {verdict}")
    return 0 if result["all_within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
