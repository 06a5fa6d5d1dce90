"""An operator in a real browser against the real `stockgate serve`: edit a quantity on an item's page and
see its ledger entry; mark a missing listing sold; link an unlinked listing and see the quantity the
sandbox marketplace is pushed."""

from __future__ import annotations

from browser_steps import cli_json, wait_for
from playwright.sync_api import expect


def test_a_quantity_edited_on_the_item_page_shows_its_ledger_entry(web_gateway, page):
    gateway = web_gateway()
    assert gateway.cli("set", "A1", "MF", "5").returncode == 0

    page.goto(gateway.url + "/stock")
    page.get_by_role("link", name="A1", exact=True).click()
    page.wait_for_url("**/item?sku=A1")
    set_form = page.locator("#set-form")
    set_form.get_by_label("Warehouse").select_option("MF")
    set_form.get_by_label("New level").fill("12")
    set_form.get_by_label("Note (why)").fill("recount after delivery")
    set_form.get_by_role("button", name="Set").click()

    page.wait_for_url("**/item?sku=A1&done=set")
    expect(page.locator(".notice")).to_contain_text("Quantity set")
    newest = page.locator("table").nth(2).locator("tbody tr").first
    expect(newest).to_contain_text("+7")
    expect(newest).to_contain_text("recount after delivery")
    expect(page.locator("table").first).to_contain_text("12")
    entries = cli_json(gateway, "ledger", "A1")["entries"]
    assert [(e["delta"], e["on_hand_after"], e["cause"], e["note"]) for e in entries] == [
        (5, 5, "manual", None), (7, 12, "manual", "recount after delivery")]


def test_a_missing_listing_is_marked_sold_from_the_listings_page(web_gateway, page):
    gateway = web_gateway()
    for listing, sku in (("L1", "HAT-1"), ("L2", "HAT-2")):
        assert gateway.cli("sandbox", "listing", "amz", listing, sku, "3").returncode == 0
    page.goto(gateway.url + "/listings?channel=amz")
    page.locator(".channel-action", has_text="amz").get_by_role("button", name="Sync now").click()
    expect(page.locator(".notice")).to_contain_text("amz: sync done")
    assert gateway.cli("sandbox", "remove-listing", "amz", "L1").returncode == 0
    page.locator(".channel-action", has_text="amz").get_by_role("button", name="Full sync").click()
    expect(page.locator(".notice")).to_contain_text("missing 1")

    page.get_by_label("mark amz L1").check()
    page.get_by_label("Mark the ticked missing listings").select_option("sold")
    page.get_by_role("button", name="Mark", exact=True).click()

    expect(page.locator(".notice")).to_contain_text("Marked")
    row = page.locator("tbody tr", has_text="L1")
    expect(row).to_contain_text("sold")
    listings = {l["listing_id"]: l["status"] for l in cli_json(gateway, "listings", "--channel", "amz")["listings"]}
    assert listings == {"L1": "sold", "L2": "active"}


def test_an_unlinked_listing_linked_on_the_page_is_pushed_its_items_quantity(web_gateway, page):
    gateway = web_gateway()
    assert gateway.cli("set", "MUG-RED", "MF", "8").returncode == 0
    assert gateway.cli("sandbox", "listing", "amz", "L1", "MUG", "4").returncode == 0
    assert gateway.cli("sandbox", "listing", "amz", "L2", "MUG", "0").returncode == 0   # the same SKU twice
    page.goto(gateway.url + "/listings?channel=amz")
    page.locator(".channel-action", has_text="amz").get_by_role("button", name="Sync now").click()
    row = page.locator("tbody tr", has_text="L2")
    expect(row).to_contain_text("unlinked (CHANNEL_ALREADY_LINKED)")

    row.get_by_label("SKU to link L2 to").fill("MUG")
    row.get_by_role("button", name="Link").click()
    expect(page.locator(".error")).to_contain_text("item 'MUG' is already linked to listing 'L1' on amz")
    row = page.locator("tbody tr", has_text="L2")
    row.get_by_label("SKU to link L2 to").fill("MUG-RED")
    row.get_by_role("button", name="Link").click()
    expect(page.locator(".notice")).to_contain_text("Linked")
    expect(page.locator("tbody tr", has_text="L2")).to_contain_text("MUG-RED")

    def pushed():
        shown = {l["listing_id"]: l for l in cli_json(gateway, "sandbox", "show", "amz")["listings"]}
        return shown["L2"]["quantity"] == 8 and shown["L2"]["pushes"] >= 1
    wait_for("the serve's pusher to push L2 its item's 8", pushed)
    page.reload()
    expect(page.locator("tbody tr", has_text="L2")).to_contain_text("8")
