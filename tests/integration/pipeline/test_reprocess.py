"""Re-running a file: `stockgate reprocess FILE_ID` (a new file linked to the first, `forced_from`) and
`ingest --force`; the duplicate rule is bypassed only by them, the stale rule still applies."""

from __future__ import annotations

import json

from pipeline_helpers import codes, ingest, seed, stock


def reprocess(sg, file_id: str, *args: str):
    result = sg("reprocess", file_id, *args, "--json")
    assert result.out, result
    return result.code, json.loads(result.out)


def history(sg) -> list[dict]:
    return sg("history", "--json").json()["files"]


def test_reprocess_after_creating_the_sku_applies_the_failed_row_as_a_new_linked_file(sg, files, data_dir):
    seed(sg, "A1 EAST 1")
    path = files.csv("east.csv", "SKU,Qty\nA1,5\nN1,7\n")
    code, first = ingest(sg, path, "--warehouse", "EAST")
    assert (code, first["status"], codes(first)) == (3, "applied_with_errors", ["UNKNOWN_SKU"])
    assert first["forced_from"] is None
    seed(sg, "N1 MF 0")   # the operator creates the SKU

    code, again = reprocess(sg, first["file_id"])

    assert (code, again["status"]) == (0, "applied")
    assert again["file_id"] != first["file_id"] and again["forced_from"] == first["file_id"]
    assert (again["name"], again["warehouse"], again["mode"], again["as_of"]) == ("east.csv", "EAST", "partial",
                                                                                  first["as_of"])
    assert again["rows"] == {"total": 2, "applied": 1, "unchanged": 1, "errors": 0, "warnings": 0}
    assert stock(sg)["N1"] == {"MF": 0, "EAST": 7} and stock(sg)["A1"] == {"EAST": 5}
    listed = {f["file_id"]: f["status"] for f in history(sg)}
    assert listed == {first["file_id"]: "applied_with_errors", again["file_id"]: "applied"}
    report_file = data_dir / "reports" / f"east.csv.{again['file_id']}.report.json"
    assert json.loads(report_file.read_text(encoding="utf-8"))["forced_from"] == first["file_id"]
    assert f"a re-run of file {first['file_id']}" in sg("report", again["file_id"]).out


def test_reprocess_with_create_unknown_skus_creates_them_this_time(sg, files):
    code, first = ingest(sg, files.csv("east.csv", "SKU,Qty\nN1,7\n"), "--warehouse", "EAST")
    assert (code, first["status"]) == (4, "rejected")

    code, again = reprocess(sg, first["file_id"], "--create-unknown-skus")

    assert (code, again["status"]) == (0, "applied") and stock(sg)["N1"] == {"EAST": 7}


def test_reprocess_in_another_mode_applies_a_held_file_and_its_old_reading_can_no_longer_be_released(sg, files):
    seed(sg, "A1 EAST 4", "A2 EAST 4", "A3 EAST 4")
    code, first = ingest(sg, files.csv("east.csv", "SKU,Qty\nA1,9\n"), "--warehouse", "EAST", "--mode", "full")
    assert (code, first["status"]) == (4, "held")   # as `full` it would zero A2 and A3

    code, again = reprocess(sg, first["file_id"], "--mode", "partial")

    assert (code, again["status"], again["mode"]) == (0, "applied", "partial")
    assert stock(sg)["A1"] == {"EAST": 9} and stock(sg)["A2"] == {"EAST": 4}
    release = sg("release", first["file_id"])
    assert release.code == 2 and f"processed again as file {again['file_id']}" in release.err
    assert stock(sg)["A2"] == {"EAST": 4}


def test_the_stale_rule_still_applies_to_a_reprocessed_file(sg, files):
    seed(sg, "A1 EAST 1")
    code, old = ingest(sg, files.csv("old.csv", "SKU,Qty\nN1,3\n"), "--warehouse", "EAST",
                       "--as-of", "2026-01-01T08:00:00Z")
    assert code == 4
    code, newer = ingest(sg, files.csv("new.csv", "SKU,Qty\nA1,6\n"), "--warehouse", "EAST",
                         "--as-of", "2026-01-02T08:00:00Z")
    assert newer["status"] == "applied"

    code, again = reprocess(sg, old["file_id"], "--create-unknown-skus")

    assert (code, again["status"], codes(again)) == (4, "rejected", ["STALE_FILE"])
    assert again["as_of"] == old["as_of"] and "N1" not in stock(sg)


def test_only_the_explicit_action_bypasses_the_duplicate_rule(sg, files):
    seed(sg, "A1 EAST 1")
    path = files.csv("east.csv", "SKU,Qty\nA1,5\n")
    first = ingest(sg, path, "--warehouse", "EAST")[1]
    seed(sg, "A1 EAST 2")   # a manual edit since

    plain = ingest(sg, path, "--warehouse", "EAST")[1]
    forced_code, forced = ingest(sg, path, "--warehouse", "EAST", "--force")
    after_rerun = ingest(sg, path, "--warehouse", "EAST")[1]

    assert (plain["status"], codes(plain)) == ("duplicate", ["DUPLICATE_FILE"]) and plain["forced_from"] is None
    assert (forced_code, forced["status"], forced["forced_from"]) == (0, "applied", first["file_id"])
    assert after_rerun["status"] == "duplicate"
    assert stock(sg)["A1"] == {"EAST": 5}


def test_ingest_force_of_new_bytes_is_an_ordinary_file(sg, files):
    seed(sg, "A1 EAST 1")
    code, report = ingest(sg, files.csv("east.csv", "SKU,Qty\nA1,5\n"), "--warehouse", "EAST", "--force")
    assert (code, report["status"], report["forced_from"]) == (0, "applied", None)


def test_a_delta_file_whose_movements_were_applied_is_not_reprocessed(sg, files):
    seed(sg, "A1 EAST 10")
    code, first = ingest(sg, files.csv("moves.csv", "SKU,Qty\nA1,-3\nN1,+2\n"), "--warehouse", "EAST",
                         "--mode", "delta")
    assert (code, first["status"]) == (3, "applied_with_errors")

    result = sg("reprocess", first["file_id"], "--create-unknown-skus")

    assert result.code == 2 and "count them twice" in result.err and "--force" in result.err
    assert stock(sg)["A1"] == {"EAST": 7} and len(history(sg)) == 1


def test_a_delta_file_that_applied_nothing_is_reprocessed(sg, files):
    code, first = ingest(sg, files.csv("moves.csv", "SKU,Qty\nN1,+2\n"), "--warehouse", "EAST", "--mode", "delta")
    assert first["status"] == "rejected"
    code, again = reprocess(sg, first["file_id"], "--create-unknown-skus")
    assert (code, again["status"]) == (0, "applied") and stock(sg)["N1"] == {"EAST": 2}


def test_reprocess_refuses_an_unknown_file_and_a_mode_for_a_quantity_update(sg, files):
    assert sg("reprocess", "nope").code == 2
    first = ingest(sg, files.csv("qu.csv", "SKU,MF\nA1,1\n"))[1]
    result = sg("reprocess", first["file_id"], "--mode", "full")
    assert result.code == 2 and "Quantity Update" in result.err


def test_reprocess_says_so_when_the_stored_copy_is_gone(sg, files, data_dir):
    first = ingest(sg, files.csv("east.csv", "SKU,Qty\nN1,7\n"), "--warehouse", "EAST")[1]
    for path in (data_dir / "archive").rglob(first["file_id"]):
        path.unlink()
    result = sg("reprocess", first["file_id"])
    assert result.code == 2 and "stored copy" in result.err and "send the file again" in result.err


def test_a_reprocess_is_in_the_audit_log_naming_the_new_file_and_what_changed(sg, files):
    _code, first = ingest(sg, files.csv("east.csv", "SKU,Qty\nN1,7\n"), "--warehouse", "EAST")
    _code, again = reprocess(sg, first["file_id"], "--create-unknown-skus")

    (entry,) = sg("audit", "--action", "file.reprocess", "--json").json()["entries"]
    assert entry["actor"].startswith("cli:") and entry["target"] == first["file_id"]
    assert entry["detail"] == {"new_file_id": again["file_id"], "mode": None, "create_unknown_skus": True}
