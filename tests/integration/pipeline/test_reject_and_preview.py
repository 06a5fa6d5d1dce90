"""A held file rejected (`stockgate reject`), and dry runs that list each SKU's level before and after
(`ingest --dry-run --changes`, `stockgate preview FILE_ID`)."""

from __future__ import annotations

import json

from pipeline_helpers import codes, ingest, seed, stock

from gateway.pipeline import release


def file_audit(sg) -> list[dict]:
    """The audit log's entries about files (the set-up's `stockgate set` writes stock.set entries too)."""
    return [e for e in sg("audit", "--json").json()["entries"] if e["action"].startswith("file.")]


def _held(sg, files, name="west.csv"):
    seed(sg, "A1 WEST 5", "A2 WEST 5", "A3 WEST 5")
    code, report = ingest(sg, files.csv(name, "SKU,Qty\nA1,6\n"), "--warehouse", "WEST", "--mode", "full")
    assert (code, report["status"]) == (4, "held")
    return report["file_id"]


def test_a_rejected_held_file_applies_nothing_and_its_report_says_who_and_why(sg, files, data_dir):
    file_id = _held(sg, files)
    result = sg("reject", file_id, "--reason", "yesterday's\texport\n again", "--json")
    assert result.code == 0, result
    report = result.json()
    assert report["status"] == "rejected"
    assert codes(report) == ["SNAPSHOT_GUARD", "REJECTED_ON_REQUEST"]
    message = report["issues"][-1]["message"]
    assert message.startswith("rejected by cli:") and message.endswith(
        "while held: yesterday's export again; nothing applied")
    assert stock(sg) == {"A1": {"WEST": 5}, "A2": {"WEST": 5}, "A3": {"WEST": 5}}
    assert sg("report", file_id, "--format", "json").json() == report
    written = json.loads((data_dir / "reports" / f"west.csv.{file_id}.report.json").read_text(encoding="utf-8"))
    assert written["status"] == "rejected"
    assert [f["status"] for f in sg("history", "--json").json()["files"]] == ["rejected"]
    again = sg("release", file_id)
    assert again.code == 2 and "only a held file can be released" in again.err
    assert stock(sg)["A2"] == {"WEST": 5}
    entries = file_audit(sg)
    assert [(e["action"], e["target"], e["detail"]) for e in entries] == [
        ("file.reject", file_id, {"reason": "yesterday's export again"})]
    assert entries[0]["actor"] == message.split()[2]   # the report and the audit log name the same actor


def test_only_a_held_file_can_be_rejected(sg, files):
    file_id = _held(sg, files)
    assert sg("release", file_id).code == 0
    (entry,) = file_audit(sg)
    assert (entry["action"], entry["target"], entry["actor"].startswith("cli:")) == ("file.release", file_id, True)
    assert entry["detail"] == {"status": "applied", "rows_applied": 1, "rows_errors": 0, "increased": 1,
                               "decreased": 0, "zeroed": 2}
    refused = sg("reject", file_id)
    assert refused.code == 2 and refused.err == (f"stockgate: error: file {file_id} is applied: only a held file "
                                                 f"can be rejected\n")
    assert stock(sg)["A2"] == {"WEST": 0}
    unknown = sg("reject", "f_nope")
    assert unknown.code == 2 and "no file 'f_nope'" in unknown.err
    assert len(file_audit(sg)) == 1   # refusals are not actions


def test_a_rejection_without_a_reason_says_so_and_a_long_one_is_refused(sg, files):
    file_id = _held(sg, files)
    too_long = sg("reject", file_id, "--reason", "x" * 501)
    assert too_long.code == 2 and "at most 500" in too_long.err
    assert sg("history", "--status", "held", "--json").json()["total"] == 1
    assert "(no reason given); nothing applied" in sg("reject", file_id).out


def test_a_release_and_a_reject_of_one_held_file_at_once_leave_exactly_one_outcome(sg, files, db, concurrently,
                                                                                     tmp_path):
    from gateway.pipeline import reject
    from gateway.settings import load_settings

    file_id = _held(sg, files)
    settings = load_settings(tmp_path / "stockgate.toml")   # the test's config (`sg` wrote it)
    outcomes = []

    def act(i):
        if i == 0:
            outcomes.append(release(db, settings, file_id).status)
        else:
            outcomes.append(reject(db, settings, file_id, actor="test").status)

    errors = concurrently(act, 2)
    assert len(outcomes) == 1 and len(errors) == 1, (outcomes, errors)
    assert "only a held file" in str(errors[0]) or "no longer held" in str(errors[0])
    status = sg("history", "--json").json()["files"][0]["status"]
    assert status == outcomes[0]
    assert stock(sg)["A2"] == ({"WEST": 0} if status == "applied" else {"WEST": 5})


def test_a_dry_run_lists_each_skus_level_before_and_after_and_changes_nothing(sg, files):
    seed(sg, "A1 WEST 5", "A2 WEST 1")
    path = files.csv("moves.csv", "SKU,Qty\nA1,+3\nA2,-4\nNEW-1,+2\n")
    result = sg("ingest", path, "--warehouse", "WEST", "--mode", "delta", "--create-unknown-skus", "--dry-run",
                "--changes", "--json")
    assert result.code == 0, result
    preview = result.json()
    assert preview["changes"] == [
        {"sku": "A1", "warehouse": "WEST", "before": 5, "after": 8, "row": 2},
        {"sku": "A2", "warehouse": "WEST", "before": 1, "after": 0, "row": 3},       # clamped at zero
        {"sku": "NEW-1", "warehouse": "WEST", "before": None, "after": 2, "row": 4}]
    assert (preview["total_changes"], preview["report"]["file_id"]) == (3, None)
    assert "CLAMPED_AT_ZERO" in codes(preview["report"])
    assert stock(sg) == {"A1": {"WEST": 5}, "A2": {"WEST": 1}}
    assert sg("history", "--json").json()["total"] == 0
    text = sg("ingest", path, "--warehouse", "WEST", "--mode", "delta", "--dry-run", "--changes").out
    table = text.split("SKU  WAREHOUSE  BEFORE  AFTER  ROW\n")[1]
    assert table.splitlines()[:2] == ["A1   WEST       5       8      2", "A2   WEST       1       0      3"]
    assert "NEW-1" not in table and "UNKNOWN_SKU: SKU 'NEW-1'" in text    # not created, so not changed


def test_preview_of_a_held_file_shows_what_releasing_it_would_do(sg, files):
    file_id = _held(sg, files)
    result = sg("preview", file_id, "--json")
    assert result.code == 0, result
    preview = result.json()
    assert preview["as_released"] is True and preview["report"]["status"] == "applied"
    assert [(c["sku"], c["before"], c["after"], c["row"]) for c in preview["changes"]] == [
        ("A1", 5, 6, 2), ("A2", 5, 0, None), ("A3", 5, 0, None)]
    assert sg("history", "--json").json()["files"][0]["status"] == "held"
    assert stock(sg)["A2"] == {"WEST": 5}
    assert sg("release", file_id).code == 0
    done = sg("preview", file_id)
    assert done.code == 2 and f"file {file_id} is applied: a preview shows" in done.err
