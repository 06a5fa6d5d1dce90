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


def _stock(gateway) -> dict:
    result = gateway.cli("stock", "--json")
    assert result.returncode == 0, result.stderr
    return {item["sku"]: item["warehouses"] for item in json.loads(result.stdout)["items"]}


def _upload_full_snapshot(page, gateway, name: str, body: bytes) -> str:
    """Upload `body` from the Upload page as EAST's `full` snapshot; its file id once the worker held it."""
    page.goto(gateway.url + "/upload")
    page.set_input_files("input[type=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": body}])
    page.select_option("select#warehouse", "EAST")
    page.select_option("select#mode", "full")
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/files/*")
    expect(page.locator("body")).to_contain_text("Held by the snapshot guard", timeout=30_000)
    return page.url.rsplit("/", 1)[1]


def test_a_held_file_is_released_from_its_page_and_another_rejected_and_the_history_filters_them(web_gateway, page):
    gateway = web_gateway()
    for sku in ("A1", "A2", "A3"):
        assert gateway.cli("set", sku, "EAST", "5").returncode == 0

    released = _upload_full_snapshot(page, gateway, "east-night.csv", b"SKU,Qty\nA1,6\n")
    page.get_by_role("link", name="Preview what releasing it would do").click()
    expect(page.locator("table").first).to_contain_text("A2")
    page.get_by_role("button", name="Release").click()
    page.wait_for_url(f"**/files/{released}")
    expect(page.locator("dl.summary").first).to_contain_text("applied")
    assert _stock(gateway) == {"A1": {"EAST": 6}, "A2": {"EAST": 0}, "A3": {"EAST": 0}}

    for sku in ("A2", "A3"):
        assert gateway.cli("set", sku, "EAST", "5").returncode == 0
    rejected = _upload_full_snapshot(page, gateway, "east-again.csv", b"SKU,Qty\nA1,7\n")
    page.get_by_label("Reason").fill("half an export")
    page.get_by_role("button", name="Reject").click()
    page.wait_for_url(f"**/files/{rejected}")
    expect(page.locator("body")).to_contain_text("while held: half an export; nothing applied")
    assert _stock(gateway) == {"A1": {"EAST": 6}, "A2": {"EAST": 5}, "A3": {"EAST": 5}}

    page.goto(gateway.url + "/history")
    page.select_option("select#status", "rejected")
    page.get_by_label("Name contains").fill("EAST")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("east-again.csv")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV of this list").click()
    lines = open(download.value.path(), encoding="utf-8-sig").read().splitlines()
    assert len(lines) == 2 and rejected in lines[1]
