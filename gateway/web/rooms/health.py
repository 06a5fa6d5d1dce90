"""`/healthz`: `ok` when the database answers, 503 otherwise (no login needed: for monitoring)."""

from __future__ import annotations

from fastapi import Depends
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from gateway.db.engine import Database
from gateway.web.deps import get_db, room_router

router = room_router()


@router.get("/healthz")
def healthz(db: Database = Depends(get_db)):
    try:
        with db.read() as conn:
            conn.execute(select(1)).scalar_one()
    except Exception as exc:
        return PlainTextResponse(f"database unavailable: {type(exc).__name__}\n", status_code=503)
    return PlainTextResponse("ok\n")
