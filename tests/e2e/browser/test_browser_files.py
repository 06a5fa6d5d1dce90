"""An operator in a real browser: upload a file from the Upload page, see it in the upload history, open its
report."""

from __future__ import annotations

import json

from playwright.sync_api import expect

UPDATE = b"SKU,Title,MF,EAST\nA1,Canvas tote bag,12,4\nB-100,Enamel mug,25,3\n"


def test_a_file_uploaded_from_the_page_is_applied_listed_in_the_history_and_its_report_opens(web_gateway, page):
    gateway = web_gateway()

    page.goto(gateway.url + "/upload")
    page.set_input_files("input[type=file]", files=[{"name": "counts.csv", "mimeType": "text/csv", "buffer": UPDATE}])
    page.get_by_label("create SKUs StockGate does not know yet").check()
    page.get_by_role("button", name="Upload").click()

    page.wait_for_url("**/files/*")
    file_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("body")).to_contain_text("applied", timeout=30_000)   # the page refreshes until done

    page.goto(gateway.url + "/history")
    row = page.locator("table tbody tr").first
    expect(row).to_contain_text("counts.csv")
    expect(row).to_contain_text("applied")
    row.get_by_role("link", name=file_id).click()

    page.wait_for_url(f"**/files/{file_id}")
    expect(page.locator("h1")).to_contain_text("counts.csv")
    stock = gateway.cli("stock", "--json")
    assert stock.returncode == 0, stock.stderr
    levels = {item["sku"]: item["warehouses"] for item in json.loads(stock.stdout)["items"]}
    assert levels == {"A1": {"MF": 12, "EAST": 4}, "B-100": {"MF": 25, "EAST": 3}}
