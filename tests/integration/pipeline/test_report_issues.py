"""Reports an operator can act on: every issue names its row's SKU, a full snapshot lists what it zeroed,
and no row that failed says it was applied."""

from __future__ import annotations

from pipeline_helpers import codes, ingest, seed, stock


def test_every_row_issue_names_the_sku_of_its_row(sg, files):
    seed(sg, "A1 EAST 5", "A2 EAST 1", "A3 EAST 1")
    text = "SKU,Qty\nA1,abc\nA2,-4\nA2,-4\nZZ-9,3\nA3,+2\nA3,+2\n"
    _code, report = ingest(sg, files.csv("d.csv", text), "--warehouse", "EAST", "--mode", "partial")
    row_issues = [i for i in report["issues"] if i["row"] is not None]
    assert {i["code"] for i in row_issues} >= {"NOT_AN_INTEGER", "NEGATIVE_QUANTITY", "UNKNOWN_SKU", "SIGNED_QUANTITY"}
    skus = {2: "A1", 3: "A2", 4: "A2", 5: "ZZ-9", 6: "A3", 7: "A3"}
    assert all(i["sku"] == skus[i["row"]] for i in row_issues), row_issues

    _code, report = ingest(sg, files.csv("e.csv", "SKU,Qty\nA2,-9\n"), "--warehouse", "EAST", "--mode", "delta")
    assert [(i["code"], i["sku"]) for i in report["issues"]] == [("CLAMPED_AT_ZERO", "A2")]


def test_a_full_snapshot_lists_each_sku_it_zeroed_as_info(sg, files):
    seed(sg, "A1 EAST 5", "B2 EAST 3", "C3 EAST 4", "D4 EAST 2", "E5 EAST 0", "B2 WEST 8")
    code, report = ingest(sg, files.csv("full.csv", "SKU,Qty\nA1,6\nC3,4\nE5,0\n"), "--warehouse", "EAST",
                          "--mode", "full")
    assert (code, report["status"]) == (0, "applied"), report
    assert [(i["code"], i["severity"], i["sku"], i["row"]) for i in report["issues"]] == [
        ("ZEROED_BY_SNAPSHOT", "info", "B2", None), ("ZEROED_BY_SNAPSHOT", "info", "D4", None)]
    assert "SKU 'B2' in EAST set from 3 to 0" in report["issues"][0]["message"]
    assert report["rows"]["warnings"] == 0 and report["changes"]["zeroed"] == 2
    assert stock(sg)["B2"] == {"EAST": 0, "WEST": 8}

    text = sg("report", report["file_id"]).out
    assert "SKU B2: info ZEROED_BY_SNAPSHOT" in text


def test_a_held_snapshot_lists_nothing_as_zeroed(sg, files):
    seed(sg, "A1 EAST 5", "B2 EAST 3", "C3 EAST 4")
    _code, report = ingest(sg, files.csv("full.csv", "SKU,Qty\nA1,6\n"), "--warehouse", "EAST", "--mode", "full")
    assert (report["status"], codes(report)) == ("held", ["SNAPSHOT_GUARD"])


def test_a_stock_file_ingested_without_a_warehouse_says_to_name_one(sg, files):
    seed(sg, "A1 EAST 5")
    code, report = ingest(sg, files.csv("s.csv", "SKU,Qty\nA1,7\n"))
    assert (code, codes(report)) == (4, ["STOCK_FILE_NEEDS_WAREHOUSE"])
    message = report["issues"][0]["message"]
    assert "column 'Qty'" in message and "--warehouse MF" in message and "header SKU,MF" in message
    assert stock(sg)["A1"] == {"EAST": 5}
