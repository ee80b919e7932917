"""gunicorn settings for production and the benchmarks: `gunicorn -c gunicorn.conf.py wsgi:app` (issue 18).

Command-line options override these (`-w 4`, `-b 127.0.0.1:8001`); so do the environment variables below.

- gthread workers: each worker process serves `threads` requests at once, and a connection that has sent
  nothing yet waits in the worker's poller, not in a thread. A few slow clients cannot starve the site:
  they occupy a thread each, not a whole worker, and their bodies are bounded (BODY_TIMEOUT and
  BODY_IDLE_TIMEOUT, portal/web/body_deadline.py). In production put nginx in front with request
  buffering (README "Production"): then gunicorn only ever sees complete bodies.
- timeout 30 s: a worker whose main loop stops answering is killed and replaced. The database lock wait
  (DATABASE_LOCK_TIMEOUT, 10 s) is well under it, so a request blocked on a lock answers 503 itself.
- graceful_timeout 30 s: on SIGTERM a worker stops accepting and finishes every request it has accepted,
  queued ones included, before it exits. For a deploy use SIGHUP (new workers, old ones finish gracefully,
  the listening socket never closes); SIGTERM is for stopping the service.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 8))
#: connections a worker holds at once, kept-alive ones included
worker_connections = 1000
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5
#: one scheduler runs as its own process (`flask --app wsgi scheduler`), never in a web worker
raw_env = ["SCHEDULER_IN_PROCESS=0"]
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
