"""A channel's restore policy, buffer, cap and schedules edited in the database (`stockgate channels set`):
checked as the file's values are, used by the next push, cancellation and scheduled run, kept across
restarts, and undone by `unset`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from channel_helpers import channel_toml, wait_until
from gateway.app import App
from gateway.channel_sync.overrides import editable_channel_settings, effective_channel_settings
from gateway.channel_sync.scheduler import ChannelScheduler
from gateway.core.reason_tables import MARKETPLACES, REASON_TABLES
from gateway.db import schema
from gateway.stock import stock_view


def _available(ch, sku: str = "HAT") -> int:
    with ch.jobs.db.read() as conn:
        return stock_view(conn, [sku])[0]["available"]


def _listed(ch, stockgate, quantity: int = 10) -> None:
    """HAT = `quantity` in MF, listed on amz as L1 and shown there."""
    ch.set("HAT", "MF", quantity)
    ch.sandbox("amz").add_listing("L1", "HAT", quantity)
    assert stockgate("channels", "sync", "amz", config=ch.config).code == 0
    assert stockgate("channels", "push", "amz").code == 0


def _sources(stockgate, name: str = "amz") -> dict[str, tuple]:
    document = stockgate("channels", "settings", name, "--json").json()
    return {s["key"]: (s["value"], s["source"]) for s in document["settings"]}


@pytest.mark.parametrize("file_policy, edited, available_after_cancel", [
    ("always", "never", 8),      # the edit keeps the stock the order took
    ("never", "always", 10),     # the edit gives it back
    ("never", "smart", 10),      # Buyer Canceled reads Yes in Amazon's table
])
def test_the_edited_restore_policy_decides_the_next_marketplace_cancellation(
        make_channels, stockgate, file_policy, edited, available_after_cancel):
    ch = make_channels(channel_toml("amz", "amazon", restore_policy=file_policy))
    _listed(ch, stockgate)
    stockgate("sandbox", "order", "amz", "O1", "HAT:2")
    assert stockgate("channels", "pull", "amz").code == 0
    assert _available(ch) == 8
    result = stockgate("channels", "set", "amz", f"restore_policy={edited}", "--by", "alice")
    assert result.code == 0 and f"restore_policy = {edited} (edit by alice at " in result.out, result
    stockgate("sandbox", "cancel", "amz", "O1", "--reason", "Buyer Canceled")
    assert stockgate("channels", "pull", "amz").code == 0
    assert _available(ch) == available_after_cancel
    explained = stockgate("orders", "explain", "amz", "O1", "--json").json()
    assert explained["restore_policy"] == edited


def test_a_buffer_edit_changes_the_next_pushed_quantity_and_unset_brings_the_file_value_back(
        make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon", buffer=1))
    _listed(ch, stockgate)
    assert ch.shown("amz") == {"L1": 9}
    assert stockgate("channels", "set", "amz", "buffer=4", "max_qty=5").code == 0
    assert stockgate("channels", "push", "amz").code == 0
    assert ch.shown("amz") == {"L1": 5}                      # min(10 - 4, 5)
    assert stockgate("channels", "unset", "amz", "max_qty").code == 0
    assert stockgate("channels", "push", "amz").code == 0
    assert ch.shown("amz") == {"L1": 6}
    result = stockgate("channels", "unset", "amz", "buffer")
    assert result.code == 0 and "buffer = 1 (config file)" in result.out
    assert stockgate("channels", "push", "amz").code == 0
    assert ch.shown("amz") == {"L1": 9}
    assert _sources(stockgate)["buffer"] == (1, "config file")


def test_a_buffer_edit_reaches_a_running_scheduler_without_a_restart(make_channels, stockgate, db):
    ch = make_channels(channel_toml("amz", "amazon", push_interval_seconds=3600, order_interval_seconds=3600,
                                    listing_interval_seconds=3600))
    ch.set("HAT", "MF", 10)
    ch.sandbox("amz").add_listing("L1", "HAT", 10)
    scheduler = ChannelScheduler(db, ch.settings, holder="serve-1")
    scheduler.start()
    try:
        wait_until(lambda: ch.shown("amz") == {"L1": 10} and ch.history("amz"), 15, "the first push")
        assert stockgate("channels", "set", "amz", "buffer=3", config=ch.config).code == 0
        wait_until(lambda: ch.shown("amz") == {"L1": 7}, 15, "the push the edit owes")
    finally:
        scheduler.stop(5)


def test_an_edited_order_interval_is_used_from_the_next_schedule_check_without_a_restart(
        make_channels, stockgate, db):
    ch = make_channels(channel_toml("amz", "amazon", push_interval_seconds=3600, order_interval_seconds=3600,
                                    listing_interval_seconds=3600))
    ch.set("HAT", "MF", 10)
    ch.sandbox("amz").add_listing("L1", "HAT", 10)
    scheduler = ChannelScheduler(db, ch.settings, holder="serve-1", schedule_check_seconds=0.2)
    scheduler.start()
    try:
        wait_until(lambda: _finished_runs(db, "orders") == 1, 15, "the pull at start")
        ch.sandbox("amz").place_order("O1", [("HAT", 3)])
        assert stockgate("channels", "set", "amz", "order_interval_seconds=0.5", config=ch.config).code == 0
        wait_until(lambda: _available(ch) == 7, 15, "the order pulled on the edited interval")
    finally:
        scheduler.stop(5)


@pytest.mark.parametrize("edits, message", [
    (["restore_policy=sometimes"], "channels['amz'].restore_policy: 'sometimes' is not one of always, never, smart"),
    (["restore_policy=Never"], "channels['amz'].restore_policy: 'Never' is not one of always, never, smart"),
    (["buffer=-1"], "channels['amz'].buffer: -1 must be 0 or more"),
    (["buffer=two"], "channels['amz'].buffer: expected an integer, got 'two'"),
    (["buffer=1.5"], "channels['amz'].buffer: expected an integer, got 1.5"),
    (["max_qty=3000000000"], "channels['amz'].max_qty: 3000000000 is above the limit of 2,000,000,000"),
    (["push_interval_seconds=0"], "channels['amz'].push_interval_seconds: 0.0 must be more than 0"),
    (["buffer=2", "order_interval_seconds=soon"], "channels['amz'].order_interval_seconds: expected a number"),
    (["adapter=feed"], "channels['amz'].adapter: not a setting that can be edited"),
    (["buffer"], "'buffer' is not KEY=VALUE"),
])
def test_a_bad_value_is_refused_naming_channel_key_and_value_and_nothing_is_stored(
        make_channels, stockgate, db, edits, message):
    ch = make_channels(channel_toml("amz", "amazon", buffer=1))
    result = stockgate("channels", "set", "amz", *edits, config=ch.config)
    assert (result.code, result.err.count("\n"), result.out) == (2, 1, ""), result
    assert message in result.err and "internal error" not in result.err, result.err
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(schema.channel_settings)).scalar_one() == 0
        assert conn.execute(select(schema.channels.c.buffer)).scalar_one() == 1
    assert {source for _, source in _sources(stockgate).values()} == {"config file"}


def test_an_unknown_channel_is_named_with_the_configured_ones(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon"))
    for args in (("set", "ebay", "buffer=1"), ("unset", "ebay", "buffer"), ("settings", "ebay")):
        result = stockgate("channels", *args, config=ch.config)
        assert result.code == 2 and "channel 'ebay' is not configured (configured: amz)" in result.err, result


def test_edits_survive_a_new_app_and_win_over_the_file_until_unset(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon", restore_policy="smart", buffer=1))
    assert stockgate("channels", "set", "amz", "restore_policy=never", "buffer=2", "--by", "bob",
                     config=ch.config).code == 0
    app = App.from_config(str(ch.config))          # a restart: the file is read again and synced
    try:
        effective = effective_channel_settings(app.db, app.settings, "amz")
        with app.db.read() as conn:
            row = conn.execute(select(schema.channels.c.restore_policy, schema.channels.c.buffer)).one()
    finally:
        app.close()
    assert (effective.channel.restore_policy, effective.channel.buffer) == ("never", 2)
    assert tuple(row) == ("never", 2)
    listed = stockgate("channels", "list", "--json").json()["channels"][0]
    assert (listed["restore_policy"], listed["buffer"]) == ("never", 2)
    assert stockgate("channels", "unset", "amz", "restore_policy").code == 0
    assert stockgate("channels", "list", "--json").json()["channels"][0]["restore_policy"] == "smart"


def test_settings_show_each_value_with_where_it_comes_from(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon", buffer=1, listing_interval_seconds=600))
    assert stockgate("channels", "set", "amz", "max_qty=20", "--by", "carol", config=ch.config).code == 0
    sources = _sources(stockgate)
    assert sources["buffer"] == (1, "config file")
    assert sources["listing_interval_seconds"] == (600, "config file")
    assert sources["max_qty"][0] == 20 and sources["max_qty"][1].startswith("edit by carol at 20")
    text = stockgate("channels", "settings", "amz").out
    assert any(line.split()[:2] == ["max_qty", "20"] and "edit by carol at" in line for line in text.splitlines())
    assert any(line.split()[:4] == ["buffer", "1", "config", "file"] for line in text.splitlines())
    assert "keeps the stock on No Inventory" in text


@pytest.mark.parametrize("marketplace", [m for m in MARKETPLACES if m in REASON_TABLES])
def test_the_settings_form_lists_each_editable_key_and_every_reason_of_the_marketplace_table(
        make_channels, db, marketplace):
    ch = make_channels(channel_toml("shop", marketplace))
    form = editable_channel_settings(db, ch.settings, "shop")
    keys = {s["key"]: s for s in form["settings"]}
    assert keys["restore_policy"]["choices"] == ["always", "never", "smart"]
    assert keys["buffer"]["type"] == "integer" and keys["push_interval_seconds"]["unit"] == "seconds"
    shown = [(r["reason"], r["verdict"], r["restores"]) for r in form["smart_reasons"]["rows"]]
    assert shown == [(r.reason, r.verdict, r.verdict != "no") for r in REASON_TABLES[marketplace]]
    assert ("No Inventory", "no", False) in shown or marketplace != "amazon"


def test_a_marketplace_without_a_reason_table_says_smart_always_restores(make_channels, db):
    ch = make_channels(channel_toml("misc", "other"))
    form = editable_channel_settings(db, ch.settings, "misc")
    assert form["smart_reasons"]["rows"] == [] and "every cancellation restores" in form["smart_reasons"]["note"]


def _finished_runs(db, job: str) -> int:
    r = schema.job_runs.c
    with db.read() as conn:
        return conn.execute(select(func.count()).where(r.job == job, r.finished_at.is_not(None))).scalar_one()


def test_every_edit_and_unset_is_in_the_audit_log_with_who_and_the_values_before_and_after(make_channels, stockgate):
    ch = make_channels(channel_toml("amz", "amazon", buffer=1))
    assert stockgate("channels", "set", "amz", "buffer=4", "restore_policy=never", config=ch.config).code == 0
    assert stockgate("channels", "unset", "amz", "buffer").code == 0
    assert stockgate("channels", "unset", "amz", "buffer").code == 0    # nothing to undo: no entry

    entries = stockgate("audit", "--action", "channel.set", "--json").json()["entries"] \
        + stockgate("audit", "--action", "channel.unset", "--json").json()["entries"]

    assert [(e["action"], e["target"], e["detail"]) for e in entries] == [
        ("channel.set", "amz", {"buffer": {"from": 1, "to": 4}, "restore_policy": {"from": "smart", "to": "never"}}),
        ("channel.unset", "amz", {"buffer": {"from": 4, "to": 1}}),
    ]
    assert all(e["actor"].startswith("cli:") for e in entries)
