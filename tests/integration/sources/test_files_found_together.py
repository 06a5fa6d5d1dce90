"""Files a source finds together are received in the order of the moment they describe (mtime, or the
timestamp in the name; then the name), over SFTP and from a folder, so none of them is rejected as stale;
a file still being checked for stability that is older than a ready one goes first."""

from __future__ import annotations

import json
import os
import random

from sqlalchemy import select

from gateway.db import schema
from gateway.pipeline import process_next
from gateway.transports.sources.folder import FolderStore
from gateway.transports.sources.pickup import Pickup
from gateway.transports.sources.runner import poll_source

WRITTEN_AT = 1_767_225_600            # 2026-01-01T00:00:00Z; the ERP wrote file k at WRITTEN_AT + 60 * k


def write_exports(folder, count: int) -> list[str]:
    """`count` partial snapshots of SKU COMMON (file k sets it to k + 1), written a minute apart, under names
    that sort in another order, created in a shuffled order; their names in the order they were written."""
    names = [f"export-{(k * 7) % count:02d}.csv" for k in range(count)]
    order = list(range(count))
    random.Random(4).shuffle(order)
    for k in order:
        path = folder / names[k]
        path.write_text(f"SKU,Quantity\nCOMMON,{k + 1}\nS{k},{k}\n")
        os.utime(path, (WRITTEN_AT + 60 * k, WRITTEN_AT + 60 * k))
    return names


def process_all(db, settings) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Process every received file as `serve`'s worker would; {name: (status, issue codes)}."""
    while process_next(db, settings, worker_id="test-worker"):
        pass
    f = schema.files.c
    with db.read() as conn:
        rows = conn.execute(select(f.name, f.status, f.report).order_by(f.seq)).all()
    return {r.name: (r.status, tuple(i["code"] for i in json.loads(r.report)["issues"])) for r in rows}


def common_on_hand(db) -> int:
    i, s = schema.items.c, schema.stock_levels.c
    with db.read() as conn:
        return conn.execute(select(s.on_hand).join_from(schema.stock_levels, schema.items, i.id == s.item_id)
                            .where(i.sku == "COMMON")).scalar()


def test_files_found_together_on_an_sftp_server_are_received_oldest_first_and_none_is_stale(
        sftp_server, sftp_source, configure, db, received):
    settings = configure(sftp_source(mode="partial"))
    written = write_exports(sftp_server.folder, 20)

    result = poll_source(db, settings, "erp")

    assert [f["name"] for f in result.fetched] == written and result.errors == []
    assert [r.name for r in received()] == written
    assert process_all(db, settings) == {name: ("applied", ()) for name in written}
    assert common_on_hand(db) == 20


def test_files_found_together_in_a_folder_are_received_oldest_first_and_none_is_stale(
        folder_source, configure, stockgate, db, tmp_path, received):
    settings = configure(folder_source(stable_seconds=0, mode="partial"))
    written = write_exports(tmp_path / "drop", 20)

    assert stockgate("sources", "poll", "drop").code == 0

    assert [r.name for r in received()] == written
    assert process_all(db, settings) == {name: ("applied", ()) for name in written}
    assert common_on_hand(db) == 20


def test_a_timestamp_in_the_name_orders_files_found_together_before_their_mtime(
        folder_source, configure, stockgate, db, tmp_path, received):
    settings = configure(folder_source(stable_seconds=0, mode="partial"))
    drop = tmp_path / "drop"
    for n, name in enumerate(["stock_20260302T0200.csv", "stock_20260301T0200.csv"]):
        (drop / name).write_text(f"SKU,Quantity\nCOMMON,{n + 1}\n")
        os.utime(drop / name, (WRITTEN_AT + n, WRITTEN_AT + n))   # mtimes in the opposite order: copied later

    assert stockgate("sources", "poll", "drop").code == 0

    assert [r.name for r in received()] == ["stock_20260301T0200.csv", "stock_20260302T0200.csv"]
    assert set(process_all(db, settings).values()) == {("applied", ())} and common_on_hand(db) == 1


def test_a_ready_file_waits_for_an_older_one_seen_beside_it_that_is_not_yet_stable(
        folder_source, configure, db, tmp_path, received):
    settings = configure(folder_source(stable_seconds=10, mode="partial"))
    drop = tmp_path / "drop"
    clock = [1000.0]
    pickup = Pickup(db, settings.data_dir, settings.sources[0], clock=lambda: clock[0])
    store = FolderStore(settings.sources[0])
    (drop / "b-new.csv").write_text("SKU,Quantity\nCOMMON,2\n")
    os.utime(drop / "b-new.csv", (WRITTEN_AT + 60, WRITTEN_AT + 60))
    assert pickup.poll(store, settle=False).waiting == ["b-new.csv"]            # first look: not stable yet

    (drop / "a-old.csv").write_text("SKU,Quantity\nCOMMON,1\n")                 # moved in later, written before
    os.utime(drop / "a-old.csv", (WRITTEN_AT, WRITTEN_AT))
    clock[0] += 10
    second = pickup.poll(store, settle=False)                                    # b-new is stable, a-old is not
    assert (second.fetched, second.waiting, received()) == ([], ["a-old.csv", "b-new.csv"], [])

    clock[0] += 10
    third = pickup.poll(store, settle=False)

    assert [f["name"] for f in third.fetched] == ["a-old.csv", "b-new.csv"]
    assert process_all(db, settings) == {"a-old.csv": ("applied", ()), "b-new.csv": ("applied", ())}
    assert common_on_hand(db) == 2
