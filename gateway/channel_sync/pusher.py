"""Deliver the push outbox: send each listing its target quantity, record the outcome, retry with backoff.

The outbox (`outbox`) holds one row per listing owing a push, written in the stock change's own
transaction. `push_channel` sends the due rows whose target (recomputed by `outbox.listing_targets`)
differs from the listing's last pushed quantity, then records per listing: delivered rows are deleted only
if their target was not changed meanwhile (compared on target_qty and created_at); failed rows are retried
after an exponential backoff with jitter. `reconcile_channel` re-enqueues every listing whose last pushed
quantity is not its target.

Several locations: a listing at a marketplace location (`listings.location`, set on a channel with
`locations`) is sent through the adapter's `push_location_quantities(location, updates)`, one call per
location (`channels.base.LocatedChannelAdapter`); a listing at the default location "" through
`push_quantities`, as before. Outcomes are recorded per listing row, so one location failing retries only
its own listings.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, delete, func, select, update

from channels.base import PushResult
from channels.errors import ChannelError, RetryableChannelError
from gateway.channel_sync.adapters import channel_errors
from gateway.channel_sync.outbox import listing_targets, location_warehouses
from gateway.clock import now
from gateway.db import schema
from gateway.db.engine import Database
from gateway.db.upsert import insert_ignore
from gateway.orders.rows import channel_row

log = logging.getLogger(__name__)
BATCH_SIZE = 1000
MAX_BATCHES = 100


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of base * 2**(n-1), capped."""

    base_seconds: float = 1.0
    max_seconds: float = 300.0

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt `attempts + 1` (attempts >= 1)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempts - 1, 0))
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


@dataclass(frozen=True)
class PushOutcome:
    """What one push run did for one channel."""

    channel: str
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0            # due rows that needed no call: already pushed, unlinked or gone


def reconcile_channel(conn: Connection, channel_id: int, *, at: datetime | None = None) -> int:
    """Enqueue every listing of the channel whose last pushed quantity differs from its target; a row
    already waiting gets the current target but keeps its backoff. Returns how many listings owe a push."""
    at = at or now()
    o = schema.push_outbox.c
    owed = [t for t in listing_targets(conn, channel_id=channel_id) if t.last_pushed_qty != t.target_qty]
    waiting = dict(conn.execute(select(o.listing_pk, o.target_qty).where(o.channel_id == channel_id)).all())
    stale = [{"k_pk": t.listing_pk, "target_qty": t.target_qty, "created_at": at} for t in owed
             if t.listing_pk in waiting and waiting[t.listing_pk] != t.target_qty]
    if stale:
        conn.execute(update(schema.push_outbox).where(o.listing_pk == bindparam("k_pk"))
                     .values(target_qty=bindparam("target_qty"), created_at=bindparam("created_at")), stale)
    insert_ignore(conn, schema.push_outbox, [
        {"listing_pk": t.listing_pk, "channel_id": channel_id, "target_qty": t.target_qty, "created_at": at,
         "due_at": at, "attempts": 0, "last_error": None} for t in owed if t.listing_pk not in waiting],
        ["listing_pk"])
    return len(owed)


def next_due(conn: Connection) -> dict[int, datetime]:
    """The earliest due time of each channel's outbox rows."""
    o = schema.push_outbox.c
    return dict(conn.execute(select(o.channel_id, func.min(o.due_at)).group_by(o.channel_id)).all())


@dataclass(frozen=True)
class _Due:
    """An outbox row as read, plus `send_qty`: the listing's target recomputed from the committed stock
    now. The stored target may be stale when two transactions changed one item's stock at once (each saw
    the other's old level); sending the recomputed figure heals that at the next push."""

    listing_pk: int
    target_qty: int
    created_at: datetime
    attempts: int
    listing_id: str
    status: str
    item_id: int | None
    last_pushed_qty: int | None
    send_qty: int
    location: str = ""
    unplaced: bool = False      # at a location its channel no longer maps: never sent


def _due_rows(conn: Connection, channel_id: int, at: datetime, limit: int) -> list[_Due]:
    o, l = schema.push_outbox.c, schema.listings.c
    rows = conn.execute(
        select(o.listing_pk, o.target_qty, o.created_at, o.attempts, l.listing_id, l.status, l.item_id,
               l.last_pushed_qty, l.location)
        .join(schema.listings, l.id == o.listing_pk)
        .where(o.channel_id == channel_id, o.due_at <= at).order_by(o.due_at, o.listing_pk).limit(limit)).all()
    current = {t.listing_pk: t.target_qty for t in listing_targets(conn, listing_pks=[r.listing_pk for r in rows])}
    mapped = location_warehouses(conn, [channel_id]).get(channel_id)
    return [_Due(r.listing_pk, r.target_qty, r.created_at, r.attempts, r.listing_id, r.status, r.item_id,
                 r.last_pushed_qty, current.get(r.listing_pk, r.target_qty), r.location,
                 (r.location not in mapped) if mapped is not None else bool(r.location)) for r in rows]


def _unchanged(row):
    """The outbox row still holds what was read: same target, same creation time."""
    o = schema.push_outbox.c
    return and_(o.listing_pk == row.listing_pk, o.target_qty == row.target_qty, o.created_at == row.created_at)


def _send_located(adapter, rows: list[_Due]) -> list[PushResult]:
    """Each row's result, in order: the default location's rows through `push_quantities`, each other
    location's through `push_location_quantities` (one call per location); an adapter without it fails
    those rows permanently, saying so."""
    by_location: dict[str, list[int]] = {}
    for n, r in enumerate(rows):
        by_location.setdefault(r.location, []).append(n)
    results: list[PushResult | None] = [None] * len(rows)
    for location, indexes in by_location.items():
        updates = [(rows[n].listing_id, rows[n].send_qty) for n in indexes]
        if not location:
            answers = _send(adapter, updates)
        elif not callable(getattr(adapter, "push_location_quantities", None)):
            answers = [PushResult(lid, False, f"the {type(adapter).__name__} cannot push to a location "
                                              f"({location!r}): remove the channel's `locations`") for lid, _ in updates]
        else:
            answers = _send(adapter, updates, location)
        for n, answer in zip(indexes, answers):
            results[n] = answer
    return results


def _send(adapter, updates: list[tuple[str, int]], location: str | None = None) -> list[PushResult]:
    try:
        with channel_errors():
            results = adapter.push_quantities(updates) if location is None else \
                adapter.push_location_quantities(location, updates)
    except ChannelError as exc:
        retryable = isinstance(exc, RetryableChannelError)
        return [PushResult(lid, False, str(exc), retryable) for lid, _ in updates]
    by_id = {r.listing_id: r for r in results}
    return [by_id.get(lid) or PushResult(lid, False, "the channel gave no result", True) for lid, _ in updates]


def _push_batch(db: Database, channel_id: int, adapter, at: datetime, backoff: Backoff,
                rng: random.Random | None, limit: int) -> tuple[int, int, int, int]:
    with db.read() as conn:
        rows = _due_rows(conn, channel_id, at, limit)
    skip = [r for r in rows if r.status != "active" or r.item_id is None or r.send_qty == r.last_pushed_qty
            or r.unplaced]
    send = [r for r in rows if r not in skip]
    if any(r.location for r in send):
        results = _send_located(adapter, send)
    else:
        results = _send(adapter, [(r.listing_id, r.send_qty) for r in send]) if send else []
    done = now()
    l, o = schema.listings.c, schema.push_outbox.c
    with db.write() as conn:
        for r in skip:
            conn.execute(delete(schema.push_outbox).where(_unchanged(r)))
        history = []
        for r, result in zip(send, results):
            history.append({"listing_pk": r.listing_pk, "at": done, "quantity": r.send_qty, "ok": result.ok,
                            "error": result.error})
            if result.ok:
                conn.execute(update(schema.listings).where(l.id == r.listing_pk).values(
                    last_pushed_qty=r.send_qty, channel_qty=r.send_qty, last_pushed_at=done, last_push_error=None))
                conn.execute(delete(schema.push_outbox).where(_unchanged(r)))
                continue
            attempts = r.attempts + 1
            wait = backoff.delay(attempts, rng) if result.retryable else backoff.max_seconds
            conn.execute(update(schema.listings).where(l.id == r.listing_pk).values(last_push_error=result.error))
            conn.execute(update(schema.push_outbox).where(o.listing_pk == r.listing_pk, o.created_at == r.created_at)
                         .values(attempts=attempts, due_at=done + timedelta(seconds=wait), last_error=result.error))
        if history:
            conn.execute(schema.push_results.insert(), history)
    failed = sum(not r.ok for r in results)
    if failed:
        log.warning("channel push: %d of %d listings failed (first error: %s)", failed, len(results),
                    next(r.error for r in results if not r.ok))
    return len(rows), len(send), len(send) - failed, failed


def push_channel(db: Database, channel: str, adapter, *, at: datetime | None = None, backoff: Backoff = Backoff(),
                 rng: random.Random | None = None, batch_size: int = BATCH_SIZE) -> PushOutcome:
    """Send the channel's due outbox rows (those due at `at`, default now) in batches; record outcomes."""
    with db.read() as conn:
        ch_id = channel_row(conn, channel).id
    totals = [0, 0, 0, 0]
    for _ in range(MAX_BATCHES):
        read, sent, delivered, failed = _push_batch(db, ch_id, adapter, at or now(), backoff, rng, batch_size)
        totals = [a + b for a, b in zip(totals, (read, sent, delivered, failed))]
        if read < batch_size or failed:
            break
    return PushOutcome(channel, sent=totals[1], delivered=totals[2], failed=totals[3], skipped=totals[0] - totals[1])
