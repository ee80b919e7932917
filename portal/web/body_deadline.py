"""A bound on the time a client may take to send a request body (issue 18 item 5).

gunicorn's gthread workers read the body in the request's thread, and gunicorn has no body-read timeout:
a client that sends half an upload and then stalls holds a thread for as long as it likes. Behind the
buffering proxy of the README (nginx) that never happens — nginx hands over whole bodies — but without one,
each read of `wsgi.input` here waits at most BODY_IDLE_TIMEOUT for data, and the whole body may take at most
BODY_TIMEOUT; then the request ends with 408 and the connection is closed. Only under gunicorn (the socket
is in the environ as `gunicorn.socket`); the development server and the test client are left alone.
"""

import contextlib
import socket
import time

from werkzeug.exceptions import RequestTimeout


class BodyTimeout(RequestTimeout):
    """The client took too long to send its body."""

    description = "上传超时：网络太慢或已中断，请在网络较好时重新提交。"


class _TimedInput:
    """wsgi.input whose reads give up at the deadline (and after `idle` seconds without data)."""

    def __init__(self, stream, sock: socket.socket, total: float, idle: float):
        self._stream, self._sock, self._idle = stream, sock, idle
        self._deadline = time.monotonic() + total

    def _timed(self, read, *args):
        left = self._deadline - time.monotonic()
        if left <= 0:
            self._give_up()
        try:
            self._sock.settimeout(min(self._idle, left))
            return read(*args)
        except TimeoutError:
            self._give_up()
        finally:
            with contextlib.suppress(OSError):
                self._sock.settimeout(None)

    def _give_up(self):
        with contextlib.suppress(OSError):  # nothing more is read from this client: gunicorn closes after the 408
            self._sock.shutdown(socket.SHUT_RD)
        raise BodyTimeout()

    def read(self, *args):
        return self._timed(self._stream.read, *args)

    def readline(self, *args):
        return self._timed(self._stream.readline, *args)

    def readlines(self, *args):
        return self._timed(self._stream.readlines, *args)

    def __iter__(self):
        while line := self.readline():
            yield line


class BodyDeadline:
    """WSGI middleware installing _TimedInput for requests that carry a body, under gunicorn."""

    def __init__(self, wsgi_app, *, total: float, idle: float):
        self.wsgi_app, self.total, self.idle = wsgi_app, total, idle

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        has_body = environ.get("CONTENT_LENGTH", "0") not in ("", "0") or "chunked" in environ.get(
            "HTTP_TRANSFER_ENCODING", "").lower()
        if sock is not None and has_body:
            environ["wsgi.input"] = _TimedInput(environ["wsgi.input"], sock, self.total, self.idle)
        return self.wsgi_app(environ, start_response)
