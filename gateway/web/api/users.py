"""`/api/v1/users` (admin only): the logins with their roles, and adding, changing (role, password) and
removing a user through `gateway.accounts.users` with the actor `web:NAME` (audited), as `stockgate users
add|list|passwd|remove` do; shapes as `stockgate users list --json`."""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from gateway.accounts import users
from gateway.db.engine import Database
from gateway.errors import NotFoundError, UsageError
from gateway.web.api.deps import api_router
from gateway.web.api.models import Problem
from gateway.web.deps import User, get_db, require_role
from gateway.web.rooms.actions import actor_of

router = api_router("users", role="admin")
REFUSED = {400: {"model": Problem}, 404: {"model": Problem}}
Role = Literal["viewer", "operator", "admin"]


class UserOut(BaseModel):
    """A login (never its password hash); `source` is `database` or `config` (the `[web]` login)."""

    name: str
    role: Role
    source: Literal["database", "config"]
    created_at: str | None
    password_changed_at: str | None


class NewUser(BaseModel):
    name: str = Field(max_length=100)
    role: Role
    password: str = Field(max_length=1024)


class UserChange(BaseModel):
    """A new role, a new password, or both."""

    role: Role | None = None
    password: str | None = Field(None, max_length=1024)


def _refused(exc: Exception) -> HTTPException:
    return HTTPException(404 if isinstance(exc, NotFoundError) else 400, str(exc))


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, db: Database = Depends(get_db)):
    """Every login, the configuration's `[web]` one first."""
    return [u.as_dict() for u in users.list_users(db, request.app.state.settings.web)]


@router.post("/users", response_model=UserOut, status_code=201, responses=REFUSED)
def add_user(body: NewUser, db: Database = Depends(get_db), user: User = Depends(require_role("admin"))):
    try:
        return users.add_user(db, body.name, body.password, body.role, actor=actor_of(user)).as_dict()
    except (UsageError, NotFoundError) as exc:
        raise _refused(exc) from exc


@router.patch("/users/{name}", response_model=UserOut, responses=REFUSED)
def change_user(name: str, body: UserChange, request: Request, db: Database = Depends(get_db),
                user: User = Depends(require_role("admin"))):
    """Change a user's role and/or password (a new password ends their sessions)."""
    if body.role is None and body.password is None:
        raise HTTPException(400, "send a role, a password or both")
    if body.password is not None and len(body.password) < users.MIN_PASSWORD_CHARS:   # before the role changes
        raise HTTPException(400, f"a password must have at least {users.MIN_PASSWORD_CHARS} characters")
    try:
        if body.role is not None:
            users.set_role(db, name, body.role, actor=actor_of(user))
        if body.password is not None:
            users.set_password(db, name, body.password, actor=actor_of(user))
    except (UsageError, NotFoundError) as exc:
        raise _refused(exc) from exc
    found = [u for u in users.list_users(db) if u.name == name]
    return found[0].as_dict()


@router.delete("/users/{name}", status_code=204, responses=REFUSED)
def remove_user(name: str, db: Database = Depends(get_db), user: User = Depends(require_role("admin"))):
    try:
        users.remove_user(db, name, actor=actor_of(user))
    except (UsageError, NotFoundError) as exc:
        raise _refused(exc) from exc
    return Response(status_code=204)
