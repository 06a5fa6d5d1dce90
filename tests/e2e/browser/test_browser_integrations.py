"""An admin in a real browser against the real `stockgate serve`: change a sandbox channel's restore policy
to Never on its Integrations page, and the next marketplace cancellation keeps the stock its order took."""

from __future__ import annotations

from browser_steps import cli_json, wait_for
from playwright.sync_api import expect


def _order_status(gateway, order_id: str) -> str | None:
    orders = cli_json(gateway, "orders", "--channel", "amz")["orders"]
    return next((o["status"] for o in orders if o["order_id"] == order_id), None)


def _stock(gateway, sku: str) -> tuple[int, int]:
    [row] = cli_json(gateway, "stock", sku)["items"]
    return row["warehouses"]["MF"], row["available"]


def test_a_restore_policy_changed_to_never_on_the_page_keeps_the_stock_of_the_next_cancellation(web_gateway, page):
    gateway = web_gateway()
    assert gateway.cli("set", "HAT-1", "MF", "10").returncode == 0
    assert gateway.cli("sandbox", "order", "amz", "O-1", "HAT-1:2").returncode == 0
    wait_for("the serve to pull order O-1", lambda: _order_status(gateway, "O-1") is not None)
    assert _stock(gateway, "HAT-1") == (8, 8)

    page.goto(gateway.url + "/integrations")
    row = page.locator("tbody tr", has_text="amz")
    expect(row).to_contain_text("smart")
    row.get_by_role("link", name="amz").click()
    page.wait_for_url("**/integrations/amz")
    expect(page.locator("table").nth(1)).to_contain_text("Buyer Canceled")
    page.get_by_label("restore policy").select_option("never")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url("**/integrations/amz?done=saved")
    expect(page.locator(".notice")).to_contain_text("Saved")
    policy = page.locator("tbody tr", has_text="restore policy")
    expect(policy).to_contain_text("edit by web:local at")
    expect(page.get_by_label("restore policy")).to_have_value("never")
    page.goto(gateway.url + "/integrations")
    expect(page.locator("tbody tr", has_text="amz")).to_contain_text("never")

    # Buyer Canceled restores under smart: under the edited Never the two units stay taken
    assert gateway.cli("sandbox", "cancel", "amz", "O-1", "--reason", "Buyer Canceled").returncode == 0
    wait_for("the serve to pull the cancellation of O-1", lambda: _order_status(gateway, "O-1") == "cancelled")
    assert _stock(gateway, "HAT-1") == (8, 8)
    explained = cli_json(gateway, "orders", "explain", "amz", "O-1")
    assert explained["restore_policy"] == "never"
