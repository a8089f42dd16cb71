"""A fault-injecting HTTP proxy in front of the simulator: resets, 5xx and delays on chosen commands."""

import socket
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESET_BEFORE = "reset-before"  # the connection is reset before the request is forwarded: nothing applied
RESET_AFTER = "reset-after"    # forwarded, the answer is dropped with a reset: applied, answer lost
DELAY = "delay"                # forwarded, the answer held back for `seconds` (past api_timeout)
BAD_GATEWAY = "503"            # answered 503 by the proxy itself, not forwarded
HOLD = "hold"                  # held back before forwarding until `until()` is true (at most HOLD_LIMIT seconds)
HOLD_LIMIT = 30.0


class Fault:
    """What to do with the next `times` requests of `command` (once a request of `after` was seen, when given);
    `until` is the condition a HOLD waits for."""

    def __init__(self, command, kind, times=1, seconds=0.0, after=None, until=None):
        self.command, self.kind, self.times, self.seconds, self.after = command, kind, times, seconds, after
        self.until = until


class FaultProxy:
    """Forwards /client/api to `target`; counts requests per command and applies the queued faults."""

    def __init__(self, target):
        self.target = target
        self.faults = []
        self.seen = {}
        self.injected = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                del args

            def do_GET(self):
                proxy.handle(self, None)

            def do_POST(self):
                proxy.handle(self, self.rfile.read(int(self.headers.get("Content-Length", 0))))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/client/api" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def add(self, command, kind, times=1, seconds=0.0, after=None, until=None):
        with self._lock:
            self.faults.append(Fault(command, kind, times, seconds, after, until))

    def _take(self, command):
        with self._lock:
            self.seen[command] = self.seen.get(command, 0) + 1
            for fault in self.faults:
                if fault.command == command and fault.times > 0 and (fault.after is None or self.seen.get(fault.after)):
                    fault.times -= 1
                    self.injected.append((command, fault.kind))
                    return fault
        return None

    def handle(self, handler, body):
        query = urllib.parse.urlsplit(handler.path).query
        params = urllib.parse.parse_qs(query or (body or b"").decode())
        command = (params.get("command") or ["?"])[0]
        fault = self._take(command)
        kind = fault.kind if fault else None
        if kind == RESET_BEFORE:
            return reset(handler)
        if kind == BAD_GATEWAY:
            return answer(handler, 503, "text/html", b"<html>503 Service Unavailable</html>")
        if kind == HOLD:
            hold(fault.until)
        status, content_type, data = self.forward(handler.path, body, handler.command)
        if kind == RESET_AFTER:
            return reset(handler)
        if kind == DELAY:
            time.sleep(fault.seconds)
        return answer(handler, status, content_type, data)

    def forward(self, path, body, method):
        target = urllib.parse.urlsplit(self.target)
        url = "%s://%s%s" % (target.scheme, target.netloc, path)
        request = urllib.request.Request(url, data=body, method=method,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"} if body else {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers.get("Content-Type"), response.read()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, err.headers.get("Content-Type"), err.read()
        except OSError:
            return 502, "text/html", b"<html>502 Bad Gateway</html>"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def answer(handler, status, content_type, data):
    handler.send_response(status)
    handler.send_header("Content-Type", content_type or "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    try:
        handler.wfile.write(data)
    except OSError:
        pass


def hold(until):
    """Wait until ``until()`` is true; AssertionError after HOLD_LIMIT seconds (the test's arrangement failed)."""
    deadline = time.monotonic() + HOLD_LIMIT
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("a held request was never released")
        time.sleep(0.02)


def reset(handler):
    """Close the client connection with a TCP RST (SO_LINGER 0)."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()
