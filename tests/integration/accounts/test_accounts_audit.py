"""The audit log: entries with who, when and what; in the transaction of the change; never a secret."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.accounts import audit
from gateway.db import schema
from gateway.passwords import hash_password


def test_entries_are_read_back_newest_first_and_filtered_by_actor_action_and_time(db):
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    for minutes, actor, action, target in ((0, "web:ada", "file.release", "f1"), (1, "cli:root", "user.add", "bob"),
                                           (2, "web:ada", "stock.set", "A1")):
        audit.record(db, actor=actor, action=action, target=target, detail={"n": minutes},
                     clock=lambda: start + timedelta(minutes=minutes))
    assert [e.target for e in audit.entries(db)] == ["A1", "bob", "f1"]
    assert [e.target for e in audit.entries(db, actor="web:ada")] == ["A1", "f1"]
    assert [e.target for e in audit.entries(db, action="user.add")] == ["bob"]
    assert [e.target for e in audit.entries(db, since=start + timedelta(minutes=1))] == ["A1", "bob"]
    assert [e.target for e in audit.entries(db, limit=1, offset=1)] == ["bob"]
    first = audit.entries(db, action="file.release")[0]
    assert first.as_dict() == {"id": first.id, "at": "2026-12-02T09:00:00+00:00", "actor": "web:ada",
                               "action": "file.release", "target": "f1", "detail": {"n": 0}}


def test_an_entry_written_in_a_transaction_that_rolls_back_is_gone_with_it(db):
    with pytest.raises(RuntimeError):
        with db.write() as conn:
            audit.record(conn, actor="web:ada", action="stock.set", target="A1")
            raise RuntimeError("the change failed")
    assert audit.entries(db) == []


def test_a_secret_in_the_detail_is_never_stored(db):
    hashed = hash_password("correct horse")
    audit.record(db, actor="web:ada", action="user.passwd", target="bob",
                 detail={"password": "correct horse", "password_hash": hashed, "new": {"csrf_token": "abc"},
                         "note": hashed, "role": "viewer"})
    with db.read() as conn:
        stored = conn.execute(select(schema.audit_log.c.detail)).scalar()
    assert "correct horse" not in stored and hashed not in stored and "abc" not in stored
    assert audit.entries(db)[0].detail == {"password": "[redacted]", "password_hash": "[redacted]",
                                           "new": {"csrf_token": "[redacted]"}, "note": "[redacted]",
                                           "role": "viewer"}
