"""Each configured channel as `stockgate channels list` and the Integrations page show it: its settings, the
reason table its restore policy reads, its listings and pending pushes, and what its last jobs did."""

from __future__ import annotations

import json

from sqlalchemy import Connection, func, select

from gateway.channel_sync.overrides import channel_edits, effective_channel
from gateway.clock import iso
from gateway.core.reason_tables import REASON_TABLES
from gateway.db import schema
from gateway.settings import Settings

JOBS = ("listings", "orders", "push")
LISTING_STATUSES = ("active", "missing", "sold", "deleted")


def reason_table(marketplace: str) -> list[dict]:
    """The marketplace's cancellation reasons with their verdict under `smart` (empty: no table, so every
    cancellation restores)."""
    return [{"reason": row.reason, "verdict": row.verdict, "restores": row.restores, "api_codes": list(row.api_codes)}
            for row in REASON_TABLES.get(marketplace.strip().lower(), ())]


def run_summary(detail: str | None) -> str | None:
    """A job run's stored detail (its outcome or error as JSON) in words: "sent 3, delivered 2, failed 1" or
    the error's message; text that is not such JSON as it is."""
    try:
        value = json.loads(detail) if detail else None
    except ValueError:
        return detail
    if not isinstance(value, dict):
        return detail
    if "error" in value:
        return str(value["error"])
    words = [str(k).replace("_", " ") + ("" if v is True else f" {v}") for k, v in value.items()
             if k != "channel" and v is not None and v is not False and not isinstance(v, (dict, list))]
    return ", ".join(words) or None       # a flag reads as its name when set: "full, seen 2, new 2, ..."


def _last_runs(conn: Connection) -> dict[tuple[str, str], dict]:
    r = schema.job_runs.c
    latest = select(r.channel, r.job, func.max(r.id).label("id")).group_by(r.channel, r.job).subquery()
    rows = conn.execute(select(r.channel, r.job, r.started_at, r.finished_at, r.ok, r.detail)
                        .join(latest, latest.c.id == r.id))
    return {(x.channel, x.job): {"started_at": iso(x.started_at), "finished_at": iso(x.finished_at), "ok": x.ok,
                                 "detail": x.detail, "summary": run_summary(x.detail)} for x in rows}


def _last_errors(conn: Connection) -> dict[str, dict]:
    """Each channel's newest failed job run."""
    r = schema.job_runs.c
    latest = (select(r.channel, func.max(r.id).label("id")).where(r.ok.is_(False)).group_by(r.channel)
              .subquery())
    return {x.channel: {"job": x.job, "at": iso(x.finished_at or x.started_at), "detail": x.detail,
                        "summary": run_summary(x.detail)}
            for x in conn.execute(select(r.channel, r.job, r.started_at, r.finished_at, r.detail)
                                  .join(latest, latest.c.id == r.id))}


def channel_overview(conn: Connection, settings: Settings) -> list[dict]:
    """Every configured channel, in the configuration's order, with its stored edits applied
    (`stockgate channels set`)."""
    l, o, c = schema.listings.c, schema.push_outbox.c, schema.channels.c
    ids = dict(conn.execute(select(c.name, c.id)).all())
    by_status = {(ch, st): n for ch, st, n in conn.execute(
        select(l.channel_id, l.status, func.count()).group_by(l.channel_id, l.status))}
    unlinked = dict(conn.execute(select(l.channel_id, func.count()).where(l.item_id.is_(None))
                                 .group_by(l.channel_id)).all())
    pending = dict(conn.execute(select(o.channel_id, func.count()).group_by(o.channel_id)).all())
    runs, errors, edits = _last_runs(conn), _last_errors(conn), channel_edits(conn)
    channels = []
    for cfg in settings.channels:
        cfg = effective_channel(cfg, edits.get(cfg.name)).channel
        cid = ids.get(cfg.name)
        channels.append({
            "name": cfg.name, "marketplace": cfg.marketplace, "adapter": cfg.adapter, "enabled": cfg.enabled,
            "restore_policy": cfg.restore_policy, "buffer": cfg.buffer, "max_qty": cfg.max_qty,
            "schedules": {"push_interval_seconds": cfg.push_interval_seconds,
                          "order_interval_seconds": cfg.order_interval_seconds,
                          "listing_interval_seconds": cfg.listing_interval_seconds},
            "reason_table": reason_table(cfg.marketplace),
            "listings": {st: by_status.get((cid, st), 0) for st in LISTING_STATUSES},
            "unlinked": unlinked.get(cid, 0), "pending_pushes": pending.get(cid, 0),
            "last_runs": {job: runs.get((cfg.name, job)) for job in JOBS},
            "last_error": errors.get(cfg.name)})
    return channels
