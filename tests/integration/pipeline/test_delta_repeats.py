"""In a delta file every row is a movement: a SKU on several rows gets all of them (an info issue says
so). Files that set absolute levels keep the agreeing-duplicate rule."""

from __future__ import annotations

from pipeline_helpers import codes, ingest, seed, stock


def test_two_identical_delta_rows_add_both(sg, files):
    seed(sg, "A1 EAST 5", "B1 EAST 5")
    code, report = ingest(sg, files.csv("d.csv", "SKU,Qty\nA1,+1\nB1,-2\nA1,+1\nA1,-3\nB1,+7\n"),
                          "--warehouse", "EAST", "--mode", "delta")
    assert (code, report["status"]) == (0, "applied"), report
    assert stock(sg)["A1"] == {"EAST": 4} and stock(sg)["B1"] == {"EAST": 10}   # 5+1+1-3, 5-2+7
    assert [(i["row"], i["code"], i["severity"], i["sku"], i["value"]) for i in report["issues"]] == [
        (4, "DUPLICATE_SKU_SUMMED", "info", "A1", "+1"), (5, "DUPLICATE_SKU_SUMMED", "info", "A1", "-3"),
        (6, "DUPLICATE_SKU_SUMMED", "info", "B1", "+7")]
    assert "also appears on row 2" in report["issues"][0]["message"]
    assert report["rows"] == {"total": 5, "applied": 2, "unchanged": 0, "errors": 0, "warnings": 0}


def test_a_failed_delta_row_is_left_out_alone_and_the_others_of_its_sku_still_add(sg, files):
    seed(sg, "A1 EAST 5")
    code, report = ingest(sg, files.csv("d.csv", "SKU,Qty\nA1,abc\nA1,+2\nA1,+2\n"), "--warehouse", "EAST",
                          "--mode", "delta")
    assert (code, codes(report)) == (3, ["NOT_AN_INTEGER", "DUPLICATE_SKU_SUMMED"]), report
    assert stock(sg)["A1"] == {"EAST": 9}


def test_a_delta_cut_off_in_its_last_row_does_not_add_that_row(sg, files):
    seed(sg, "A1 EAST 5")
    _code, report = ingest(sg, files.csv("d.csv", "SKU,Qty\nA1,+1\nA1,+1"), "--warehouse", "EAST", "--mode", "delta")
    assert codes(report) == ["TRUNCATED_ROW"]
    assert stock(sg)["A1"] == {"EAST": 6}


def test_an_absolute_file_keeps_the_agreeing_duplicate_rule(sg, files):
    seed(sg, "A1 EAST 5")
    _code, report = ingest(sg, files.csv("p.csv", "SKU,Qty\nA1,3\nA1,3\n"), "--warehouse", "EAST")
    assert [(i["code"], i["message"]) for i in report["issues"]] == [
        ("DUPLICATE_SKU_AGREES", "SKU 'A1' repeats row 2 with the same values; only row 2 counts")]
    assert stock(sg)["A1"] == {"EAST": 3}


def test_a_repeat_of_a_row_that_failed_never_says_it_counts(sg, files):
    seed(sg, "A1 EAST 5")
    code, report = ingest(sg, files.csv("p.csv", "SKU,Qty\nZZ-9,3\nA1,4\nZZ-9,3\n"), "--warehouse", "EAST")
    assert code == 3, report
    assert [(i["row"], i["code"], i["message"]) for i in report["issues"]] == [
        (2, "UNKNOWN_SKU", "SKU 'ZZ-9' is not in the catalog"),
        (4, "DUPLICATE_SKU_AGREES", "SKU 'ZZ-9' repeats row 2 with the same values; neither was applied: row 2 "
                                    "has an error")]
    assert not any("counts" in i["message"] or "applied once" in i["message"] for i in report["issues"])

    _code, report = ingest(sg, files.csv("d.csv", "SKU,Qty\nZZ-9,+3\nZZ-9,+3\n"), "--warehouse", "EAST",
                           "--mode", "delta")
    assert [(i["code"], i["message"].rsplit(" so this row's ", 1)[-1]) for i in report["issues"]] == [
        ("UNKNOWN_SKU", "SKU 'ZZ-9' is not in the catalog"),
        ("DUPLICATE_SKU_SUMMED", "+3 was not applied either: row 2 has an error")]
    assert "ZZ-9" not in stock(sg)
