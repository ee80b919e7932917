"""Open-loop mixed load through gunicorn (issue 20 item 5): the headline of `make bench`.

Users arrive on their own clocks, whatever the server's speed (Poisson arrivals, as real people do), so a
slow answer does not slow the load down and hide itself (no coordinated omission): each latency is measured
from the moment the request was due to the moment its answer was read.

- 40 coordinators, each viewing the queue (70%) or a case (30%) about once every 5 s;
- 100 insured people, each viewing 我的服务 (60%) or a case (40%) about once every 10 s;
- writes at WRITE_RATE per second, half of them a real case action (the supervisor's 添加内部备注: the case
  page is read, its form's CSRF token and version taken, the form posted), half a real upload (the insured's
  documents page read, its CSRF token taken, a PDF posted as multipart);
- the floor pages (bench/floor.py) once a second each, so that every page's p95 has its floor's p95 under the
  very same load.

Sessions: the generated data set has three staff accounts and one demo insured with cases, so the 40
coordinators share the coord1 / coord2 / supervisor sessions and the 100 insured the demo insured's session:
each request does the same work a distinct user's would (the user is loaded per request either way).
The driver runs in this process on the same two cores as the server; it needs ~1% of a core per 10 req/s.
"""

import http.client
import random
import re
import statistics
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

COORDINATORS, COORDINATOR_EVERY = 40, 5.0
INSURED, INSURED_EVERY = 100, 10.0
FLOOR_EVERY = 1.0
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
_INPUT = re.compile(r"<input[^>]*>", re.S)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')


class Client:
    """A tiny HTTP client on http.client: one connection per request, as a browser opening a page."""

    def __init__(self, base: str, user_agent: str):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port, self.user_agent = parts.hostname, parts.port, user_agent

    def request(self, method: str, path: str, *, cookie: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers={"Cookie": cookie, "User-Agent": self.user_agent,
                                                                  **(headers or {})})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def _form(page: str, action_suffix: str) -> dict[str, str]:
    """The named inputs (with their values) of the form whose action ends with `action_suffix`."""
    match = re.search(r'<form[^>]*action="[^"]*' + re.escape(action_suffix) + r'"[^>]*>(.*?)</form>', page, re.S)
    if not match:
        raise RuntimeError(f"no form posting to …{action_suffix}")
    fields = {}
    for tag in _INPUT.findall(match.group(1)):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs and attrs.get("type") not in ("file", "submit", "checkbox"):
            fields[attrs["name"]] = attrs.get("value", "")
    for name in re.findall(r'<textarea[^>]*name="([^"]+)"', match.group(1)):
        fields[name] = "压测备注"
    return fields


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Mix:
    """What each kind of request does, given the sessions and the ids of the data set."""

    def __init__(self, client: Client, cookies: dict[str, str], ids: dict):
        self.client, self.cookies, self.ids = client, cookies, ids

    def view(self, path: str, cookie_of: str) -> int:
        status, _ = self.client.request("GET", path, cookie=self.cookies[cookie_of])
        return status

    def note(self, rng: random.Random) -> int:
        """A real case action: read the case page, post its 添加内部备注 form with the page's token and version."""
        case_id = rng.choice(self.ids["open_cases"])
        cookie = self.cookies["supervisor"]
        status, page = self.client.request("GET", f"/staff/cases/{case_id}", cookie=cookie)
        if status != 200:
            return status
        fields = _form(page.decode(), f"/staff/cases/{case_id}/actions/note")
        status, _ = self.client.request("POST", f"/staff/cases/{case_id}/actions/note", cookie=cookie,
                                        body=urllib.parse.urlencode(fields).encode(),
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        return 200 if status in (200, 303) else status

    def upload(self, rng: random.Random) -> int:
        """A real upload: read the documents page, post a PDF with its CSRF token."""
        case_id = rng.choice(self.ids["insured_open_cases"])
        cookie = self.cookies["insured"]
        status, page = self.client.request("GET", f"/me/cases/{case_id}/documents", cookie=cookie)
        if status != 200:
            return status
        fields = _form(page.decode(), f"/me/cases/{case_id}/documents")
        body, content_type = _multipart(fields, {"file_medical_record": ("病历.pdf", PDF)})
        status, _ = self.client.request("POST", f"/me/cases/{case_id}/documents", cookie=cookie, body=body,
                                        headers={"Content-Type": content_type})
        return 200 if status in (200, 303) else status


def schedule(seconds: float, write_rate: float, ids: dict, rng: random.Random) -> list[tuple[float, str, tuple]]:
    """(due second, label, job) of every request of the run, Poisson arrivals per user."""
    plan = []

    def arrivals(every: float):
        t = rng.uniform(0, every)
        while t < seconds:
            yield t
            t += rng.expovariate(1 / every)

    for _ in range(COORDINATORS):
        for t in arrivals(COORDINATOR_EVERY):
            if rng.random() < 0.7:
                who = rng.choice(("coord1", "coord2", "supervisor"))
                plan.append((t, "coordinator queue", ("view", "/staff/?tab=all", who)))
            else:
                plan.append((t, "coordinator case", ("view", f"/staff/cases/{rng.choice(ids['open_cases'])}",
                                                     "supervisor")))
    for _ in range(INSURED):
        for t in arrivals(INSURED_EVERY):
            if rng.random() < 0.6:
                plan.append((t, "insured home", ("view", "/me/", "insured")))
            else:
                plan.append((t, "insured case", ("view", f"/me/cases/{rng.choice(ids['insured_cases'])}", "insured")))
    for t in arrivals(FLOOR_EVERY):
        plan.append((t, "floor: coordinator queue", ("view", f"/_floor/queue/{ids['coord1']}", "insured")))
    for t in arrivals(FLOOR_EVERY):
        plan.append((t, "floor: insured home", ("view", f"/_floor/home/{ids['insured']}", "insured")))
    if write_rate:
        for i, t in enumerate(arrivals(1 / write_rate)):
            plan.append((t, "write: case action (note)" if i % 2 == 0 else "write: upload", ("write", i % 2)))
    return sorted(plan)


def run(base: str, cookies: dict[str, str], ids: dict, *, seconds: float, write_rate: float,
        user_agent: str, seed: int = 20) -> dict:
    """Drive the mix for `seconds`; per label: count, errors, p50 / p95 / p99 (ms)."""
    rng = random.Random(seed)
    mix = Mix(Client(base, user_agent), cookies, ids)
    plan = schedule(seconds, write_rate, ids, rng)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()

    def perform(due: float, label: str, job: tuple, started: float) -> None:
        local = random.Random(hash((due, label)))
        try:
            if job[0] == "view":
                status = mix.view(job[1], job[2])
            else:
                status = mix.note(local) if job[1] == 0 else mix.upload(local)
            ok = status == 200
        except Exception:  # a refused connection or a timeout is an error of the run, not of the driver
            ok = False
        elapsed = time.perf_counter() - (started + due)  # from when it was due: queueing included
        with lock:
            latencies[label].append(elapsed * 1000)
            if not ok:
                errors[label] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=128) as pool:
        for due, label, job in plan:
            delay = started + due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(perform, due, label, job, started)
    wall = time.perf_counter() - started
    result = {}
    for label, values in sorted(latencies.items()):
        values.sort()
        result[label] = {
            "count": len(values), "errors": errors[label], "rps": round(len(values) / seconds, 2),
            "p50_ms": round(statistics.median(values), 1), "p95_ms": round(_percentile(values, 95), 1),
            "p99_ms": round(_percentile(values, 99), 1),
        }
    for label, floor in (("coordinator queue", "floor: coordinator queue"), ("insured home", "floor: insured home")):
        if label in result and floor in result:
            result[label]["p95_floor_ratio"] = round(result[label]["p95_ms"] / max(result[floor]["p95_ms"], 0.1), 2)
    result["_run"] = {"seconds": seconds, "wall_s": round(wall, 1), "write_rate": write_rate,
                      "requests": sum(len(v) for v in latencies.values())}
    return result


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, int(round(q / 100 * len(values) + 0.5)) - 1))
    return values[index]
