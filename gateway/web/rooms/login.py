"""Log in (`/login`) as a database user (`stockgate users add`) or the configured `[web]` login, checked
by `gateway.accounts.users.authenticate`; log out (`/logout`). The session carries the user's role; after
the login the browser goes on to the page that sent it there, when that is a plain local path."""

from __future__ import annotations

import re
from urllib.parse import unquote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from gateway.accounts.users import authenticate
from gateway.db.engine import Database
from gateway.settings import Settings
from gateway.web.deps import checked_form, csrf_token, form_text, get_db, get_settings, room_router
from gateway.web.templating import render

router = room_router()

# A path on this site and its query, in the characters a URL may hold as they are (RFC 3986): no space,
# control character, backslash or `#`, and no second `/` or `\` at the start (`//host` is another site).
LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")


def safe_next(path: str) -> str:
    """Where to go after a login: `path` when it is a local path (`LOCAL_PATH`, and once percent-decoded
    still no control character nor `//host`), else `/`. It becomes a Location header: nothing else passes."""
    decoded = unquote(path)
    if (LOCAL_PATH.fullmatch(path) and not decoded.startswith(("//", "/\\"))
            and not any(c < " " or c == "\x7f" for c in decoded)):
        return path
    return "/"


def _form(request: Request, next_path: str, *, status: int = 200, error: str | None = None):
    return render(request, "login/form.html", status_code=status, title="Log in", csrf=csrf_token(request),
                  next_path=next_path, error=error)


@router.get("/login")
def login_form(request: Request, next: str = "/"):  # noqa: A002
    if not request.state.login_required:
        return RedirectResponse("/", status_code=303)
    return _form(request, safe_next(next or "/"))


@router.post("/login")
def login(request: Request, form: FormData = Depends(checked_form), settings: Settings = Depends(get_settings),
          db: Database = Depends(get_db)):
    if not request.state.login_required:
        return RedirectResponse("/", status_code=303)
    next_path, client = safe_next(form_text(form, "next", "/")), request.client.host if request.client else ""
    throttle, sessions = request.app.state.throttle, request.app.state.sessions
    if not throttle.allowed(client):
        return _form(request, next_path, status=429,
                     error="Too many failed logins from your address: try again in 15 minutes.")
    user = authenticate(db, form_text(form, "username"), form_text(form, "password"), web=settings.web)
    if user is None:
        throttle.failed(client)
        return _form(request, next_path, status=403, error="Wrong user name or password.")
    throttle.succeeded(client)
    old = request.state.session
    request.state.session = request.state.set_session = sessions.login(
        old.token if old else None, user.name, user.role)
    return RedirectResponse(next_path, status_code=303)


@router.post("/logout")
def logout(request: Request, _form: FormData = Depends(checked_form)):
    session = request.state.session
    if session is not None:
        request.app.state.sessions.logout(session.token)
    request.state.session, request.state.clear_session = None, True
    return RedirectResponse("/login" if request.state.login_required else "/", status_code=303)
