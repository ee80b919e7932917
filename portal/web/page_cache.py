"""Whole-page cache for the busiest GET pages: kept per process until the next committed write.

Every Session transaction that writes bumps one counter (`portal.transaction.write_generation`); the portal
writes only through the Session. A page is kept for one user, one session, one URL and one set of htmx
headers, and served again only while that counter is unchanged and for at most PAGE_CACHE_SECONDS. A hit
therefore never shows data older than the last commit of any process; what depends on the clock alone
(days left, "due today") is at most that many seconds old. SQL run outside the Session (a migration, a fix
in psql) does not bump the counter: the workers restart after a migration anyway, which empties the cache.

Hits are answered by a WSGI middleware in front of Flask: it checks the signed session cookie with Flask's
own serializer, reads the counter and sends the stored bytes — no request context, user load, role gate or
render. That is sound because an entry is only made by a request that passed the gate as this user, and
the user's row (role, active) can only change by a commit, which changes the counter. Pages showing a
flashed message, responses that changed the session (a first visit creating the CSRF token, a login) or
set any cookie, and anything but a 200 are never kept; only views marked with @cached_page are. The counter
is global: any write anywhere (a lease renewal, an audit-log entry) empties every page at once.
"""

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, current_app, g, request, session
from itsdangerous import BadSignature
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_cookie

from ..extensions import db
from ..transaction import write_generation

# everything wants_fragment() and the views read from the request besides the URL and the session
HX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST", "HTTP_HX_TARGET")
_CANDIDATE, _KEEP = "portal.page_cache.candidate", "portal.page_cache.keep"


def cached_page(view):
    """Mark a GET view whose page is a function of the database, the user and the URL (no side effects)."""
    view.page_cache = True
    return view


def keep_until(deadline: float) -> None:
    """Called by a view whose page shows data that goes stale on its own at `deadline` (time.monotonic())."""
    g.page_cache_deadline = min(deadline, g.get("page_cache_deadline", deadline))


@dataclass(frozen=True, slots=True)
class Entry:
    generation: int
    expires: float
    headers: list[tuple[str, str]]
    body: bytes


class PageCache:
    """A bounded LRU of finished responses (bodies are ~5–60 KB: 500 of them stay under 30 MB)."""

    def __init__(self, size: int):
        self.size = size
        self.entries: OrderedDict[tuple, Entry] = OrderedDict()
        self._lock = threading.Lock()  # `flask run` and gunicorn --threads serve requests in threads

    def get(self, key: tuple, generation: int, now: float) -> Entry | None:
        with self._lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry.generation != generation or entry.expires <= now:
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Entry) -> None:
        with self._lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


class PageCacheMiddleware:
    """Answers fresh hits before Flask; on a miss, reads the counter first and keeps what Flask allows."""

    def __init__(self, app: Flask):
        self.app, self.wsgi_app = app, app.wsgi_app
        self.cache = PageCache(app.config["PAGE_CACHE_ENTRIES"])
        self.seconds = app.config["PAGE_CACHE_SECONDS"]
        self._serializer = None
        with app.app_context():
            self.engine = db.engine

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        now = time.monotonic()
        try:
            generation = write_generation(self.engine)
        except Exception:  # any driver error: Flask answers, with its error page, as without the cache
            return self.wsgi_app(environ, start_response)
        entry = self.cache.get(key, generation, now)
        if entry is not None:
            start_response("200 OK", entry.headers)
            return [entry.body]
        environ[_CANDIDATE] = True
        sent = {}

        def capture(status, headers, exc_info=None):
            sent.update(status=status, headers=headers)
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        expires = environ.get(_KEEP)
        # the final headers decide, after every hook: a response that sets a cookie is never replayed
        if (expires is None or not sent.get("status", "").startswith("200 ")
                or any(name.lower() == "set-cookie" for name, _ in sent.get("headers", ()))):
            return body
        try:
            data = b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()
        self.cache.put(key, Entry(generation, min(expires, now + self.seconds), list(sent["headers"]), data))
        return [data]

    def _key(self, environ) -> tuple | None:
        if environ.get("REQUEST_METHOD") != "GET" or not self._marked(environ):
            return None
        name = self.app.config["SESSION_COOKIE_NAME"]
        cookie = parse_cookie(environ).get(name)
        if not cookie:
            return None
        try:
            # Flask's own check of the signed cookie, expiry included (SecureCookieSessionInterface.open_session)
            data = self.serializer.loads(cookie, max_age=int(self.app.permanent_session_lifetime.total_seconds()))
        except BadSignature:
            return None
        user_id, token = data.get("_user_id"), data.get("csrf_token")
        if not user_id or not token or "_flashes" in data:
            return None
        return (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                tuple(environ.get(name) for name in HX_HEADERS), user_id, token)

    def _marked(self, environ) -> bool:
        """The URL routes to a view marked @cached_page (static files and every other page: no work here)."""
        try:
            endpoint, _ = self.app.url_map.bind_to_environ(environ).match(method="GET")
        except HTTPException:  # not found, redirect, method not allowed: Flask answers
            return False
        return getattr(self.app.view_functions.get(endpoint), "page_cache", False)

    @property
    def serializer(self):
        # Flask builds one per request (two HMAC key derivations); the secret does not change while serving
        if self._serializer is None:
            self._serializer = self.app.session_interface.get_signing_serializer(self.app)
        return self._serializer


def init_page_cache(app: Flask) -> None:
    """Put the middleware in front of the app; PAGE_CACHE_SECONDS=0 turns the cache off."""
    if app.config["PAGE_CACHE_SECONDS"] <= 0:
        return
    middleware = PageCacheMiddleware(app)
    app.extensions["page_cache"] = middleware.cache
    app.wsgi_app = middleware
    app.after_request(_allow_keeping)


def _allow_keeping(response):
    """Tell the middleware this response may be kept, and until when at most (it checks the final status and
    headers itself, after every other hook)."""
    environ = request.environ
    if (environ.get(_CANDIDATE) and not response.direct_passthrough
            and not session.modified
            and getattr(current_app.view_functions.get(request.endpoint), "page_cache", False)):
        environ[_KEEP] = g.get("page_cache_deadline", float("inf"))
    return response
