"""The channel scheduler: jobs on their intervals, pushes soon after a change, one scheduler per database."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import func, select

from channel_helpers import channel_toml, wait_until as _wait_until
from gateway.channel_sync.scheduler import ChannelScheduler, Lease
from gateway.db import schema
from gateway.db.engine import make_database
from gateway.stock import stock_view

FAST = dict(push_interval_seconds=1, order_interval_seconds=1, listing_interval_seconds=1)


def _runs(db) -> list:
    r = schema.job_runs.c
    with db.read() as conn:
        return conn.execute(select(r.job, r.channel, r.holder, r.started_at, r.finished_at, r.ok)
                            .order_by(r.started_at)).all()


def test_a_change_reaches_the_channel_soon_without_waiting_for_the_interval(make_channels, db):
    ch = make_channels(channel_toml("amz", "amazon", push_interval_seconds=3600, order_interval_seconds=3600,
                                    listing_interval_seconds=3600))
    ch.set("HAT", "MF", 5)
    ch.sandbox("amz").add_listing("A-1", "HAT", 5)
    scheduler = ChannelScheduler(db, ch.settings, holder="one")
    scheduler.start()
    try:
        _wait_until(lambda: ch.shown("amz") == {"A-1": 5} and ch.history("amz"), 10, "the first push")
        ch.set("HAT", "MF", 2)
        _wait_until(lambda: ch.shown("amz") == {"A-1": 2}, 10, "the debounced push of the change")
    finally:
        scheduler.stop(5)


def test_two_schedulers_on_one_database_run_each_job_once_per_interval_and_take_each_order_once(
        make_channels, database_url):
    ch = make_channels(channel_toml("amz", "amazon", **FAST), channel_toml("shop", "shopify", **FAST))
    ch.set("HAT", "MF", 50)
    for name in ("amz", "shop"):
        ch.sandbox(name).add_listing(f"{name}-1", "HAT", 50)
    dbs = [make_database(database_url), make_database(database_url)]
    schedulers = [ChannelScheduler(d, ch.settings, holder=f"serve-{i}", lease_seconds=3)
                  for i, d in enumerate(dbs)]
    started = time.monotonic()
    for s in schedulers:
        s.start()
    try:
        for n in range(6):
            ch.sandbox("amz" if n % 2 else "shop").place_order(f"O-{n}", [("HAT", 1)])
            time.sleep(0.5)
        _wait_until(lambda: ch.shown("amz") == {"amz-1": 44} and ch.shown("shop") == {"shop-1": 44}, 15,
                    "both channels showing 44")
    finally:
        for s in schedulers:
            s.stop(5)
        elapsed = time.monotonic() - started
        for d in dbs:
            d.dispose()
    runs = _runs(ch.jobs.db)
    assert len({r.holder for r in runs}) == 1, "only the lease holder ran jobs"
    per_job = Counter((r.job, r.channel) for r in runs)
    assert set(per_job) == {(job, c) for job in ("listings", "orders", "push") for c in ("amz", "shop")}
    for (job, channel), count in per_job.items():
        assert 1 <= count <= int(elapsed / 1) + 1, (job, channel, count, elapsed)
        mine = [r for r in runs if (r.job, r.channel) == (job, channel)]
        assert all(a.finished_at <= b.started_at for a, b in zip(mine, mine[1:])), "runs never overlap"
    with ch.jobs.db.read() as conn:
        assert stock_view(conn, ["HAT"])[0]["available"] == 44
        orders = conn.execute(select(func.count()).select_from(schema.orders)).scalar_one()
        taken = conn.execute(select(func.count()).select_from(schema.ledger)
                             .where(schema.ledger.c.cause == "order")).scalar_one()
    assert (orders, taken) == (6, 6)


def test_a_lease_is_held_by_one_holder_until_it_expires_or_is_released(db):
    first, second = Lease(db, "test", "a", 0.5), Lease(db, "test", "b", 0.5)
    assert first.hold() and not second.hold()
    assert first.hold()                                  # renewal
    time.sleep(0.6)
    assert second.hold() and not first.hold()            # taken over once expired
    second.release()
    assert first.hold()


def test_a_stopped_scheduler_hands_over_at_once_and_nothing_pushed_is_lost(make_channels, db, database_url):
    ch = make_channels(channel_toml("amz", "amazon", push_interval_seconds=3600, order_interval_seconds=3600,
                                    listing_interval_seconds=3600))
    ch.set("HAT", "MF", 5)
    ch.sandbox("amz").add_listing("A-1", "HAT", 5)
    first = ChannelScheduler(db, ch.settings, holder="first", lease_seconds=60)
    first.start()
    _wait_until(lambda: ch.history("amz"), 10, "the first push")
    first.stop(5)
    ch.set("HAT", "MF", 3)                  # changed while nothing runs: owed in the outbox
    second_db = make_database(database_url)
    second = ChannelScheduler(second_db, ch.settings, holder="second", lease_seconds=60)
    second.start()
    try:
        assert second.is_leader
        _wait_until(lambda: ch.shown("amz") == {"A-1": 3}, 10, "the owed push after the restart")
    finally:
        second.stop(5)
        second_db.dispose()


def test_a_push_longer_than_the_lease_keeps_the_lease_so_no_other_scheduler_takes_over(make_channels, db):
    import threading

    from gateway.channel_sync.adapters import make_adapter

    ch = make_channels(channel_toml("amz", "amazon", push_interval_seconds=3600, order_interval_seconds=3600,
                                    listing_interval_seconds=3600))
    ch.set("HAT", "MF", 5)
    ch.sandbox("amz").add_listing("A-1", "HAT", 5)
    pushing, release = threading.Event(), threading.Event()

    def slow_adapters(settings, data_dir):
        adapter = make_adapter(settings, data_dir)
        push = adapter.push_quantities

        def slow_push(updates):
            pushing.set()
            release.wait(20)                       # a feed server answering slowly
            return push(updates)
        adapter.push_quantities = slow_push
        return adapter

    scheduler = ChannelScheduler(db, ch.settings, holder="slow-host:1", lease_seconds=1.5, poll_seconds=0.1,
                                 adapter_factory=slow_adapters)
    scheduler.start()
    try:
        assert pushing.wait(10)
        time.sleep(3)                              # twice the lease's life while the push hangs
        assert Lease(db, "channel-scheduler", "other-host:2", 1.5).hold() is False
    finally:
        release.set()
        scheduler.stop(5)
    assert ch.shown("amz") == {"A-1": 5}


def test_a_manual_channel_job_refuses_while_a_running_serve_holds_the_scheduler_lease(two_sandboxes, stockgate):
    from gateway.db.leases import process_holder

    ch = two_sandboxes
    serve = Lease(ch.jobs.db, "channel-scheduler", process_holder(), 60)   # a live process of this host
    assert serve.hold()
    refused = stockgate("channels", "push", "amz", config=ch.config)
    assert (refused.code, refused.err.count("\n")) == (2, 1) and "--force" in refused.err
    assert stockgate("channels", "push", "amz", "--force").code == 0
    serve.release()
    assert stockgate("channels", "sync", "amz").code == 0
