"""Several locations: a channel's `locations` names which warehouses feed which marketplace location
(sandbox locations, Walmart ship nodes); each location is shown the sum of its own warehouses, pushed and
retried on its own. Both engines, the bundled sandbox and the Walmart contract server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from channel_helpers import channel_toml
from gateway.channel_sync.linking import link_listing
from gateway.channel_sync.listings import listings_view
from gateway.db import schema
from gateway.errors import ConfigError, UsageError

WAREHOUSES = '[[warehouses]]\ncode = "EAST"\n[[warehouses]]\ncode = "WEST"\n'


def _located(make_channels, **keys):
    keys.setdefault("locations", {"loc-e": ["EAST"], "loc-w": ["WEST", "MF"]})
    return make_channels(channel_toml("amz", "amazon", restore_policy="smart", **keys), extra=WAREHOUSES)


def _shown_at(ch, channel: str) -> dict[tuple[str, str], int]:
    return {(l["listing_id"], loc): at["quantity"] for l in ch.sandbox(channel).show()["listings"]
            for loc, at in (l.get("locations") or {}).items()}


def _history(ch, channel: str) -> list[tuple[str, str | None, int]]:
    return [(h["listing_id"], h.get("location"), h["quantity"]) for h in ch.sandbox(channel).show()["history"]]


def _stock(ch, levels: dict[tuple[str, str], int]) -> None:
    for (sku, warehouse), quantity in levels.items():
        ch.set(sku, warehouse, quantity)


def test_each_location_is_pushed_the_sum_of_its_own_warehouses_and_a_change_reaches_only_its_location(
        make_channels):
    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6, ("HAT", "MF"): 1})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-e", "loc-w"))
    ch.jobs.sync("amz", full=True)
    ch.jobs.push_now("amz")
    assert _shown_at(ch, "amz") == {("L-1", "loc-e"): 4, ("L-1", "loc-w"): 7}
    before = len(_history(ch, "amz"))
    ch.set("HAT", "EAST", 2)
    ch.jobs.push_now("amz")
    assert _history(ch, "amz")[before:] == [("L-1", "loc-e", 2)]
    with ch.jobs.db.read() as conn:
        rows = listings_view(conn, "amz")
    assert [(r["listing_id"], r["location"], r["link"], r["last_pushed_quantity"]) for r in rows] == [
        ("L-1", "loc-e", "linked", 2), ("L-1", "loc-w", "linked", 7)]


def test_the_buffer_and_the_cap_apply_to_each_location_on_its_own(make_channels):
    ch = _located(make_channels, buffer=1, max_qty=5)
    _stock(ch, {("HAT", "EAST"): 3, ("HAT", "WEST"): 9})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-e", "loc-w"))
    ch.jobs.sync("amz", full=True)
    ch.jobs.push_now("amz")
    assert _shown_at(ch, "amz") == {("L-1", "loc-e"): 2, ("L-1", "loc-w"): 5}


def test_a_listing_at_a_location_the_channel_does_not_map_stays_unlinked_and_is_never_pushed(make_channels):
    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4})
    ch.sandbox("amz").add_listing("L-1", "HAT", 9, locations=("loc-e", "loc-north"))
    ch.jobs.sync("amz", full=True)
    ch.jobs.push_now("amz")
    assert _shown_at(ch, "amz") == {("L-1", "loc-e"): 4, ("L-1", "loc-north"): 9}
    with ch.jobs.db.read() as conn:
        north = [r for r in listings_view(conn, "amz") if r["location"] == "loc-north"]
    assert [(r["link"], r["link_reason"]) for r in north] == [("unlinked", "LOCATION_NOT_MAPPED")]


def test_a_location_whose_push_failed_is_the_only_one_retried(make_channels):
    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-e", "loc-w"))
    ch.sandbox("amz").fail_next(1)                     # the first location's call fails, the second goes through
    ch.jobs.sync("amz", full=True)
    outcome = ch.jobs.push_now("amz")
    assert (outcome.delivered, outcome.failed) == (1, 1)
    assert _shown_at(ch, "amz") == {("L-1", "loc-e"): 0, ("L-1", "loc-w"): 6}
    with ch.jobs.db.write() as conn:                   # the backoff is over
        conn.execute(schema.push_outbox.update().values(due_at=schema.push_outbox.c.created_at))
    before = len(_history(ch, "amz"))
    ch.jobs.push_now("amz")
    assert _history(ch, "amz")[before:] == [("L-1", "loc-e", 4)]
    assert _shown_at(ch, "amz") == {("L-1", "loc-e"): 4, ("L-1", "loc-w"): 6}


def test_linking_a_listing_stocked_at_two_locations_asks_which_and_links_the_one_named(make_channels):
    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4, ("CAP", "WEST"): 3})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-e", "loc-w"))
    ch.jobs.sync("amz", full=True)
    with ch.jobs.db.write() as conn:
        with pytest.raises(UsageError, match="stocked at several locations \\('loc-e', 'loc-w'\\): name one"):
            link_listing(conn, "amz", "L-1", "CAP")
    with ch.jobs.db.write() as conn:
        conn.execute(schema.listings.update().values(item_id=None, link_reason="UNLINKED_BY_OPERATOR"))
        row = link_listing(conn, "amz", "L-1", "CAP", location="loc-w")
    assert (row["location"], row["item"], row["pending_quantity"]) == ("loc-w", "CAP", 3)


def test_a_channel_without_locations_pushes_the_sum_of_every_warehouse_as_before(make_channels):
    ch = make_channels(channel_toml("amz", "amazon", restore_policy="smart"), extra=WAREHOUSES)
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0)
    ch.jobs.sync("amz", full=True)
    ch.jobs.push_now("amz")
    assert ch.shown("amz") == {"L-1": 10}
    with ch.jobs.db.read() as conn:
        assert [r["location"] for r in listings_view(conn, "amz")] == [None]
        assert conn.execute(select(schema.channel_locations)).all() == []


def test_changing_the_locations_in_the_file_rewrites_the_mapping_and_the_targets(make_channels, db):
    from gateway.app import sync_config
    from gateway.settings import load_settings

    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-e", "loc-w"))
    ch.jobs.sync("amz", full=True)
    ch.jobs.push_now("amz")
    text = ch.config.read_text().replace('"loc-e" = ["EAST"], "loc-w" = ["WEST", "MF"]',
                                         '"loc-e" = ["EAST", "WEST"], "loc-w" = ["MF"]')
    ch.config.write_text(text)
    sync_config(db, load_settings(ch.config))
    ch.jobs.push("amz")                                 # the interval push reconciles every listing
    assert _shown_at(ch, "amz") == {("L-1", "loc-e"): 10, ("L-1", "loc-w"): 0}


# --- Walmart: ship nodes ----------------------------------------------------------------------------------

def _walmart(make_channels, server, monkeypatch, locations, **options):
    monkeypatch.setenv("WM_TEST_CLIENT_ID", server.market.client_id)
    monkeypatch.setenv("WM_TEST_CLIENT_SECRET", server.market.client_secret)
    options = {"base_url": server.url, "client_id_env": "WM_TEST_CLIENT_ID",
               "client_secret_env": "WM_TEST_CLIENT_SECRET", "backoff_base_seconds": 0.01,
               "throttle_max_delay_seconds": 0.05, "throttle_budget_seconds": 0.2, **options}
    return make_channels(channel_toml("wm", "walmart", "walmart", restore_policy="smart", locations=locations,
                                      options=options), extra=WAREHOUSES)


def test_two_walmart_ship_nodes_fed_by_different_warehouses_get_their_own_quantities(
        make_channels, walmart_server, monkeypatch):
    market = walmart_server.market
    market.ship_nodes = {"NODE-EAST", "NODE-WEST"}
    ch = _walmart(make_channels, walmart_server, monkeypatch, {"NODE-EAST": ["EAST"], "NODE-WEST": ["WEST"]})
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6, ("CAP", "WEST"): 2})
    market.add_item("HAT")
    market.add_item("CAP")
    ch.jobs.sync("wm", full=True)
    ch.jobs.push_now("wm")
    assert {key: q for key, q in market.inventory.items()} == {
        ("HAT", "NODE-EAST"): 4, ("HAT", "NODE-WEST"): 6, ("CAP", "NODE-EAST"): 0, ("CAP", "NODE-WEST"): 2}
    ch.set("HAT", "WEST", 1)
    ch.jobs.push_now("wm")
    assert (market.quantity("HAT", "NODE-EAST"), market.quantity("HAT", "NODE-WEST")) == (4, 1)
    assert market.violations == []


def test_a_walmart_ship_node_that_refuses_every_sku_is_the_only_one_retried(make_channels, walmart_server,
                                                                           monkeypatch):
    market = walmart_server.market
    market.node_errors["NODE-WEST"] = (400, "INVALID_REQUEST_PARAM.GMP_INVENTORY_API", "ship node is inactive")
    ch = _walmart(make_channels, walmart_server, monkeypatch, {"NODE-EAST": ["EAST"], "NODE-WEST": ["WEST"]})
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6})
    market.add_item("HAT")
    ch.jobs.sync("wm", full=True)
    ch.jobs.push_now("wm")
    assert market.quantity("HAT", "NODE-EAST") == 4 and market.quantity("HAT", "NODE-WEST") is None
    with ch.jobs.db.read() as conn:
        l, o = schema.listings.c, schema.push_outbox.c
        owed = conn.execute(select(l.location, l.last_push_error).join(schema.push_outbox, o.listing_pk == l.id)).all()
    assert [r.location for r in owed] == ["NODE-WEST"] and "ship node is inactive" in owed[0].last_push_error


def test_a_walmart_channel_naming_ship_node_and_locations_is_refused_naming_the_key(make_channels, walmart_server,
                                                                                   monkeypatch):
    ch = _walmart(make_channels, walmart_server, monkeypatch, {"NODE-EAST": ["EAST"]}, ship_node="NODE-EAST")
    with pytest.raises(ConfigError, match=r"channels\[0\]\.options\.ship_node: a channel with `locations`"):
        ch.jobs.adapter("wm")


def test_the_command_line_shows_each_location_of_a_listing_and_links_the_one_named(make_channels, stockgate):
    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6, ("CAP", "MF"): 2})
    assert stockgate("sandbox", "listing", "amz", "L-1", "HAT", "0", "--location", "loc-e", "--location", "loc-w",
                     config=ch.config).code == 0
    assert stockgate("channels", "sync", "amz", "--full").code == 0
    assert stockgate("channels", "push", "amz").code == 0
    table = stockgate("listings", "--channel", "amz").out.splitlines()
    assert table[0].split()[:3] == ["CHANNEL", "LISTING", "LOCATION"]
    assert [line.split()[:3] for line in table[1:]] == [["amz", "L-1", "loc-e"], ["amz", "L-1", "loc-w"]]
    assert "loc-e:4 loc-w:6" in stockgate("sandbox", "show", "amz").out
    refused = stockgate("listings", "unlink", "amz", "L-1")
    assert (refused.code, "stocked at several locations ('loc-e', 'loc-w'): name one (--location)" in refused.err) \
        == (2, True)
    assert stockgate("listings", "unlink", "amz", "L-1", "--location", "loc-w").code == 0
    rows = stockgate("listings", "--channel", "amz", "--json").json()["listings"]
    assert [(r["location"], r["link"]) for r in rows] == [("loc-e", "linked"), ("loc-w", "unlinked")]


def test_a_listings_page_never_splits_the_locations_of_one_listing_id(make_channels):
    from gateway.channel_sync.listing_views import listings_page

    ch = _located(make_channels, locations={"loc-a": ["EAST"], "loc-b": ["WEST"], "loc-c": ["MF"]})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-a", "loc-b", "loc-c"))
    ch.sandbox("amz").add_listing("L-2", "CAP", 0, locations=("loc-a", "loc-b", "loc-c"))
    ch.jobs.sync("amz", full=True)
    seen, after = [], None
    with ch.jobs.db.read() as conn:
        for _ in range(10):
            page = listings_page(conn, "amz", after=after, limit=2)
            seen += [(r["listing_id"], r["location"]) for r in page.listings]
            after = page.next_after
            if after is None:
                break
    assert seen == [(lid, loc) for lid in ("L-1", "L-2") for loc in ("loc-a", "loc-b", "loc-c")]


def test_a_located_channel_on_an_adapter_without_location_pushes_fails_them_saying_so(make_channels):
    from channels.base import PushResult
    from gateway.channel_sync.pusher import push_channel

    class OneLocation:                                  # an adapter that predates `locations`
        name = "amz"
        sent: list = []

        def push_quantities(self, updates):
            self.sent += list(updates)
            return [PushResult(lid, True) for lid, _ in updates]

    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-e",))
    ch.jobs.sync("amz", full=True)
    adapter = OneLocation()
    outcome = push_channel(ch.jobs.db, "amz", adapter)
    assert (outcome.failed, adapter.sent) == (1, [])
    with ch.jobs.db.read() as conn:
        error = listings_view(conn, "amz")[0]["last_push_error"]
    assert "cannot push to a location ('loc-e'): remove the channel's `locations`" in error


def test_removing_the_locations_stops_every_push_to_a_location_and_a_full_sync_marks_them_missing(
        make_channels, db):
    from gateway.app import sync_config
    from gateway.settings import load_settings

    ch = _located(make_channels)
    _stock(ch, {("HAT", "EAST"): 4, ("HAT", "WEST"): 6})
    ch.sandbox("amz").add_listing("L-1", "HAT", 0, locations=("loc-e", "loc-w"))
    ch.jobs.sync("amz", full=True)
    ch.jobs.push_now("amz")
    ch.config.write_text(ch.config.read_text().replace('locations = { "loc-e" = ["EAST"], "loc-w" = ["WEST", "MF"] }',
                                                       ""))
    sync_config(db, load_settings(ch.config))
    ch.set("HAT", "EAST", 1)
    before = len(_history(ch, "amz"))
    ch.jobs.push("amz")
    assert _history(ch, "amz")[before:] == []
    ch.sandbox("amz").add_listing("L-2", "HAT", 0)
    ch.jobs.sync("amz", full=True)
    with ch.jobs.db.read() as conn:
        assert [(r["listing_id"], r["location"], r["status"]) for r in listings_view(conn, "amz")] == [
            ("L-1", None, "active"), ("L-1", "loc-e", "missing"), ("L-1", "loc-w", "missing"),
            ("L-2", None, "active")]


def test_a_sold_listing_seen_again_keeps_its_item_and_a_new_listing_of_that_item_stays_unlinked(make_channels):
    from gateway.channel_sync.listings import mark_listing

    ch = make_channels(channel_toml("amz", "amazon", restore_policy="smart"))
    ch.set("HAT", "MF", 3)
    market = ch.sandbox("amz")
    market.add_listing("A-1", "HAT", 3)
    ch.jobs.sync("amz", full=True)
    market.remove_listing("A-1")
    ch.jobs.sync("amz", full=True)
    with ch.jobs.db.write() as conn:
        mark_listing(conn, "amz", "A-1", "sold")
    market.add_listing("A-1", "HAT", 3)
    market.add_listing("A-2", "HAT", 3)
    ch.jobs.sync("amz", full=True)
    with ch.jobs.db.read() as conn:
        rows = listings_view(conn, "amz")
    assert [(r["listing_id"], r["item"], r["link_reason"]) for r in rows] == [
        ("A-1", "HAT", None), ("A-2", None, "CHANNEL_ALREADY_LINKED")]
