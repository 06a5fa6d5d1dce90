"""Several Shopify locations: a `shopify` channel with `locations` (keys written as numbers or gids) lists
every variant once per configured location, pushes each location its own warehouses' sum through the
same `inventorySetQuantities` path, refuses `location_id` beside `locations`, and `channels check` names
a location the shop does not have. Against the Shopify contract server (which refuses a location id that
is not a gid); both engines for the gateway tests."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from channel_helpers import channel_toml
from gateway.db import schema
from gateway.errors import ConfigError
from gateway.channel_sync.listings import fetch_listings

from shopify_helpers import TOKEN_ENV, shopify_adapter, shopify_options

FIRST, SECOND = "gid://shopify/Location/1", "gid://shopify/Location/2"
WAREHOUSES = '[[warehouses]]\ncode = "EAST"\n[[warehouses]]\ncode = "WEST"\n'
LOCATIONS = {"1": ["EAST"], SECOND: ["WEST", "MF"]}       # one key a number, one a gid


def _sets(market) -> list[list[tuple[str, int, int | None]]]:
    """Each applied inventorySetQuantities as (location, quantity, changeFromQuantity) entries."""
    return [[(q["locationId"], q["quantity"], q["changeFromQuantity"]) for q in s["input"]["quantities"]]
            for s in market.sets]


def _two_located(market) -> None:
    for sku, first, second in (("HAT", 3, 5), ("CAP", 1, 0)):
        market.add_variant(sku, first, location=FIRST)
        market.stock_at(sku, SECOND, second)


def test_listings_are_one_per_variant_and_location_keyed_as_the_channel_writes_the_location(shopify_server):
    market = shopify_server.market
    _two_located(market)
    adapter = shopify_adapter(shopify_server, locations=("1", SECOND))
    listings, _ = fetch_listings(adapter, None, True)
    assert sorted((l.sku, l.location, l.listing_id, l.quantity) for l in listings) == [
        ("CAP", "1", f"{market.item('CAP')}@{FIRST}", 1), ("CAP", SECOND, f"{market.item('CAP')}@{SECOND}", 0),
        ("HAT", "1", f"{market.item('HAT')}@{FIRST}", 3), ("HAT", SECOND, f"{market.item('HAT')}@{SECOND}", 5)]
    assert market.violations == []


def test_a_push_to_each_location_sets_only_that_locations_level_with_its_compare_and_key(shopify_server):
    market = shopify_server.market
    _two_located(market)
    adapter = shopify_adapter(shopify_server, locations=("1", SECOND))
    ids = {(l.sku, l.location): l.listing_id for l in fetch_listings(adapter, None, True)[0]}
    results = adapter.push_location_quantities("1", [(ids[("HAT", "1")], 7), (ids[("HAT", SECOND)], 9)])
    assert [r.ok for r in results] == [True, False] and "sync the listings again" in results[1].error
    assert (market.quantity("HAT", FIRST), market.quantity("HAT", SECOND)) == (7, 5)
    assert [r.ok for r in adapter.push_location_quantities(SECOND, [(ids[("HAT", SECOND)], 9)])] == [True]
    assert (market.quantity("HAT", FIRST), market.quantity("HAT", SECOND)) == (7, 9)
    assert _sets(market) == [[(FIRST, 7, 3)], [(SECOND, 9, 5)]]
    sent = [r for r in market.requests if r.get("operation") == "StockGateSetQuantities"]
    assert all('@idempotent(key: "' in json.loads(r["body"])["query"] for r in sent)
    assert market.violations == []


def test_four_locations_are_read_in_pages_within_shopifys_query_cost_limit(shopify_server):
    market = shopify_server.market
    places = [f"gid://shopify/Location/{n}" for n in range(1, 5)]
    market.locations.update({p: f"Shop {p[-1]}" for p in places})
    for n in range(30):
        market.add_variant(f"SKU-{n}", n, location=places[0])
    adapter = shopify_adapter(shopify_server, locations=[p.rsplit("/", 1)[1] for p in places])
    listings, _ = fetch_listings(adapter, None, True)
    assert len(listings) == 120 and {l.location for l in listings} == {"1", "2", "3", "4"}
    assert market.violations == []


def _located(make_channels, server, monkeypatch, locations=None, **options):
    return make_channels(channel_toml("shop", "shopify", "shopify", restore_policy="smart",
                                      locations=LOCATIONS if locations is None else locations,
                                      options=shopify_options(server, monkeypatch, TOKEN_ENV, **options)),
                         extra=WAREHOUSES)


def test_each_shopify_location_gets_the_sum_of_its_own_warehouses_and_a_change_reaches_only_it(
        make_channels, shopify_server, monkeypatch):
    market = shopify_server.market
    _two_located(market)
    ch = _located(make_channels, shopify_server, monkeypatch)
    for (sku, warehouse), quantity in {("HAT", "EAST"): 4, ("HAT", "WEST"): 6, ("HAT", "MF"): 1,
                                       ("CAP", "WEST"): 2}.items():
        ch.set(sku, warehouse, quantity)
    ch.jobs.sync("shop", full=True)
    ch.jobs.push_now("shop")
    assert {(sku, at): market.quantity(sku, at) for sku in ("HAT", "CAP") for at in (FIRST, SECOND)} == {
        ("HAT", FIRST): 4, ("HAT", SECOND): 7, ("CAP", FIRST): 0, ("CAP", SECOND): 2}
    with ch.jobs.db.read() as conn:
        l = schema.listings.c
        shown = sorted(conn.execute(select(l.location, l.last_pushed_qty).where(l.sku == "HAT")).all())
    assert shown == [("1", 4), (SECOND, 7)]
    before = len(market.sets)
    ch.set("HAT", "WEST", 1)
    ch.jobs.push_now("shop")
    assert (market.quantity("HAT", FIRST), market.quantity("HAT", SECOND)) == (4, 2)
    assert [e[0] for s in _sets(market)[before:] for e in s] == [SECOND]
    assert market.violations == []


@pytest.mark.parametrize("locations, options, message", [
    (LOCATIONS, {"location_id": "1"}, r"channels\[0\]\.options\.location_id: a channel with `locations` names its "
                                      r"locations there; remove location_id"),
    ({"main-shop": ["EAST"]}, {}, r"channels\[0\]\.locations\.main-shop: 'main-shop' is not a Shopify location id"),
    ({}, {"location_id": "main-shop"}, r"channels\[0\]\.options\.location_id: 'main-shop' is not a Shopify "
                                      r"location id"),
    ({"2": ["EAST"], SECOND: ["WEST"]}, {}, r"channels\[0\]\.locations\.gid://shopify/Location/2: the same Shopify "
                                            r"location as '2'"),
])
def test_a_location_setting_shopify_cannot_use_is_refused_at_start_naming_the_key(
        make_channels, shopify_server, monkeypatch, locations, options, message):
    ch = _located(make_channels, shopify_server, monkeypatch, locations, **options)
    with pytest.raises(ConfigError, match=message):
        ch.jobs.adapter("shop")


def _check(stockgate, write_config, server, monkeypatch, locations) -> tuple[int, dict[str, tuple[bool, str]]]:
    config = write_config(WAREHOUSES + channel_toml("shop", "shopify", "shopify", locations=locations,
                                                    options=shopify_options(server, monkeypatch, TOKEN_ENV)))
    assert stockgate("init", config=config).code == 0
    result = stockgate("channels", "check", "shop", "--json")
    return result.code, {c["step"]: (c["ok"], c["detail"]) for c in json.loads(result.out)["checks"]}


def test_channels_check_reads_each_location_and_names_the_one_the_shop_does_not_have(
        stockgate, write_config, shopify_server, monkeypatch):
    code, steps = _check(stockgate, write_config, shopify_server, monkeypatch, LOCATIONS)
    assert code == 0 and steps["location"] == (True, "quantities go to locations 'Main warehouse' (1), "
                                                     f"'Second shop' ({SECOND})")
    assert steps["listings"][0] and steps["scopes"][0]
    code, steps = _check(stockgate, write_config, shopify_server, monkeypatch, {"1": ["EAST"], "77": ["WEST"]})
    assert code == 1 and not steps["location"][0]
    assert steps["location"][1].startswith("location 77: no such location in the shop")
    shopify_server.market.scopes.discard("read_locations")
    code, steps = _check(stockgate, write_config, shopify_server, monkeypatch, LOCATIONS)
    assert code == 1 and steps["scopes"][0] and "lacks the access scope read_locations" in steps["location"][1]
    assert shopify_server.market.violations == []
