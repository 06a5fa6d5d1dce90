"""The Jinja2 environment of the web page (autoescape on: SKUs, file names and messages are user data and
show literally) and `render`, which fills `base.html`'s navigation, user and logout form.

Templates live in `gateway/web/templates/<room>/*.html` and extend `base.html`; `macros.html` holds the
table, badge, select and pager helpers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

TEMPLATE_DIR = Path(__file__).with_name("templates")
NAV = (("/", "Dashboard"), ("/history", "Upload history"), ("/stock", "Inventory"), ("/listings", "Listings"),
       ("/orders", "Orders"), ("/integrations", "Integrations"), ("/sources", "Sources"), ("/upload", "Upload"),
       ("/templates", "Templates"), ("/users", "Users"), ("/audit", "Audit"))
# The role a page of the navigation needs (its room's `require_role`); a link the user's role cannot open
# is not shown (every other page is open to viewers).
NAV_ROLES = {"/users": "admin", "/audit": "operator"}


def url(path: str, params: Mapping[str, object] | None = None) -> str:
    """A local URL with its query string; empty and None parameters are left out."""
    query = urlencode({k: v for k, v in (params or {}).items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def file_url(file_id: str, suffix: str = "") -> str:
    """The URL of a file's report page (or its `.json`/`.csv` download)."""
    return f"/files/{quote(file_id, safe='')}{suffix}"


def number(value: object) -> str:
    """An integer with thousands separators; other values as they are (None: empty)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def when(value: str | None) -> str:
    """An ISO time shortened to the second, in UTC."""
    return (value or "")[:19].replace("T", " ")


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(number=number, when=when, spaced=lambda v: str(v).replace("_", " "))
    env.globals.update(url=url, file_url=file_url, NAV=NAV)
    return env


ENVIRONMENT = make_environment()


def render_text(template: str, **context) -> str:
    """A template rendered to text (tests and anything that is not an answer)."""
    return ENVIRONMENT.get_template(template).render(**context)


def render(request: Request, template: str, *, status_code: int = 200, **context) -> HTMLResponse:
    """A page: `template` with the navigation, the user's name and the logout form's CSRF token."""
    from gateway.web.auth import role_allows
    from gateway.web.deps import current_user

    session = request.state.session
    logged_in = session is not None and session.user is not None
    user = current_user(request)
    context.setdefault("active", "")
    context.setdefault("refresh_seconds", None)
    nav = [(href, label) for href, label in NAV
           if user is not None and role_allows(user.role, NAV_ROLES.get(href, "viewer"))]
    page = render_text(template, user=user.name if logged_in else None, NAV=nav,
                       logout_csrf=session.csrf if logged_in else None, **context)
    return HTMLResponse(page, status_code=status_code)


def message(request: Request, status: int, title: str, text: str) -> HTMLResponse:
    """An error or notice page."""
    return render(request, "message.html", status_code=status, title=title, text=text)
