"""What each configured FTP account has sent: its last upload and the last file refused, for `stockgate
sources` and the Sources page (FTP has no poll: a drop is its activity)."""

from __future__ import annotations

from sqlalchemy import func, select

from gateway.clock import iso
from gateway.db import schema
from gateway.db.engine import Database
from gateway.settings import Settings

REFUSED = ("rejected",)   # a file from the account that changed nothing because it could not be used


def _file(row) -> dict | None:
    if row is None:
        return None
    return {"file_id": row.file_id, "name": row.name, "received_at": iso(row.received_at), "status": row.status,
            "message": row.status_message}


def ftp_account_status(db: Database, settings: Settings) -> list[dict]:
    """Each configured FTP account (`[[accounts]]`) with its warehouses, mode, how many files it sent, its
    last upload and its last refused file (newest first by receipt)."""
    f = schema.files.c
    names = [a.username for a in settings.accounts]
    if not names:
        return []
    ftp = (f.transport == "ftp") & f.account.in_(names)
    columns = (f.account, f.file_id, f.name, f.received_at, f.status, f.status_message)
    with db.read() as conn:
        counts = dict(conn.execute(select(f.account, func.count()).where(ftp).group_by(f.account)).all())
        last = select(func.max(f.seq).label("seq")).where(ftp).group_by(f.account).subquery()
        uploads = {r.account: r for r in conn.execute(select(*columns).join(last, last.c.seq == f.seq))}
        worst = (select(func.max(f.seq).label("seq")).where(ftp, f.status.in_(REFUSED)).group_by(f.account)
                 .subquery())
        refused = {r.account: r for r in conn.execute(select(*columns).join(worst, worst.c.seq == f.seq))}
    return [{"username": a.username, "warehouses": list(a.warehouses), "mode": a.mode,
             "create_unknown_skus": a.create_unknown_skus, "files": counts.get(a.username, 0),
             "last_upload": _file(uploads.get(a.username)), "last_refused": _file(refused.get(a.username))}
            for a in settings.accounts]
