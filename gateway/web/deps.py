"""FastAPI dependencies every room uses: the database, the settings, who is asking (name and role), a
role check, and the CSRF-checked form of a post.

    @router.post("/things/{id}/do", dependencies=[Depends(require_role("operator"))])
    def do(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db)): ...

Rooms made with `room_router()` check the CSRF token of every POST whether or not the route asks for the
form, so a new form cannot forget it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.datastructures import FormData

from gateway.accounts.sessions import Session
from gateway.db.engine import Database
from gateway.settings import Settings
from gateway.web.posted import read_form
from gateway.web.auth import OPEN_USER, csrf_matches, role_allows

MAX_FORM_FIELDS = 50
MAX_FIELD_BYTES = 10_000            # a plain (non-file) field longer than this is refused
CSRF_REFUSED = ("the form's security token is missing or out of date: reload the page and send it again")


@dataclass(frozen=True)
class User:
    """Who is asking: a name and one of `auth.ROLES`."""

    name: str
    role: str


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def current_session(request: Request) -> Session | None:
    """The browser's session (read by `middleware.SessionGate`), or None."""
    return request.state.session


def current_user(request: Request) -> User | None:
    """The logged-in user; on an open loopback page (no login configured) the local admin; else None."""
    session = request.state.session
    if session is not None and session.user is not None:
        return User(session.user, session.role or "viewer")
    if not request.state.login_required:        # read by `middleware.Shield` for this request
        return User(*OPEN_USER)
    return None


def require_role(role: str):
    """A dependency refusing (403) anyone below `role` ("viewer", "operator" or "admin")."""

    def check(user: User | None = Depends(current_user)) -> User:
        if user is None or not role_allows(user.role, role):
            raise HTTPException(403, f"this needs the {role} role")
        return user

    return check


def csrf_token(request: Request) -> str:
    """The CSRF token for this browser's forms; a session is started (and its cookie set) when it has none."""
    session = request.state.session
    if session is None:
        session = request.app.state.sessions.create()
        request.state.session = request.state.set_session = session
    return session.csrf


async def checked_form(request: Request) -> FormData:
    """The posted form (files spooled to temporary files), refused with 403 unless it carries this
    session's CSRF token; a broken form is a 400 naming the problem."""
    form = getattr(request.state, "form", None)
    if form is None:
        form = await read_form(request, max_files=1, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES)
        request.state.form = form
    session = request.state.session
    if not csrf_matches(session.csrf if session else None, form.get("csrf_token")):
        raise HTTPException(403, CSRF_REFUSED)
    return form


async def _csrf_on_posts(request: Request) -> None:
    if request.method == "POST":
        await checked_form(request)


def room_router(*, dependencies: list | None = None, **kwargs) -> APIRouter:
    """An APIRouter for HTML pages: left out of the OpenAPI document, every POST CSRF-checked (after the
    router's own `dependencies`, such as its role)."""
    kwargs.setdefault("include_in_schema", False)
    return APIRouter(dependencies=[*(dependencies or []), Depends(_csrf_on_posts)], **kwargs)


def form_text(form: FormData, name: str, default: str = "") -> str:
    """A text field of `form` (a file sent under that name counts as absent)."""
    value = form.get(name, default)
    return value if isinstance(value, str) else default


def page_number(page: str = "") -> int:
    """The `?page=` of a paged list: 1 unless a number (at most 1,000,000)."""
    page = page.strip()
    return max(1, min(int(page), 1_000_000)) if page.isdigit() else 1
