"""Receiving a file: a durable spool copy and a `received` row, never overwriting another file's copy."""

from pathlib import Path

from sqlalchemy import select

from gateway.db import schema
from gateway.intake import Delivery, receive_bytes, spool


def test_a_received_file_is_spooled_and_recorded_with_its_hash(db, data_dir):
    file_id = receive_bytes(db, data_dir, Delivery(name="a.csv", transport="cli"), b"SKU,MF\nA1,1\n")
    with db.read() as conn:
        row = conn.execute(select(schema.files).where(schema.files.c.file_id == file_id)).one()
    assert row.status == "received" and row.size == 12
    assert Path(row.spool_path).read_bytes() == b"SKU,MF\nA1,1\n"
    assert not [p for p in (data_dir / "spool").iterdir() if p.name.startswith(".")]


def test_a_colliding_file_id_gets_a_new_one_and_never_replaces_the_other_files_copy(db, data_dir, monkeypatch):
    ids = iter(["20261126T000000-aaaaaaaa", "20261126T000000-aaaaaaaa", "20261126T000000-bbbbbbbb"])
    monkeypatch.setattr(spool, "new_file_id", lambda at=None: next(ids))
    first = receive_bytes(db, data_dir, Delivery(name="a.csv", transport="cli"), b"first")
    second = receive_bytes(db, data_dir, Delivery(name="b.csv", transport="cli"), b"second")
    assert (first, second) == ("20261126T000000-aaaaaaaa", "20261126T000000-bbbbbbbb")
    assert (data_dir / "spool" / first).read_bytes() == b"first"
    assert (data_dir / "spool" / second).read_bytes() == b"second"
