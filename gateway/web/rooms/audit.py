"""The Audit page (`/audit`): who did what, when, to what, newest first, filtered by actor, action and a
date range, 50 a page. Operators and admins read it (operators act, and should see who else did);
viewers do not (an entry's detail names users and settings)."""

from __future__ import annotations

from fastapi import Depends, Request

from gateway.accounts import audit
from gateway.db.engine import Database
from gateway.errors import UsageError
from gateway.pipeline.history import time_bound
from gateway.web.deps import get_db, page_number, require_role, room_router
from gateway.web.templating import message, render, when

router = room_router(dependencies=[Depends(require_role("operator"))])
PER_PAGE = 50
FIELDS = ("actor", "action", "since", "until")


def audit_page(db: Database, asked: dict[str, str], page: int, per_page: int = PER_PAGE
               ) -> tuple[list[audit.AuditEntry], bool]:
    """One page of entries for the typed filters (a date alone as `until` covers that day), and whether
    more follow; UsageError naming a bad date."""
    found = audit.entries(db, actor=asked.get("actor") or None, action=asked.get("action") or None,
                          since=time_bound(asked.get("since"), "since"),
                          until=time_bound(asked.get("until"), "until", end=True),
                          limit=per_page + 1, offset=(page - 1) * per_page)
    return found[:per_page], len(found) > per_page


@router.get("/audit")
def audit_log(request: Request, page: int = Depends(page_number), db: Database = Depends(get_db)):
    asked = {field: request.query_params.get(field, "").strip()[:200] for field in FIELDS}
    try:
        found, has_more = audit_page(db, asked, page)
    except UsageError as exc:
        return message(request, 400, "Audit log", str(exc))
    rows = [[when(e.as_dict()["at"]), e.actor, e.action, e.target or "",
             "; ".join(f"{k}: {v}" for k, v in sorted(e.detail.items()))] for e in found]
    return render(request, "audit/index.html", title="Audit log", active="/audit", asked=asked, rows=rows,
                  params={k: v for k, v in asked.items() if v}, page=page, has_more=has_more)
