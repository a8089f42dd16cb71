"""HTTP front end at /client/api: parsing, authentication, dispatch and the JSON envelope (spec 1)."""

import json
import threading
from collections import Counter
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from simulator import registry
from simulator.errors import AUTH_FAILED, USER_ERROR_MESSAGE, ApiError, server
from simulator.signing import signature_matches

EXPIRES_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%SZ")
REQUESTS_PATH = "/simulator/requests"  # not CloudStack: the API requests served so far, for benchmarks
JSON_ONLY = ("This simulator answers JSON only: add response=json to the request"
             " (the XML format of CloudStack is not implemented)")


def parse_expires(text):
    """A datetime from CloudStack's accepted `expires` formats, or None."""
    for fmt in EXPIRES_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


class Caller:
    """The authenticated user, their account and role."""

    def __init__(self, store, user):
        self.user = user
        self.account = store.get("account", user["account_id"])
        self.domain = store.get("domain", self.account["domain_id"])
        self.role = self.account["role"]

    @property
    def is_root_admin(self):
        """True for the root admin role."""
        return self.role == "Admin"


def authenticate(store, raw):
    """The Caller for a signed request, or None (every failure is the same 401)."""
    params = dict(raw)
    lowered = {key.lower(): value for key, value in params.items()}
    key, given = lowered.get("apikey"), lowered.get("signature")
    if not key or not given:
        return None
    user = store.one("user", apikey=key)
    if user is None or user["state"] != "enabled":
        return None
    account = store.get("account", user["account_id"])
    if account["state"] != "enabled":
        return None
    if lowered.get("signatureversion") == "3":
        expires = parse_expires(lowered.get("expires", ""))
        if expires is None or expires < datetime.now(timezone.utc):
            return None
    if not signature_matches(params, user["secretkey"], given):
        return None
    return Caller(store, user)


def error_body(response_name, err, with_cs=True):
    """CloudStack's ExceptionResponse fields."""
    body = {"uuidList": [], "errorcode": err.code}
    if with_cs:
        body["cserrorcode"] = err.cserrorcode
    body["errortext"] = err.text
    return {response_name: body}


class Handler(BaseHTTPRequestHandler):
    """One API request."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms delayed-ACK stalls
    server_version = "CloudStackSimulator/1.0"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the simulator logs nothing per request."""

    def do_GET(self):  # pylint: disable=invalid-name
        """GET with the query string."""
        self._serve(urlsplit(self.path).query)

    def do_POST(self):  # pylint: disable=invalid-name
        """POST with a form body (plus any query string)."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        query = urlsplit(self.path).query
        self._serve("&".join(part for part in (query, body) if part))

    def _serve(self, query):
        if urlsplit(self.path).path.rstrip("/") == REQUESTS_PATH:
            self._send(200, self.server.request_counts())
            return
        if urlsplit(self.path).path.rstrip("/") != "/client/api":
            self._send(404, {"errorresponse": {"errorcode": 404, "errortext": "Not found: use /client/api"}})
            return
        raw = parse_qsl(query, keep_blank_values=True)
        self.server.count(raw)
        status, payload = self.server.app_dispatch(raw)
        self._send(status, payload)

    def _send(self, status, payload):
        if isinstance(payload, str):
            data, ctype = payload.encode(), "text/xml; charset=UTF-8"
        else:
            data, ctype = json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=UTF-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if status != 200:
            text = next(iter(payload.values())).get("errortext", "") if isinstance(payload, dict) else JSON_ONLY
            self.send_header("X-Description", text.encode("latin-1", "replace").decode("latin-1"))
        self.end_headers()
        self.wfile.write(data)


def dispatch(app, raw):
    """(HTTP status, body) for one request's raw (name, value) pairs."""
    first = {}
    for key, value in raw:
        first.setdefault(key, value)
    lowered = {key.lower(): value for key, value in first.items()}
    if lowered.get("response", "").lower() != "json":
        return 400, ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><errorresponse><errorcode>400</errorcode>"
                     f"<errortext>{JSON_ONLY}</errortext></errorresponse>")
    cmd = registry.lookup(lowered.get("command"))
    with app.store.lock:
        caller = authenticate(app.store, first.items())
        if caller is None or cmd is None:
            name = cmd.response_name if cmd else "errorresponse"
            return 401, error_body(name, server(401, AUTH_FAILED), with_cs=False)
        try:
            if not registry.allowed(cmd, caller.role):
                raise server(432, f"The API [{cmd.name}] does not exist or is not available for the account"
                                  f" {caller.account['name']}.")
            plain, maps = registry.split_params(raw)
            values = registry.validate(cmd, plain, maps, app.store, app.version.number)
            ctx = app.context(caller, cmd)
            result = cmd.handler(ctx, values)
            if cmd.isasync:
                result = app.jobs.submit(ctx, result)
        except ApiError as err:
            if not caller.is_root_admin and err.code in (530, 533, 534):
                err = ApiError(err.kind, USER_ERROR_MESSAGE, err.code)
            name = "errorresponse" if err.code == 432 else cmd.response_name
            return err.code, error_body(name, err)
    return 200, {cmd.response_name: result}


class SimulatorServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to one Simulator app."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, host, port):
        super().__init__((host, port), Handler)
        self.app = app
        self.requests = Counter()
        self._requests_lock = threading.Lock()

    def count(self, raw):
        """Count one /client/api request by its apikey and command."""
        lowered = {key.lower(): value for key, value in raw}
        with self._requests_lock:
            self.requests[(lowered.get("apikey"), lowered.get("command"))] += 1

    def request_counts(self):
        """{"requests": [{apikey, command, count}, ...]} of every /client/api request served so far."""
        with self._requests_lock:
            return {"requests": [{"apikey": key, "command": command, "count": count}
                                 for (key, command), count in sorted(self.requests.items(), key=str)]}

    def app_dispatch(self, raw):
        """Dispatch through the app."""
        return dispatch(self.app, raw)
