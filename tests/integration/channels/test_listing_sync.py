"""Listing import and linking (DESIGN "Listings"; seeds 000-002), on SQLite and PostgreSQL."""

from __future__ import annotations

from gateway.stock import ledger_view, stock_view


def _listings(ch, channel=None) -> dict[str, dict]:
    from gateway.channel_sync.listings import listings_view

    with ch.jobs.db.read() as conn:
        return {f"{r['channel']}/{r['listing_id']}": r for r in listings_view(conn, channel)}


def _stock(ch) -> dict[str, dict]:
    with ch.jobs.db.read() as conn:
        return {i["sku"]: i["warehouses"] for i in stock_view(conn)}


def test_a_listing_with_a_new_sku_brings_its_quantity_into_mf_with_a_listing_import_entry(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("L1", "HAT-1", 10, title="Red hat")
    outcome = ch.jobs.sync("amz")
    assert (outcome.new, outcome.linked, outcome.imported) == (1, 1, 1)
    assert _stock(ch) == {"HAT-1": {"MF": 10}}
    with ch.jobs.db.read() as conn:
        entries = ledger_view(conn, "HAT-1")
    assert [(e["cause"], e["delta"], e["warehouse"], e["reference"]) for e in entries] == [
        ("listing_import", 10, "MF", "amz/L1")]


def test_the_first_integrations_figure_wins_and_a_later_channel_is_pushed_the_current_quantity(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 10)
    ch.sandbox("shop").add_listing("S-1", "HAT-1", 15)
    ch.jobs.sync("amz")
    ch.jobs.sync("shop")
    assert _stock(ch) == {"HAT-1": {"MF": 10}}
    ch.jobs.push_now("shop")
    assert ch.shown("shop") == {"S-1": 10}
    assert _listings(ch)["shop/S-1"]["last_pushed_quantity"] == 10


def test_an_existing_sku_is_never_overwritten_by_a_listing_import(two_sandboxes):
    ch = two_sandboxes
    ch.set("HAT-1", "MF", 3)
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 40)
    outcome = ch.jobs.sync("amz")
    assert outcome.imported == 0 and outcome.linked == 1
    assert _stock(ch) == {"HAT-1": {"MF": 3}}
    ch.jobs.push_now("amz")
    assert ch.shown("amz") == {"A-1": 3}


def test_a_listing_whose_size_disagrees_with_the_items_stays_unlinked_with_size_mismatch(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "TEE", 5, size="M")
    ch.sandbox("shop").add_listing("S-1", "TEE", 9, size="XL")
    ch.jobs.sync("amz")
    ch.jobs.sync("shop")
    row = _listings(ch)["shop/S-1"]
    assert (row["link"], row["link_reason"], row["item"]) == ("unlinked", "SIZE_MISMATCH", None)
    ch.jobs.push_now("shop")
    assert ch.shown("shop") == {"S-1": 9}            # an unlinked listing is never pushed


def test_sizes_agree_when_only_one_side_has_a_size_or_they_differ_only_in_case(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "TEE", 5, size="m")
    ch.sandbox("shop").add_listing("S-1", "TEE", 9, size=" M ")
    ch.sandbox("shop").add_listing("S-2", "CAP", 2)
    ch.set("CAP", "MF", 4)
    ch.jobs.sync("amz")
    ch.jobs.sync("shop")
    rows = _listings(ch)
    assert (rows["shop/S-1"]["item"], rows["shop/S-2"]["item"]) == ("TEE", "CAP")


def test_a_second_listing_of_one_item_on_the_same_channel_stays_unlinked_with_channel_already_linked(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 10)
    ch.sandbox("amz").add_listing("A-2", "HAT-1", 25)
    ch.jobs.sync("amz")
    rows = _listings(ch, "amz")
    assert rows["amz/A-1"]["item"] == "HAT-1"
    assert (rows["amz/A-2"]["link"], rows["amz/A-2"]["link_reason"]) == ("unlinked", "CHANNEL_ALREADY_LINKED")
    assert _stock(ch) == {"HAT-1": {"MF": 10}}


def test_the_same_item_links_to_one_listing_on_each_of_two_channels(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 10)
    ch.sandbox("shop").add_listing("S-1", "HAT-1", 10)
    ch.jobs.sync("amz")
    ch.jobs.sync("shop")
    assert {k: r["item"] for k, r in _listings(ch).items()} == {"amz/A-1": "HAT-1", "shop/S-1": "HAT-1"}


def test_incremental_sync_brings_only_new_listings_and_full_sync_marks_a_vanished_one_missing(two_sandboxes):
    ch = two_sandboxes
    market = ch.sandbox("amz")
    market.add_listing("A-1", "HAT-1", 10)
    market.add_listing("A-2", "CAP-1", 4)
    assert ch.jobs.sync("amz").new == 2
    market.add_listing("A-3", "BAG-1", 1)
    again = ch.jobs.sync("amz")
    assert (again.seen, again.new) == (1, 1)
    market.remove_listing("A-2")
    assert ch.jobs.sync("amz").missing == 0           # incremental never marks anything missing
    stock_before = _stock(ch)
    full = ch.jobs.sync("amz", full=True)
    assert (full.seen, full.missing) == (2, 1)
    assert _listings(ch)["amz/A-2"]["status"] == "missing"
    assert _stock(ch) == stock_before                 # no stock change by itself


def test_listings_mark_settles_only_a_missing_listing(two_sandboxes, stockgate):
    ch = two_sandboxes
    market = ch.sandbox("amz")
    market.add_listing("A-1", "HAT-1", 10)
    market.add_listing("A-2", "CAP-1", 4)
    ch.jobs.sync("amz")
    market.remove_listing("A-2")
    ch.jobs.sync("amz", full=True)
    refused = stockgate("listings", "mark", "amz", "A-1", "sold", config=ch.config)
    assert refused.code == 2 and "only a missing listing" in refused.err
    marked = stockgate("listings", "mark", "amz", "A-2", "deleted")
    assert marked.code == 0, marked
    shown = {r["listing_id"]: r["status"] for r in stockgate("listings", "--json").json()["listings"]}
    assert shown == {"A-1": "active", "A-2": "deleted"}
    unknown = stockgate("listings", "mark", "amz", "NOPE", "sold")
    assert unknown.code == 2 and "NOPE" in unknown.err


def test_listings_json_shows_link_state_reason_and_last_pushed_quantity(two_sandboxes, stockgate):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 10)
    ch.sandbox("amz").add_listing("A-2", "HAT-1", 3)
    ch.jobs.sync("amz")
    ch.jobs.push_now("amz")
    rows = stockgate("listings", "--channel", "amz", "--json", config=ch.config).json()["listings"]
    assert [(r["listing_id"], r["item"], r["link"], r["link_reason"], r["last_pushed_quantity"]) for r in rows] == [
        ("A-1", "HAT-1", "linked", None, 10), ("A-2", None, "unlinked", "CHANNEL_ALREADY_LINKED", None)]


def test_a_listing_whose_sku_only_an_earlier_order_created_still_brings_its_quantity_into_mf(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").place_order("O-1", [("HAT-1", 2)])          # sold before StockGate knew the SKU
    assert ch.jobs.pull("amz").orders == 1
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 8)              # the marketplace's count after that sale
    outcome = ch.jobs.sync("amz")
    assert (outcome.linked, outcome.imported) == (1, 1)
    assert _stock(ch) == {"HAT-1": {"MF": 8}}
    ch.jobs.push_now("amz")
    assert ch.shown("amz") == {"A-1": 8}


def test_a_sku_stockgate_held_and_sold_out_is_not_overwritten_by_a_later_listing(two_sandboxes):
    ch = two_sandboxes
    ch.set("HAT-1", "MF", 2)
    ch.sandbox("amz").place_order("O-1", [("HAT-1", 2)])
    ch.jobs.pull("amz")
    assert _stock(ch) == {"HAT-1": {"MF": 0}}
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 8)
    assert ch.jobs.sync("amz").imported == 0
    ch.jobs.push_now("amz")
    assert ch.shown("amz") == {"A-1": 0}
    assert _stock(ch) == {"HAT-1": {"MF": 0}}


def test_a_quantity_changed_on_the_marketplace_is_corrected_to_the_current_figure(two_sandboxes):
    ch = two_sandboxes
    market = ch.sandbox("amz")
    market.add_listing("A-1", "HAT-1", 10)
    ch.jobs.sync("amz")
    ch.set("HAT-1", "MF", 7)
    ch.jobs.push_now("amz")
    assert ch.shown("amz") == {"A-1": 7}
    market.add_listing("A-1", "HAT-1", 50)                        # the seller types 50 on the marketplace
    ch.jobs.sync("amz")
    ch.jobs.push_now("amz")
    assert ch.shown("amz") == {"A-1": 7}
    assert _stock(ch) == {"HAT-1": {"MF": 7}}
    pushes = len(ch.history("amz"))
    ch.jobs.sync("amz", full=True)                                # the channel shows the target: no push
    ch.jobs.push("amz")
    assert len(ch.history("amz")) == pushes


def test_a_listing_with_an_invalid_sku_stays_unlinked_and_never_blocks_the_others(two_sandboxes, stockgate):
    ch = two_sandboxes
    market = ch.sandbox("amz")
    long_sku = "X" * 150
    market.add_listing("A-1", long_sku, 5)
    market.add_listing("A-2", "BAD\x07SKU", 5)
    market.add_listing("A-3", "HAT-1", 4)
    outcome = ch.jobs.sync("amz")
    assert (outcome.seen, outcome.linked, outcome.unlinked, outcome.imported) == (3, 1, 2, 1)
    rows = _listings(ch)
    assert [(rows[f"amz/{lid}"]["link"], rows[f"amz/{lid}"]["link_reason"]) for lid in ("A-1", "A-2", "A-3")] == [
        ("unlinked", "INVALID_SKU"), ("unlinked", "INVALID_SKU"), ("linked", None)]
    assert rows["amz/A-1"]["sku"] == "X" * 100
    assert _stock(ch) == {"HAT-1": {"MF": 4}}
    result = stockgate("channels", "sync", "amz", "--full", config=ch.config)
    assert result.code == 0 and "Traceback" not in result.err


def test_a_linked_listings_title_names_an_item_without_one_and_never_replaces_a_title(two_sandboxes):
    from sqlalchemy import select, update

    from gateway.db import schema

    ch = two_sandboxes
    ch.set("HAT-1", "MF", 3)
    ch.set("CAP-1", "MF", 2)
    with ch.jobs.db.write() as conn:
        conn.execute(update(schema.items).where(schema.items.c.sku == "CAP-1").values(title="Cap from a file"))
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 40, title="Red hat")
    ch.sandbox("amz").add_listing("A-2", "CAP-1", 40, title="Channel cap")
    ch.sandbox("amz").add_listing("A-3", "NEW-1", 5, title="New scarf")
    ch.jobs.sync("amz")
    with ch.jobs.db.read() as conn:
        titles = dict(conn.execute(select(schema.items.c.sku, schema.items.c.title)).all())
    assert titles == {"HAT-1": "Red hat", "CAP-1": "Cap from a file", "NEW-1": "New scarf"}
