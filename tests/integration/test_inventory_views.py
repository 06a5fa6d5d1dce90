"""The inventory an operator reads (`gateway.stock.inventory`) and the note a manual edit keeps, on SQLite
and PostgreSQL: keyset pages that meet every SKU once, search by SKU and title, one item with its levels,
listings and ledger, the ledger as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from gateway.errors import NotFoundError, UsageError
from gateway.stock import adjust_stock, ledger_view, set_stock, stock_view
from gateway.stock.inventory import item_detail, iter_ledger_csv, ledger_page, stock_page
from gateway.stock.titles import store_titles


def _fill(db, count: int) -> list[str]:
    skus = [f"SKU-{n:03d}" for n in range(count)]
    with db.write() as conn:
        for n, sku in enumerate(skus):
            set_stock(conn, sku, "MF", n)
    return skus


def test_pages_forwards_and_backwards_meet_every_sku_once_in_order(db):
    skus = _fill(db, 23)
    seen, after, pages = [], None, []
    with db.read() as conn:
        while True:
            page = stock_page(conn, after=after, limit=5)
            pages.append(page)
            seen += [i["sku"] for i in page.items]
            if page.next_after is None:
                break
            after = page.next_after
        assert seen == skus and len(pages) == 5
        assert pages[0].prev_before is None and pages[1].prev_before == "SKU-005"
        back = stock_page(conn, before=pages[2].items[0]["sku"], limit=5)
        assert [i["sku"] for i in back.items] == [i["sku"] for i in pages[1].items]
        assert (back.prev_before, back.next_after) == ("SKU-005", "SKU-009")
        first = stock_page(conn, before="SKU-005", limit=5)
        assert (first.prev_before, [i["sku"] for i in first.items][0]) == (None, "SKU-000")
    assert pages[1].items[0] == {"sku": "SKU-005", "title": None, "warehouses": {"MF": 5}, "available": 5}


def test_search_finds_a_sku_or_a_title_in_any_case_and_special_characters_literally(db):
    _fill(db, 3)
    with db.write() as conn:
        set_stock(conn, "HAT_100%", "MF", 2)
        store_titles(conn, {"SKU-001": "Red Woollen Hat", "SKU-002": "Blue scarf"}, replace=True)
    with db.read() as conn:
        assert [i["sku"] for i in stock_page(conn, search="woollen").items] == ["SKU-001"]
        assert [i["sku"] for i in stock_page(conn, search="sku-00").items] == ["SKU-000", "SKU-001", "SKU-002"]
        assert [i["sku"] for i in stock_page(conn, search="_100%").items] == ["HAT_100%"]
        assert stock_page(conn, search="%").items[0]["sku"] == "HAT_100%"
        assert stock_page(conn, search="nothing like it").items == []


def test_the_ledger_pages_newest_first_and_its_csv_holds_every_entry_oldest_first(db):
    with db.write() as conn:
        for n in range(1, 8):
            set_stock(conn, "A1", "MF", n, reference="stockgate set", note=f"count {n}")
        set_stock(conn, "B2", "MF", 1)
    with db.read() as conn:
        first, before = ledger_page(conn, "A1", limit=3)
        second, before2 = ledger_page(conn, "A1", before=before, limit=3)
        third, end = ledger_page(conn, "A1", before=before2, limit=3)
        text = "".join(iter_ledger_csv(conn, "A1", batch=2))
    assert [e["on_hand_after"] for e in first + second + third] == [7, 6, 5, 4, 3, 2, 1] and end is None
    assert (first[0]["note"], first[0]["cause"], first[0]["reference"]) == ("count 7", "manual", "stockgate set")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["on_hand_after"], r["note"]) for r in rows] == [(str(n), f"count {n}") for n in range(1, 8)]
    assert {r["sku"] for r in rows} == {"A1"}


def test_a_note_that_looks_like_a_formula_is_text_in_the_ledger_csv(db):
    with db.write() as conn:
        set_stock(conn, "A1", "MF", 2, note='=HYPERLINK("http://x")')
    with db.read() as conn:
        rows = list(csv.DictReader(io.StringIO("".join(iter_ledger_csv(conn, "A1")))))
    assert rows[0]["note"] == '\'=HYPERLINK("http://x")'


def test_a_manual_edit_keeps_its_note_and_a_bad_note_changes_nothing(db):
    with db.write() as conn:
        set_stock(conn, "A1", "MF", 5, note="  recount after the flood  ")
        adjust_stock(conn, "A1", "MF", -2, note="two damaged")
    for bad, message in (("x" * 501, "at most 500"), ("one\ntwo", "write it on one line")):
        with pytest.raises(UsageError, match=message), db.write() as conn:
            adjust_stock(conn, "A1", "MF", 1, note=bad)
    with db.read() as conn:
        assert [(e["delta"], e["note"]) for e in ledger_view(conn, "A1")] == [
            (5, "recount after the flood"), (-2, "two damaged")]
        assert stock_view(conn)[0]["warehouses"] == {"MF": 3}


def test_set_and_adjust_take_a_note_on_the_command_line_and_the_ledger_shows_it(stockgate):
    assert stockgate("init").code == 0
    assert stockgate("set", "A1", "MF", "5", "--note", "opening count").code == 0
    assert stockgate("adjust", "A1", "mf", "-1", "--note", "one broken").code == 0
    assert stockgate("adjust", "A1", "MF", "+1").code == 0
    entries = stockgate("ledger", "A1", "--json").json()["entries"]
    assert [(e["delta"], e["note"]) for e in entries] == [(5, "opening count"), (-1, "one broken"), (1, None)]
    table = stockgate("ledger", "A1").out
    assert "NOTE" in table.splitlines()[0] and "one broken" in table
    bad = stockgate("set", "A1", "MF", "9", "--note", "a\tb")
    assert bad.code == 2 and "write it on one line" in bad.err
    assert stockgate("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"MF": 5}
    audit = stockgate("audit", "--json").json()["entries"]
    assert [(e["action"], e["target"], e["actor"].startswith("cli:"), e["detail"].get("note")) for e in audit] == [
        ("stock.adjust", "A1@MF", True, None), ("stock.adjust", "A1@MF", True, "one broken"),
        ("stock.set", "A1@MF", True, "opening count")]
    assert audit[1]["detail"]["before"] == 5 and audit[1]["detail"]["after"] == 4


def test_a_page_size_out_of_range_or_both_cursors_are_refused(db):
    with db.read() as conn:
        for kwargs, message in ((dict(limit=0), "1 to 500"), (dict(limit=501), "1 to 500"),
                                (dict(after="A", before="B"), "either after or before")):
            with pytest.raises(UsageError, match=message):
                stock_page(conn, **kwargs)
