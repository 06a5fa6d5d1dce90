"""The Users page (`/users`, admin only): the logins with their roles, and adding a user, changing a
role, resetting a password and removing a user, each through `gateway.accounts.users` (the functions
`stockgate users` calls) with the actor `web:NAME`, so every change is audited. A refusal (the last
admin, a short password, a taken name) is shown on the page in words, and nothing is changed."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from gateway.accounts import users
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.web.deps import User, checked_form, csrf_token, form_text, get_db, require_role, room_router
from gateway.web.rooms.actions import actor_of
from gateway.web.templating import render

router = room_router(dependencies=[Depends(require_role("admin"))])
ROLE_CHOICES = [(role, role) for role in reversed(users.ROLES)]


def users_page(request: Request, db: Database, *, status: int = 200, error: str | None = None,
               notice: str | None = None):
    listed = users.list_users(db, request.app.state.settings.web)
    return render(request, "users/index.html", status_code=status, title="Users", active="/users",
                  users=listed, roles=ROLE_CHOICES, csrf=csrf_token(request), error=error, notice=notice,
                  config_source=users.CONFIG_SOURCE)


@router.get("/users")
def list_page(request: Request, done: str = "", db: Database = Depends(get_db)):
    return users_page(request, db, notice=done[:200] or None)


def _act(request: Request, db: Database, change, done: str):
    """Run `change()`; a refusal is the page again with the reason (400, or 404 for an unknown user)."""
    try:
        change()
    except (UsageError, NotFoundError) as exc:
        return users_page(request, db, status=404 if isinstance(exc, NotFoundError) else 400, error=str(exc))
    return RedirectResponse(f"/users?done={done}", status_code=303)


def _new_password(form: FormData) -> str:
    password = form_text(form, "password")
    if password != form_text(form, "password_again"):
        raise UsageError("the two passwords differ: type the same password twice")
    return password


@router.post("/users/add")
def add(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
        user: User = Depends(require_role("admin"))):
    name = form_text(form, "name").strip()
    return _act(request, db, lambda: users.add_user(db, name, _new_password(form), form_text(form, "role"),
                                                    actor=actor_of(user)), "added")


@router.post("/users/role")
def change_role(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
                user: User = Depends(require_role("admin"))):
    return _act(request, db, lambda: users.set_role(db, form_text(form, "name"), form_text(form, "role"),
                                                    actor=actor_of(user)), "role+changed")


@router.post("/users/password")
def reset_password(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
                   user: User = Depends(require_role("admin"))):
    return _act(request, db, lambda: users.set_password(db, form_text(form, "name"), _new_password(form),
                                                        actor=actor_of(user)), "password+reset")


@router.post("/users/remove")
def remove(request: Request, form: FormData = Depends(checked_form), db: Database = Depends(get_db),
           user: User = Depends(require_role("admin"))):
    return _act(request, db, lambda: users.remove_user(db, form_text(form, "name"), actor=actor_of(user)),
                "removed")
