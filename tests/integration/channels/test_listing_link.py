"""An operator links a listing to an item and unlinks it (`stockgate listings link|unlink`), on SQLite and
PostgreSQL: the sync's size and one-per-channel rules refuse in words, a link is pushed, and the next
sync leaves the operator's decision alone."""

from __future__ import annotations

import pytest

from gateway.channel_sync.linking import LinkRefusedError, link_listing, unlink_listing
from gateway.channel_sync.listings import listings_view
from gateway.errors import NotFoundError, UsageError


def _listing(ch, channel: str, listing_id: str) -> dict:
    with ch.jobs.db.read() as conn:
        return listings_view(conn, channel, listing_id=listing_id)[0]


def _link(ch, channel, listing_id, sku):
    with ch.jobs.db.write() as conn:
        return link_listing(conn, channel, listing_id, sku)


def test_a_listing_refused_as_already_linked_is_linked_by_hand_and_shows_that_items_quantity(two_sandboxes):
    ch = two_sandboxes
    ch.set("HAT-1", "MF", 3)
    ch.set("HAT-2", "MF", 8)
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 3)
    ch.sandbox("amz").add_listing("A-2", "HAT-1", 0)        # the seller meant HAT-2
    ch.jobs.sync("amz")
    assert _listing(ch, "amz", "A-2")["link_reason"] == "CHANNEL_ALREADY_LINKED"
    row = _link(ch, "amz", "A-2", "HAT-2")
    assert (row["link"], row["item"], row["link_reason"], row["pending_quantity"]) == ("linked", "HAT-2", None, 8)
    ch.jobs.push_now("amz")
    assert ch.shown("amz")["A-2"] == 8
    ch.jobs.sync("amz", full=True)                           # the sync keeps the operator's link
    assert (_listing(ch, "amz", "A-2")["item"], _listing(ch, "amz", "A-1")["item"]) == ("HAT-2", "HAT-1")
    ch.set("HAT-2", "MF", 5)
    ch.jobs.push_now("amz")
    assert ch.shown("amz")["A-2"] == 5


def test_a_listing_with_an_invalid_sku_linked_by_hand_stays_linked_through_a_full_sync(two_sandboxes):
    ch = two_sandboxes
    ch.set("CAP-1", "MF", 6)
    ch.sandbox("amz").add_listing("A-9", "", 1)
    ch.jobs.sync("amz")
    assert _listing(ch, "amz", "A-9")["link_reason"] == "INVALID_SKU"
    _link(ch, "amz", "A-9", "CAP-1")
    ch.jobs.sync("amz", full=True)
    assert (_listing(ch, "amz", "A-9")["link"], _listing(ch, "amz", "A-9")["item"]) == ("linked", "CAP-1")
    ch.jobs.push_now("amz")
    assert ch.shown("amz")["A-9"] == 6


def test_a_link_across_sizes_is_refused_with_size_mismatch_in_words_and_changes_nothing(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "TEE-M", 4, size="M")
    ch.sandbox("amz").add_listing("A-2", "TEE-L", 2, size="L")
    ch.jobs.sync("amz")
    unlink_listing_now(ch, "amz", "A-2")
    before = _listing(ch, "amz", "A-2")
    with pytest.raises(LinkRefusedError) as refused:
        _link(ch, "amz", "A-2", "TEE-M")
    assert refused.value.code == "SIZE_MISMATCH"
    assert "is size 'L' but item 'TEE-M' is size 'M'" in str(refused.value)
    assert _listing(ch, "amz", "A-2") == before


def unlink_listing_now(ch, channel, listing_id):
    with ch.jobs.db.write() as conn:
        return unlink_listing(conn, channel, listing_id)


def test_linking_an_item_that_has_a_listing_on_the_channel_names_that_listing(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 4)
    ch.sandbox("amz").add_listing("A-2", "HAT-2", 2)
    ch.jobs.sync("amz")
    with pytest.raises(LinkRefusedError, match="item 'HAT-1' is already linked to listing 'A-1' on amz") as refused:
        _link(ch, "amz", "A-2", "HAT-1")
    assert refused.value.code == "CHANNEL_ALREADY_LINKED"
    assert _listing(ch, "amz", "A-2")["item"] == "HAT-2"


def test_an_unlinked_listing_is_pushed_nothing_more_and_a_sync_leaves_it_unlinked(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 4)
    ch.jobs.sync("amz")
    ch.jobs.push_now("amz")
    row = unlink_listing_now(ch, "amz", "A-1")
    assert (row["link"], row["link_reason"], row["pending_quantity"]) == ("unlinked", "UNLINKED_BY_OPERATOR", None)
    ch.set("HAT-1", "MF", 9)
    ch.jobs.push("amz")
    assert ch.shown("amz")["A-1"] == 4
    ch.jobs.sync("amz", full=True)
    assert _listing(ch, "amz", "A-1")["link_reason"] == "UNLINKED_BY_OPERATOR"
    _link(ch, "amz", "A-1", "HAT-1")              # and linked again, it is pushed the figure of now
    ch.jobs.push_now("amz")
    assert ch.shown("amz")["A-1"] == 9


def test_bad_links_name_the_problem_and_change_nothing(two_sandboxes):
    ch = two_sandboxes
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 4)
    ch.sandbox("amz").add_listing("A-2", "HAT-2", 1)
    ch.jobs.sync("amz")
    ch.sandbox("amz").remove_listing("A-2")
    ch.jobs.sync("amz", full=True)
    cases = [(("amz", "A-404", "HAT-1"), NotFoundError, "channel 'amz' has no listing 'A-404'"),
             (("nope", "A-1", "HAT-1"), NotFoundError, "unknown channel 'nope'"),
             (("amz", "A-1", "GHOST"), NotFoundError, "StockGate has no item 'GHOST'"),
             (("amz", "A-2", "HAT-1"), UsageError, "is missing: only an active listing can be linked")]
    for args, error, message in cases:
        with pytest.raises(error, match=message):
            _link(ch, *args)
    assert (_listing(ch, "amz", "A-2")["status"], _listing(ch, "amz", "A-1")["item"]) == ("missing", "HAT-1")
    unlink_listing_now(ch, "amz", "A-1")
    with pytest.raises(UsageError, match="listing 'A-1' on amz is not linked: nothing to unlink"):
        unlink_listing_now(ch, "amz", "A-1")


def test_the_command_line_links_unlinks_and_filters_listings_by_state(two_sandboxes, stockgate):
    ch = two_sandboxes
    ch.set("HAT-2", "MF", 7)
    ch.sandbox("amz").add_listing("A-1", "HAT-1", 4)
    ch.sandbox("amz").add_listing("A-2", "HAT-1", 0)
    stockgate("channels", "sync", "amz", config=ch.config)
    unlinked = stockgate("listings", "--state", "unlinked", "--json").json()["listings"]
    assert [(r["listing_id"], r["link_reason"]) for r in unlinked] == [("A-2", "CHANNEL_ALREADY_LINKED")]
    refused = stockgate("listings", "link", "amz", "A-2", "HAT-1")
    assert refused.code == 2 and "already linked to listing 'A-1' on amz" in refused.err
    assert "CHANNEL_ALREADY_LINKED" in refused.err and refused.err.count("\n") == 1
    linked = stockgate("listings", "link", "amz", "A-2", "HAT-2", "--json")
    assert linked.code == 0 and (linked.json()["item"], linked.json()["pending_quantity"]) == ("HAT-2", 7)
    assert stockgate("channels", "push", "amz").code == 0
    assert ch.shown("amz")["A-2"] == 7
    assert [r["listing_id"] for r in stockgate("listings", "--state", "linked", "--json").json()["listings"]] == [
        "A-1", "A-2"]
    result = stockgate("listings", "unlink", "amz", "A-1")
    assert (result.code, result.out.strip()) == (0, "listing A-1 on amz unlinked")
    assert stockgate("listings", "unlink", "amz", "A-1").code == 2
    assert stockgate("listings", "--search", "a-2", "--json").json()["listings"][0]["item"] == "HAT-2"
    audit = [(e["action"], e["target"], e["detail"].get("item")) for e in stockgate("audit", "--json").json()["entries"]]
    assert audit == [("listing.unlink", "amz/A-1", "HAT-1"), ("channel.push", "amz", None),
                     ("listing.link", "amz/A-2", "HAT-2"), ("channel.listings", "amz", None)]
