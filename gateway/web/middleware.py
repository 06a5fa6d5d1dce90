"""The gate every request passes before a room sees it (pure ASGI middlewares, outermost first):

`Shield`: security headers and `Server` on every answer, no header holding a line break; only GET and
POST outside `/api/`; whether a login is asked for (`auth.login_required`, read once per request into
`request.state.login_required`); a known Host when no login is asked for (DNS rebinding); a request line of
sane length; a post's size (answered 413 before its body is read), its Origin, JSON for the API's
writes, and a body that stops arriving for `web.read_timeout_seconds` answered 408.

`SessionGate`: the session from its cookie into `request.state.session`, a login asked for on every
path but the public ones, and the session cookie set or cleared when a room asks for it
(`request.state.set_session` / `clear_session`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool

from gateway.web.auth import SESSION_COOKIE, login_required, session_cookie
from gateway.web.headers import SECURITY_HEADERS, SERVER_NAME, broken_headers

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024          # a post other than an upload
UPLOAD_OVERHEAD_BYTES = 64 * 1024   # multipart headers and fields around the file
UPLOAD_PATHS = frozenset({"/upload", "/api/v1/uploads"})   # posts that carry a file: `files.max_file_mb` (+ overhead)
# API writes that carry a file (multipart/form-data, not JSON): they must also send this header, which a
# cross-site form cannot set without a CORS preflight (never granted), in place of the JSON rule
API_UPLOAD_PATHS = frozenset({"/api/v1/uploads"})
API_UPLOAD_HEADER = "x-stockgate-upload"
MAX_TARGET_BYTES = 8 * 1024         # path and query
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
PUBLIC_PATHS = ("/login", "/healthz", "/static/style.css")   # answered without a login
PLAIN = b"text/plain; charset=utf-8"
JSON = b"application/json"


async def plain_answer(send, status: int, text: str, extra: list[tuple[bytes, bytes]] = (), *,
                       path: str = "") -> None:
    """Answer `text`: as plain text, or under `/api/` as the API's `{"detail": ...}` (what its document says)."""
    if path.startswith("/api/"):
        kind, body = JSON, json.dumps({"detail": text.strip()}).encode("utf-8")
    else:
        kind, body = PLAIN, text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body})


class BodyTimeoutError(Exception):
    """A post's body stopped arriving."""


class Shield:
    def __init__(self, app, settings, db):
        self.app, self.settings, self.db = app, settings, db
        self.read_timeout = settings.web.read_timeout_seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = False, None

        async def guarded_send(message):
            nonlocal started, status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                broken = broken_headers(headers)
                if broken:
                    log.error("web %s %s: refused to send a header holding a line break: %s", scope["method"],
                              scope["path"], ", ".join(broken))
                    body = b"internal error: it has been logged\n"
                    headers = [(b"content-type", PLAIN), (b"content-length", str(len(body)).encode())]
                    message = {"type": "http.response.start", "status": 500, "headers": headers}
                    await send(self._secured(message, scope["path"]))
                    started = True
                    await send({"type": "http.response.body", "body": body})
                    raise _Refused
                started = True
                message = self._secured({**message, "headers": headers}, scope["path"])
            await send(message)

        # in a worker thread: whether a user exists is read from the database; when it cannot be read, a
        # login is asked for (fails closed) and /healthz still answers 503
        try:
            needs_login = await run_in_threadpool(login_required, self.settings.web, self.db)
        except Exception:
            needs_login = True
        scope.setdefault("state", {})["login_required"] = needs_login
        refusal = self._refusal(scope, needs_login)
        try:
            if refusal is not None:
                return await plain_answer(guarded_send, *refusal, path=scope["path"])
            await self.app(scope, self._bounded(receive), guarded_send)
        except _Refused:
            return
        except BodyTimeoutError:
            if not started:
                await plain_answer(guarded_send, 408, f"the post stopped arriving (nothing for "
                                   f"{self.read_timeout:g} s): send it again\n", [(b"connection", b"close")],
                                   path=scope["path"])
        except Exception:
            # Starlette has answered 500 through `app.internal_error` (which logged it) and raised it again:
            # stop it here, so the connection is kept and the error is not logged twice
            if status != 500:
                log.exception("web request %s %s failed", scope["method"], scope["path"])
            if not started:
                await plain_answer(guarded_send, 500, "internal error: it has been logged\n", path=scope["path"])

    def _secured(self, message: dict, path: str) -> dict:
        headers = message["headers"]
        names = {name.lower() for name, _ in headers}
        headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS]
        headers.append((b"server", SERVER_NAME.encode()))
        if b"cache-control" not in names:     # pages are never cached; the stylesheet and scripts for an hour
            headers.append((b"cache-control", b"max-age=3600" if path.startswith("/static/") else b"no-store"))
        return message

    def _bounded(self, receive):
        async def bounded_receive():
            try:
                return await asyncio.wait_for(receive(), self.read_timeout)
            except TimeoutError:
                raise BodyTimeoutError from None
        return bounded_receive

    def _refusal(self, scope, needs_login: bool) -> tuple | None:
        """(status, text, extra headers) when the request is refused before any room sees it."""
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if method not in ("GET", "POST") and not path.startswith("/api/"):
            return 405, "method not allowed: only GET and POST\n", [(b"allow", b"GET, POST")]
        if len(scope.get("raw_path", b"")) + len(scope.get("query_string", b"")) > MAX_TARGET_BYTES:
            return 414, "the address is too long\n"
        if not needs_login and not self._host_allowed(headers.get("host")):
            return 421, "unexpected Host header: open the page as http://127.0.0.1:PORT/\n"
        if method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if path in API_UPLOAD_PATHS:
            if content_type != "multipart/form-data":
                return 415, "an upload is sent as multipart/form-data\n"
            if not headers.get(API_UPLOAD_HEADER, "").strip():
                return 403, "an upload through the API needs the header X-StockGate-Upload: 1\n"
        elif path.startswith("/api/") and method != "DELETE" and content_type != "application/json":
            # a cross-site form cannot send JSON without a CORS preflight, which is never granted: with the
            # SameSite cookie and the Origin check below, this is the API's CSRF protection (a DELETE has no
            # body, and no form can send one: cross-site it needs the same never-granted preflight)
            return 415, "the API takes application/json\n"
        length = headers.get("content-length", "").strip() or ("0" if method == "DELETE" else "")
        if not length.isdigit():
            return 411, "a post needs a Content-Length\n", [(b"connection", b"close")]
        files = self.settings.files
        upload = path in UPLOAD_PATHS
        limit = files.max_file_mb * 1024 * 1024 + UPLOAD_OVERHEAD_BYTES if upload else MAX_FORM_BYTES
        if int(length) > limit:                  # answered at once: the body may never come
            what = (f"the upload is larger than the limit of {files.max_file_mb:,} MB" if upload
                    else f"the form is larger than the limit of {limit // 1024} KB")
            return 413, f"{what}\n"
        origin, host = headers.get("origin"), headers.get("host")
        if origin and origin != "null" and host and urlsplit(origin).netloc.lower() != host.lower():
            return 403, "cross-site post refused\n"
        return None

    def _host_allowed(self, host: str | None) -> bool:
        if host is None:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        return name in LOOPBACK_NAMES or name == self.settings.web.host.lower()


class _Refused(Exception):
    """The answer was replaced by a 500 (a header held a line break)."""


class SessionGate:
    def __init__(self, app, sessions):
        self.app, self.sessions = app, sessions

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        token = token_from_cookie(headers.get("cookie"))
        # in a worker thread: the database-backed store (gateway.accounts) reads a table
        session = await run_in_threadpool(self.sessions.get, token) if token else None
        state["session"] = session
        path = scope["path"]
        if state.get("login_required", True) and (session is None or session.user is None) and not is_public(path):
            if path.startswith("/api/"):
                return await plain_answer(send, 401, "log in first\n", path=path)
            if scope["method"] != "GET":
                return await plain_answer(send, 403, "log in first\n")
            target = path + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", ("/login?" + urlencode({"next": target})).encode("latin-1")),
                                    (b"content-length", b"0")]})
            return await send({"type": "http.response.body", "body": b""})

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                cookie = None
                if state.get("clear_session"):
                    cookie = session_cookie(None)
                elif state.get("set_session") is not None:
                    cookie = session_cookie(state["set_session"].token)
                if cookie is not None:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (b"set-cookie", cookie.encode("latin-1"))]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS


def token_from_cookie(cookie_header: str | None) -> str | None:
    """The session cookie's value from a Cookie header; None when absent or malformed."""
    if not cookie_header:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(cookie_header)
    except CookieError:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None
