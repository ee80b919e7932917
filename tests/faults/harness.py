"""Real processes for the fault suite (issue 18): a private PostgreSQL server, gunicorn, the scheduler and the
CLI on loopback, a small HTTP client, and bounded waiting. Importable as `harness` (tests/faults is on sys.path).

Every wait here is bounded in time and polls what it waits for; nothing sleeps a fixed time to "let things
settle"."""

import atexit
import contextlib
import html
import http.client
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PASSWORD = "demo1234"  # the demo logins (portal.domain.demo)
OUTAGE = "系统暂时无法访问，请稍后再试；紧急情况请致电 400-606-5033"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "a condition"):
    """Poll `predicate` until it returns something true (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def app_env(database_url: str, upload_dir: Path, **extra) -> dict:
    """The environment of a portal process (gunicorn, scheduler, CLI) run from this checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "COV_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=database_url, UPLOAD_DIR=str(upload_dir), SECRET_KEY="faults",
               MAIL_BACKEND="none", SCHEDULER_IN_PROCESS="0", PAGE_CACHE_SECONDS="0", APP_ENV="development")
    env.update({key: str(value) for key, value in extra.items()})
    return env


# ---- PostgreSQL ---------------------------------------------------------------------------------

def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


class PgServer:
    """A private, throw-away PostgreSQL cluster on 127.0.0.1 (scripts/with-postgres.sh in Python), which a test
    may stop and start again. As root it runs as the `postgres` user."""

    def __init__(self):
        self.bin = _pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (scripts/system-deps.sh installs it)")
        self.dir = Path(tempfile.mkdtemp(prefix="faults-pg-", dir="/tmp"))
        self.data, self.log = self.dir / "data", self.dir / "server.log"
        self.port = None
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        atexit.register(self.destroy)  # also when the session ends abnormally (destroy is idempotent)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=90)

    def start(self) -> None:
        """Start on the same port as before, or the first free one below the ephemeral range."""
        for _ in range(50):
            port = self.port or _free_low_port()
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                             f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                             "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200",
                             "start", check=False)
            if done.returncode == 0:
                self.port = port
                return
            if self.port is None and "already in use" in self.log.read_text(errors="replace"):
                continue
            raise RuntimeError(f"PostgreSQL did not start: {done.stdout}{done.stderr}{self.log.read_text()}")
        raise RuntimeError("no free port for PostgreSQL")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop", check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname={database}",
                             autocommit=True) as connection:
            connection.execute(sql)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _free_low_port() -> int:
    """A free port below 32768 (out of the ephemeral range, as scripts/with-postgres.sh explains)."""
    for port in range(16432, 32768, 7):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")


# ---- processes ----------------------------------------------------------------------------------

class Process:
    """A child process with its output in a log file; stopped (TERM, then KILL) at the end whatever happens."""

    def __init__(self, command: list[str], env: dict, log: Path):
        self.log_path = log
        self._log = open(log, "ab")  # noqa: SIM115  (kept open for the child's lifetime)
        self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 40) -> int | None:
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self._log.close()
        return self.popen.returncode

    def children(self) -> list[int]:
        """Direct children (gunicorn's workers)."""
        try:
            return [int(p) for p in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        except FileNotFoundError:
            return []


class Gunicorn(Process):
    """gunicorn with the project's gunicorn.conf.py on a free loopback port; waits until /healthz answers."""

    def __init__(self, env: dict, log: Path, *, workers: int = 2, threads: int | None = None,
                 port: int | None = None, args: tuple[str, ...] = ()):
        self.port = port or free_port()  # a given port: with --reuse-port, a second gunicorn beside the first
        self.base = f"http://127.0.0.1:{self.port}"
        command = [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
                   "-b", f"127.0.0.1:{self.port}", "--log-level", "info", *args]
        if threads:
            command += ["--threads", str(threads)]
        super().__init__([*command, "wsgi:app"], env, log)
        wait_until(self._up, timeout=90, interval=0.2, what=f"gunicorn on {self.base} (log: {log})")
        wait_until(lambda: len(self.children()) == workers, timeout=60, what="every gunicorn worker")

    def _up(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"gunicorn exited: {self.output()[-3000:]}")
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False


def flask(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """One `flask --app wsgi ...` command from this checkout."""
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def scheduler(env: dict, log: Path) -> Process:
    return Process([str(BIN / "flask"), "--app", "wsgi", "scheduler"], env, log)


# ---- HTTP ---------------------------------------------------------------------------------------

class Reply:
    def __init__(self, status: int, headers, body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Client:
    """A browser-like client: cookies, the CSRF token from the pages, no exception for 4xx/5xx."""

    def __init__(self, base: str, *, context: ssl.SSLContext | None = None):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect(),
                                                  urllib.request.HTTPSHandler(context=context))
        self.token = None

    def request(self, method: str, path: str, data: dict | None = None, *, headers: dict | None = None,
                timeout: float = 60) -> Reply:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=dict(headers or {}))
        if method != "GET" and self.token:
            request.add_header("X-CSRFToken", self.token)
        if method != "GET":  # as a browser does; over HTTPS Flask-WTF requires a same-origin Referer
            request.add_header("Referer", self.base + "/")
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=timeout) as response:
                reply = Reply(response.status, response.headers, response.read(), time.monotonic() - started)
        except urllib.error.HTTPError as error:
            reply = Reply(error.code, error.headers, error.read(), time.monotonic() - started)
        if match := re.search(rb'"X-CSRFToken": "([^"]+)"', reply.body):
            self.token = html.unescape(match.group(1).decode())
        return reply

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> Reply:
        return self.request("POST", path, data, **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> "Client":
        page = self.get("/login").text
        token = html.unescape(re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1))
        reply = self.post("/login", {"csrf_token": token, "username": username, "password": password})
        assert reply.status == 303, (reply.status, reply.text[:500])
        self.get(reply.headers["Location"].replace(self.base, "") or "/")  # the landing page: a fresh token
        return self


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    """A multipart/form-data body: fields {name: value}, files {name: (filename, bytes, type)}."""
    boundary = "----faults" + os.urandom(8).hex()
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, kind) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {kind}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def raw_post(port: int, path: str, body: bytes, content_type: str, *, cookie: str = "", token: str = "",
             timeout: float = 60, context: ssl.SSLContext | None = None) -> Reply:
    """One POST of a ready-made body on a connection of its own (closed afterwards); HTTPS given `context`."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context) if context \
        else http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers={"Content-Type": content_type, "Cookie": cookie,
                                                              "X-CSRFToken": token, "Referer": referer(port, context)})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read(), time.monotonic() - started)
    finally:
        connection.close()


def referer(port: int, context: ssl.SSLContext | None = None) -> str:
    """The Referer a browser sends with a form of the site on `port` (HTTPS given a context)."""
    return f"{'https' if context else 'http'}://127.0.0.1:{port}/"


def cookie_header(client: Client) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.jar)


def in_threads(functions: list, *, timeout: float = 120) -> list:
    """Run the functions at once; their results (or exceptions) in order, within `timeout` in all."""
    results: list = [None] * len(functions)

    def run(index, function):
        try:
            results[index] = function()
        except Exception as error:  # returned, so the test decides
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, f), daemon=True) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), f"threads still running after {timeout} s"
    return results
