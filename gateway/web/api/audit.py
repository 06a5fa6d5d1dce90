"""`GET /api/v1/audit` (operators and admins, as the Audit page): entries newest first, filtered by
actor, action and a date range, as `stockgate audit --json` prints them."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Query
from pydantic import BaseModel

from gateway.db.engine import Database
from gateway.errors import UsageError
from gateway.web.api.deps import api_router
from gateway.web.api.models import Problem
from gateway.web.deps import get_db
from gateway.web.rooms.audit import audit_page

router = api_router("audit", role="operator")


class AuditEntryOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    target: str | None
    detail: dict


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    page: int
    per_page: int
    has_more: bool


@router.get("/audit", response_model=AuditPage, responses={400: {"model": Problem}})
def audit_entries(actor: str = Query("", max_length=200), action: str = Query("", max_length=60),
                  since: str = Query("", max_length=40), until: str = Query("", max_length=40),
                  page: int = Query(1, ge=1, le=1_000_000), per_page: int = Query(50, ge=1, le=500),
                  db: Database = Depends(get_db)):
    """`since`/`until`: a date or ISO time (a date alone as `until` includes that day); 400 naming a bad one."""
    try:
        found, has_more = audit_page(db, {"actor": actor, "action": action, "since": since, "until": until},
                                     page, per_page)
    except UsageError as exc:
        raise HTTPException(400, str(exc)) from exc
    return {"entries": [e.as_dict() for e in found], "page": page, "per_page": per_page, "has_more": has_more}
