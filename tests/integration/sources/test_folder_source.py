"""Watched folders on the real file system: events plus rescans, the stability rule, `processed/` after
the commit, and symlinks never followed."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest

from gateway.transports.sources import folder as folder_module
from gateway.transports.sources.runner import SourceRunner

CSV = b"SKU,Quantity\nA1,5\nA2,7\n"



def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()



@pytest.fixture
def run_sources(db):
    """Start a SourceRunner; yields a function returning (runner, event set on each received file id)."""
    runners = []

    def start(settings):
        ids: list[str] = []
        arrived = threading.Event()

        def on_received(file_id):
            ids.append(file_id)
            arrived.set()

        runner = SourceRunner(db, settings, on_received=on_received)
        runner.start()
        runners.append(runner)
        return ids, arrived

    yield start
    for runner in runners:
        runner.stop(5)


def test_a_folder_file_written_slowly_is_processed_once_and_complete(folder_source, configure, run_sources, tmp_path,
                                                                     received):
    settings = configure(folder_source(stable_seconds=1))
    drop = tmp_path / "drop"
    writing = threading.Event()
    writing.set()
    seen_while_writing = []
    ids, arrived = run_sources(settings)

    with (drop / "stock.csv").open("wb") as fh:
        fh.write(b"SKU,Quantity\n")
        for i in range(20):                               # ~2 s, 100 ms apart
            fh.write(f"SKU{i:03d},{i}\n".encode())
            fh.flush()
            time.sleep(0.1)
            seen_while_writing.append(bool(ids))
    writing.clear()

    assert arrived.wait(10), "the file was never picked up"
    time.sleep(1.5)                                       # a further rescan must not pick it up again
    assert seen_while_writing == [False] * 20
    final = (drop / "processed" / "stock.csv").read_bytes()
    assert final.count(b"\n") == 21 and not (drop / "stock.csv").exists()
    assert [(r.file_id, r.transport, r.source, r.warehouse, r.sha256) for r in received()] == \
        [(ids[0], "folder", "drop", "WEST", sha256(final))]


def test_the_rescan_picks_up_a_file_whose_event_was_missed(folder_source, configure, run_sources, tmp_path,
                                                          monkeypatch, received):
    monkeypatch.setattr(folder_module.FolderWatcher, "start", lambda self: None)   # every event is missed
    settings = configure(folder_source(stable_seconds=0, interval_seconds=1))
    ids, arrived = run_sources(settings)
    time.sleep(0.3)                                          # the first scan found an empty folder

    (tmp_path / "drop" / "late.csv").write_bytes(CSV)

    assert arrived.wait(5), "the rescan never picked the file up"
    assert [r.name for r in received()] == ["late.csv"]
    assert (tmp_path / "drop" / "processed" / "late.csv").read_bytes() == CSV


def test_a_name_already_in_processed_gets_the_file_id_added(folder_source, configure, stockgate, tmp_path, received):
    configure(folder_source(stable_seconds=0))
    drop = tmp_path / "drop"
    (drop / "stock.csv").write_bytes(CSV)
    assert stockgate("sources", "poll", "drop").code == 0
    (drop / "stock.csv").write_bytes(CSV + b"A3,1\n")

    second = stockgate("sources", "poll", "drop", "--json").json()["fetched"][0]

    assert (drop / "processed" / "stock.csv").read_bytes() == CSV
    assert (drop / "processed" / f"stock.{second['file_id']}.csv").read_bytes() == CSV + b"A3,1\n"
    assert len(received()) == 2


def test_symlinks_are_never_followed_in_or_out_of_the_folder(folder_source, configure, stockgate, tmp_path, received):
    configure(folder_source(stable_seconds=0))
    outside = tmp_path / "secret.csv"
    outside.write_bytes(CSV)
    (tmp_path / "drop" / "evil.csv").symlink_to(outside)

    result = stockgate("sources", "poll", "drop", "--json")

    assert result.json()["fetched"] == [] and received() == []
    assert outside.read_bytes() == CSV and (tmp_path / "drop" / "evil.csv").is_symlink()


def test_a_part_file_is_picked_up_once_renamed(folder_source, configure, stockgate, tmp_path, received):
    configure(folder_source(stable_seconds=0))
    drop = tmp_path / "drop"
    (drop / "stock.csv.part").write_bytes(CSV)

    assert stockgate("sources", "poll", "drop", "--json").json()["fetched"] == []
    (drop / "stock.csv.part").rename(drop / "stock.csv")
    assert [f["name"] for f in stockgate("sources", "poll", "drop", "--json").json()["fetched"]] == ["stock.csv"]
    assert [r.sha256 for r in received()] == [sha256(CSV)]


def test_a_missing_folder_is_created_and_listed_by_sources(folder_source, configure, stockgate, tmp_path):
    configure(folder_source(path=str(tmp_path / "new" / "drop")))

    assert stockgate("sources", "poll", "drop").out.strip() == "nothing to fetch"
    assert (tmp_path / "new" / "drop").is_dir()
    [status] = stockgate("sources", "--json").json()["sources"]
    assert (status["name"], status["type"], status["warehouse"], status["failures"]) == ("drop", "folder", "WEST", 0)
    assert status["last_poll_at"] and status["last_success_at"] and status["next_poll_at"]


def test_a_folder_files_report_csv_starts_with_a_bom_and_names_the_sku_of_each_issue(folder_source, configure,
                                                                                     run_sources, tmp_path, db):
    from gateway.pipeline.claims import process_next

    settings = configure(folder_source(stable_seconds=0))
    (tmp_path / "drop" / "stock.csv").write_bytes("SKU,Quantity\nÜnï-1,abc\nA2,7\n".encode())
    ids, arrived = run_sources(settings)
    assert arrived.wait(30), "the folder source never received the file"
    assert process_next(db, settings, worker_id="test") == ids[0]

    [report] = (settings.data_dir / "reports").glob(f"stock.csv.{ids[0]}.report.csv")
    data = report.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")   # a spreadsheet opening it reads Ünï as UTF-8
    assert data.decode("utf-8-sig").splitlines()[:2] == [
        "row,SKU,column,value,severity,code,message",
        "2,Ünï-1,Quantity,abc,error,NOT_AN_INTEGER,quantity 'abc' is not a whole number"]
