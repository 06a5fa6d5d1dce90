"""The push outbox: only differing values sent, outcomes recorded, failures retried, nothing lost."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from channels.sandbox import SandboxAdapter
from channel_helpers import channel_toml
from gateway.channel_sync.pusher import Backoff, push_channel
from gateway.clock import now
from gateway.db import schema


def _linked(ch, channel: str, listings: dict[str, tuple[str, int]]) -> None:
    market = ch.sandbox(channel)
    for listing_id, (sku, qty) in listings.items():
        market.add_listing(listing_id, sku, qty)
    ch.jobs.sync(channel)
    ch.jobs.push_now(channel)


def _outbox_rows(ch) -> int:
    with ch.jobs.db.read() as conn:
        return conn.execute(select(func.count()).select_from(schema.push_outbox)).scalar_one()


def test_a_push_sends_only_the_listings_whose_target_differs_from_the_last_pushed(two_sandboxes):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5), "A-2": ("CAP", 7), "A-3": ("BAG", 1)})
    before = len(ch.history("amz"))
    ch.set("HAT", "MF", 6)
    ch.set("CAP", "MF", 7)          # the same figure: no ledger entry, nothing owed
    ch.set("BAG", "MF", 2)
    ch.set("BAG", "MF", 1)          # back to what the channel already shows
    outcome = ch.jobs.push_now("amz")
    assert ch.history("amz")[before:] == [("A-1", 6)]
    assert (outcome.sent, outcome.skipped) == (1, 1)
    assert ch.shown("amz") == {"A-1": 6, "A-2": 7, "A-3": 1}
    assert _outbox_rows(ch) == 0


def test_an_interval_push_reconciles_a_listing_whose_last_pushed_quantity_is_not_its_target(two_sandboxes):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5)})
    with ch.jobs.db.write() as conn:
        conn.execute(schema.listings.update().values(last_pushed_qty=99))   # e.g. a push recorded wrongly
    ch.jobs.push("amz")
    assert ch.shown("amz") == {"A-1": 5}


def test_a_stale_outbox_target_is_recomputed_from_committed_stock_before_it_is_sent(two_sandboxes):
    # two transactions changing one item in two warehouses at once can each write a target computed
    # from the other's old level; the push must send what the stock is now, not the stale figure
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5)})
    ch.set("HAT", "MF", 8)
    with ch.jobs.db.write() as conn:
        conn.execute(schema.push_outbox.update().values(target_qty=3))
    ch.jobs.push_now("amz")
    assert ch.shown("amz") == {"A-1": 8}
    assert _outbox_rows(ch) == 0


def test_buffer_and_max_qty_shape_the_quantity_each_channel_is_pushed(make_channels):
    ch = make_channels(channel_toml("amz", "amazon", buffer=2), channel_toml("shop", "shopify", max_qty=4),
                       channel_toml("tiny", "ebay", buffer=20))
    for name in ("amz", "shop", "tiny"):
        _linked(ch, name, {f"{name}-1": ("HAT", 10)})
    ch.set("HAT", "MF", 11)
    for name in ("amz", "shop", "tiny"):
        ch.jobs.push_now(name)
    assert (ch.shown("amz"), ch.shown("shop"), ch.shown("tiny")) == ({"amz-1": 9}, {"shop-1": 4}, {"tiny-1": 0})


def test_a_channel_failing_its_next_five_pushes_then_recovering_ends_with_every_quantity_right(two_sandboxes):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5), "A-2": ("CAP", 7)})
    ch.sandbox("amz").fail_next(5)
    adapter, db = ch.jobs.adapter("amz"), ch.jobs.db
    rng, backoff = random.Random(7), Backoff(base_seconds=1, max_seconds=60)
    at = now()
    ch.set("HAT", "MF", 4)
    attempts = []
    for step in range(12):
        if step == 2:
            ch.set("CAP", "MF", 3)              # a change while the channel is down
        if step == 4:
            ch.set("HAT", "MF", 2)
        outcome = push_channel(db, "amz", adapter, at=at, backoff=backoff, rng=rng)
        attempts.append((outcome.sent, outcome.failed))
        with db.read() as conn:
            due = conn.execute(select(func.min(schema.push_outbox.c.due_at))).scalar_one()
        if due is None:
            break
        at = max(at, due.replace(tzinfo=at.tzinfo)) + timedelta(milliseconds=1)
    assert sum(failed for _, failed in attempts) >= 5 and attempts[-1][1] == 0
    assert ch.shown("amz") == {"A-1": 2, "A-2": 3}
    assert _outbox_rows(ch) == 0
    with db.read() as conn:
        errors = conn.execute(select(func.count()).select_from(schema.push_results)
                              .where(schema.push_results.c.ok.is_(False))).scalar_one()
        last_error = conn.execute(select(schema.listings.c.last_push_error)).scalars().all()
    assert errors >= 5 and last_error == [None, None]


def test_failed_pushes_wait_longer_after_each_failure(two_sandboxes):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5)})
    ch.sandbox("amz").fail_next(3)
    ch.set("HAT", "MF", 4)
    db, adapter = ch.jobs.db, ch.jobs.adapter("amz")
    waits, at = [], now()
    for _ in range(3):
        push_channel(db, "amz", adapter, at=at, backoff=Backoff(1, 60), rng=random.Random(1))
        with db.read() as conn:
            row = conn.execute(select(schema.push_outbox.c.due_at, schema.push_outbox.c.attempts)).one()
        due = row.due_at.replace(tzinfo=at.tzinfo)
        waits.append((row.attempts, due > at))
        at = due + timedelta(milliseconds=1)
    assert waits == [(1, True), (2, True), (3, True)]
    assert ch.shown("amz") == {"A-1": 5}
    push_channel(db, "amz", adapter, at=at)
    assert ch.shown("amz") == {"A-1": 4}


def test_a_timeout_after_the_marketplace_applied_the_push_is_retried_harmlessly(two_sandboxes):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5)})
    market = ch.sandbox("amz")
    market.timeout_seconds = 0.01
    market.fail_next(1, timeout=True)
    ch.set("HAT", "MF", 8)
    adapter = SandboxAdapter("amz", market.handle)
    first = push_channel(ch.jobs.db, "amz", adapter)
    assert first.failed == 1 and ch.shown("amz") == {"A-1": 8}      # applied, but StockGate never heard
    push_channel(ch.jobs.db, "amz", adapter, at=now() + timedelta(hours=1))
    assert ch.shown("amz") == {"A-1": 8} and _outbox_rows(ch) == 0


def test_a_change_made_while_its_push_is_in_flight_is_pushed_next(two_sandboxes):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5)})
    market = ch.sandbox("amz")

    def transport_changing_stock_mid_call(operation, payload):
        answer = market.handle(operation, payload)
        if operation == "push_quantities" and payload["updates"] == [["A-1", 4]]:
            ch.set("HAT", "MF", 1)              # committed while the push of 4 is on the wire
        return answer

    adapter = SandboxAdapter("amz", transport_changing_stock_mid_call)
    ch.set("HAT", "MF", 4)
    push_channel(ch.jobs.db, "amz", adapter)
    assert ch.shown("amz") == {"A-1": 4} and _outbox_rows(ch) == 1
    push_channel(ch.jobs.db, "amz", adapter)
    assert ch.shown("amz") == {"A-1": 1} and _outbox_rows(ch) == 0


def test_owed_pushes_survive_a_restart_because_the_outbox_is_in_the_database(two_sandboxes, make_channels):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5)})
    ch.set("HAT", "MF", 9)
    ch.jobs.db.dispose()                     # the process goes away before pushing
    restarted = make_channels(channel_toml("amz", "amazon"), channel_toml("shop", "shopify"))
    restarted.jobs.push_now("amz")
    assert restarted.shown("amz") == {"A-1": 9}


def test_channels_push_prints_what_it_sent_and_exits_1_while_pushes_fail(two_sandboxes, stockgate):
    ch = two_sandboxes
    _linked(ch, "amz", {"A-1": ("HAT", 5)})
    ch.set("HAT", "MF", 2)
    assert stockgate("sandbox", "fail", "amz", "1", config=ch.config).code == 0
    failing = stockgate("channels", "push", "amz", "--json")
    assert failing.code == 1 and failing.json()["failed"] == 1
    listing = stockgate("listings", "--json").json()["listings"][0]
    assert "simulated outage" in listing["last_push_error"] and listing["pending_quantity"] == 2
