"""SFTP sources against a real SSH server on loopback: strict host keys, stability, markers, after-actions,
and a file applied exactly once when a poll is interrupted between download and commit."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.errors import PermanentError
from gateway.intake import receive_file
from gateway.settings import SourceSettings
from gateway.transports.sources.runner import SourceRunner, poll_source
from gateway.transports.sources.sftp import connect
from sftp_test_server import known_hosts_line, write_ed25519_key

CSV = b"SKU,Quantity\nA1,5\nA2,7\n"



def staged_files(data_dir: Path) -> list[Path]:
    """Downloads on local disk (temporary or spooled)."""
    return [p for p in data_dir.rglob("*") if p.is_file() and p.parent.name in ("spool", "erp")]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()



def test_a_remote_file_is_fetched_once_and_moved_after_the_commit(sftp_server, sftp_source, configure, stockgate,
                                                                  received):
    configure(sftp_source())
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    first = stockgate("sources", "poll", "erp", "--json")

    assert first.code == 0, first
    assert [(f["name"], f["size"]) for f in first.json()["fetched"]] == [("stock.csv", len(CSV))]
    [row] = received()
    assert (row.name, row.transport, row.source, row.warehouse, row.status) == \
        ("stock.csv", "sftp", "erp", "WEST", "received")
    assert row.sha256 == sha256(CSV) and Path(row.spool_path).read_bytes() == CSV
    assert not (sftp_server.folder / "stock.csv").exists()
    assert (sftp_server.folder / "processed" / "stock.csv").read_bytes() == CSV

    second = stockgate("sources", "poll", "erp", "--json")
    assert second.json()["fetched"] == [] and len(received()) == 1
    [status] = stockgate("sources", "--json").json()["sources"]
    assert status["failures"] == 0 and status["last_success_at"] and status["last_error"] is None


def test_a_nightly_file_of_the_same_name_never_overwrites_last_nights_processed_copy(
        sftp_server, sftp_source, configure, stockgate, received):
    configure(sftp_source())
    older, newer = CSV, b"SKU,Quantity\nA1,6\nA2,8\nA3,1\n"   # the next night's export
    (sftp_server.folder / "stock.csv").write_bytes(older)
    assert stockgate("sources", "poll", "erp").code == 0
    (sftp_server.folder / "stock.csv").write_bytes(newer)
    assert stockgate("sources", "poll", "erp").code == 0

    processed = sftp_server.folder / "processed"
    second_id = [r.file_id for r in received()][-1]
    assert (processed / "stock.csv").read_bytes() == older
    assert (processed / f"stock.{second_id}.csv").read_bytes() == newer


def test_a_remote_file_is_deleted_after_the_commit_when_after_is_delete(sftp_server, sftp_source, configure, stockgate,
                                                                        received):
    configure(sftp_source(after="delete", move_to=None))
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    result = stockgate("sources", "poll", "erp")

    assert result.code == 0 and "fetched stock.csv" in result.out and "deleted" in result.out
    assert [r.sha256 for r in received()] == [sha256(CSV)]
    assert sorted(p.name for p in sftp_server.folder.iterdir()) == []


def test_a_kept_file_is_never_fetched_again_but_a_changed_one_is(sftp_server, sftp_source, configure, stockgate,
                                                                 received):
    configure(sftp_source(after="keep", move_to=None))
    remote = sftp_server.folder / "stock.csv"
    remote.write_bytes(CSV)

    polls = [stockgate("sources", "poll", "erp", "--json").json()["fetched"] for _ in range(3)]

    assert [len(p) for p in polls] == [1, 0, 0]
    assert remote.read_bytes() == CSV and len(received()) == 1
    remote.write_bytes(CSV + b"A3,1\n")                       # a new version: new size and mtime
    assert len(stockgate("sources", "poll", "erp", "--json").json()["fetched"]) == 1
    assert [r.sha256 for r in received()] == [sha256(CSV), sha256(CSV + b"A3,1\n")]


def test_temporary_names_and_other_patterns_are_ignored(sftp_server, sftp_source, configure, stockgate, received):
    configure(sftp_source())
    for name in ("stock.csv.part", "stock.csv.tmp", ".stock.csv", "stock.filepart", "notes.txt"):
        (sftp_server.folder / name).write_bytes(CSV)

    result = stockgate("sources", "poll", "erp", "--json")

    assert result.json()["fetched"] == [] and received() == []
    (sftp_server.folder / "stock.csv.part").rename(sftp_server.folder / "stock.csv")
    assert [f["name"] for f in stockgate("sources", "poll", "erp", "--json").json()["fetched"]] == ["stock.csv"]


def test_an_unknown_host_key_refuses_the_connection_and_downloads_nothing(sftp_server, sftp_source, configure,
                                                                          stockgate, data_dir, received):
    sftp_server.known_hosts.write_text(known_hosts_line("10.9.9.9", 22, sftp_server.host_key))  # another host
    before = sftp_server.known_hosts.read_bytes()
    configure(sftp_source())
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    result = stockgate("sources", "poll", "erp")

    assert result.code == 1 and "host key UNKNOWN" in result.err
    assert received() == [] and (sftp_server.folder / "stock.csv").read_bytes() == CSV
    assert staged_files(data_dir) == []
    assert sftp_server.known_hosts.read_bytes() == before
    [status] = stockgate("sources", "--json").json()["sources"]
    assert status["failures"] == 1 and "host key UNKNOWN" in status["last_error"] and status["last_success_at"] is None


def test_a_changed_host_key_refuses_the_connection_and_downloads_nothing(sftp_server, sftp_source, configure,
                                                                         stockgate, tmp_path, received):
    impostor = write_ed25519_key(tmp_path / "other_host_key")
    sftp_server.known_hosts.write_text(known_hosts_line(sftp_server.host, sftp_server.port, impostor))
    before = sftp_server.known_hosts.read_bytes()
    configure(sftp_source())
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    first, second = stockgate("sources", "poll", "erp"), stockgate("sources", "poll", "erp")

    assert first.code == second.code == 1 and "host key CHANGED" in first.err
    assert received() == [] and (sftp_server.folder / "stock.csv").read_bytes() == CSV
    assert sftp_server.known_hosts.read_bytes() == before
    [status] = stockgate("sources", "--json").json()["sources"]
    assert status["failures"] == 2 and "host key CHANGED" in status["last_error"]
    assert status["next_poll_at"] > status["last_error_at"]


def test_a_file_still_growing_is_fetched_only_once_stable_and_then_whole(sftp_server, sftp_source, configure, db,
                                                                         received):
    settings = configure(sftp_source(stable_seconds=1, interval_seconds=0.5))
    remote = sftp_server.folder / "stock.csv"
    remote.write_bytes(b"SKU,Quantity\n")
    writing = threading.Event()
    writing.set()

    def writer():
        for i in range(20):                        # ~2 s of appends, 100 ms apart
            with remote.open("ab") as fh:
                fh.write(f"SKU{i:03d},{i}\n".encode())
            time.sleep(0.1)
        writing.clear()

    fetched_while_writing = []
    arrived = threading.Event()

    def on_received(file_id):
        fetched_while_writing.append(writing.is_set())
        arrived.set()

    runner = SourceRunner(db, settings, on_received=on_received)
    thread = threading.Thread(target=writer)
    thread.start()
    runner.start()
    try:
        assert arrived.wait(10), "the file was never fetched"
    finally:
        runner.stop(5)
        thread.join()

    final = (sftp_server.folder / "processed" / "stock.csv").read_bytes()
    assert final.count(b"\n") == 21
    assert fetched_while_writing == [False]
    assert [r.sha256 for r in received()] == [sha256(final)]


def test_marker_mode_fetches_a_file_only_with_its_done_marker_and_consumes_it(sftp_server, sftp_source, configure,
                                                                             stockgate, received):
    configure(sftp_source(done_marker=True, stable_seconds=60))
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    waiting = stockgate("sources", "poll", "erp", "--json").json()
    assert waiting["fetched"] == [] and waiting["waiting"] == ["stock.csv"] and received() == []

    (sftp_server.folder / "stock.csv.done").write_bytes(b"")
    fetched = stockgate("sources", "poll", "erp", "--json").json()

    assert [f["name"] for f in fetched["fetched"]] == ["stock.csv"]
    assert [r.sha256 for r in received()] == [sha256(CSV)]
    assert sorted(p.name for p in sftp_server.folder.iterdir()) == ["processed"]
    assert sorted(p.name for p in (sftp_server.folder / "processed").iterdir()) == ["stock.csv"]


def test_an_ok_marker_works_like_a_done_marker(sftp_server, sftp_source, configure, stockgate, received):
    configure(sftp_source(done_marker=True, after="delete", move_to=None))
    (sftp_server.folder / "stock.csv").write_bytes(CSV)
    (sftp_server.folder / "stock.csv.ok").write_bytes(b"")

    assert len(stockgate("sources", "poll", "erp", "--json").json()["fetched"]) == 1
    assert list(sftp_server.folder.iterdir()) == [] and len(received()) == 1


class _CrashOnce:
    """receive_file that fails once, before (`commit=False`) or after (`commit=True`) its commit."""

    def __init__(self, commit: bool):
        self.commit, self.calls = commit, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            if self.commit:
                receive_file(*args, **kwargs)
            raise OSError("simulated crash")
        return receive_file(*args, **kwargs)


@pytest.mark.parametrize("commit", [False, True], ids=["before-commit", "after-commit"])
def test_a_poll_interrupted_between_download_and_acknowledgement_applies_the_file_exactly_once(
        sftp_server, sftp_source, configure, stockgate, db, commit, received):
    settings = configure(sftp_source())
    (sftp_server.folder / "stock.csv").write_bytes(CSV)
    crash = _CrashOnce(commit)

    first = poll_source(db, settings, "erp", receive=crash)
    assert first.fetched == [] and "simulated crash" in first.errors[0]
    assert (sftp_server.folder / "stock.csv").exists()              # not acknowledged: still on the server
    assert "simulated crash" in stockgate("sources", "--json").json()["sources"][0]["last_error"]

    second = poll_source(db, settings, "erp", receive=crash)

    assert [f["name"] for f in second.fetched] == ["stock.csv"] and second.errors == []
    rows = received()
    assert [r.sha256 for r in rows] == [sha256(CSV)]                 # one file row: applied exactly once
    assert second.fetched[0]["file_id"] == rows[0].file_id
    assert (sftp_server.folder / "processed" / "stock.csv").read_bytes() == CSV
    assert poll_source(db, settings, "erp").fetched == []


def test_a_failing_move_is_reported_and_the_file_is_not_fetched_again(sftp_server, sftp_source, configure, stockgate,
                                                                      received):
    configure(sftp_source(move_to=str(sftp_server.folder / "blocked" / "processed")))
    (sftp_server.folder / "blocked").write_bytes(b"a file where the folder should be")
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    polls = [stockgate("sources", "poll", "erp", "--json") for _ in range(2)]

    assert [p.code for p in polls] == [1, 1]
    assert all("received as file" in p.err for p in polls)
    assert len(received()) == 1 and (sftp_server.folder / "stock.csv").exists()
    (sftp_server.folder / "blocked").unlink()
    fixed = stockgate("sources", "poll", "erp", "--json")
    assert fixed.code == 0 and fixed.json()["fetched"][0]["file_id"] == received()[0].file_id
    assert len(received()) == 1 and (sftp_server.folder / "blocked" / "processed" / "stock.csv").exists()


def test_an_unreachable_server_is_retried_with_growing_backoff(sftp_source, configure, stockgate):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    configure(sftp_source(port=closed_port))

    results = [stockgate("sources", "poll", "erp") for _ in range(3)]

    assert all(r.code == 1 and "cannot connect" in r.err for r in results)
    [status] = stockgate("sources", "--json").json()["sources"]
    assert status["failures"] == 3 and "cannot connect" in status["last_error"]
    backoff = datetime.fromisoformat(status["next_poll_at"]) - datetime.fromisoformat(status["last_error_at"])
    assert backoff == timedelta(seconds=120)                   # 30 s, 60 s, then 120 s after the third failure
    table = stockgate("sources")
    assert "erp" in table.out and "cannot connect" in table.out


def test_a_password_from_a_missing_environment_variable_is_a_clear_error(sftp_source, configure, stockgate,
                                                                         monkeypatch):
    monkeypatch.delenv("SG_TEST_SFTP_PASSWORD", raising=False)
    configure(sftp_source(key_file=None, password_env="SG_TEST_SFTP_PASSWORD"))

    result = stockgate("sources", "poll", "erp")

    assert result.code == 2 and "SG_TEST_SFTP_PASSWORD is not set" in result.err


def test_polling_an_unknown_source_names_the_configured_ones(sftp_source, configure, stockgate):
    configure(sftp_source())

    result = stockgate("sources", "poll", "nope")

    assert result.code == 2 and "'nope'" in result.err and "erp" in result.err


def test_a_host_key_refusal_is_a_permanent_error_for_the_api(sftp_server, sftp_source, configure, db, received):
    sftp_server.known_hosts.write_text("")
    settings = configure(sftp_source())
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    with pytest.raises(PermanentError, match="host key UNKNOWN"):
        poll_source(db, settings, "erp")
    assert received() == []


def test_the_connection_uses_strict_key_exchange_when_the_server_offers_it(sftp_server, sftp_source):
    with connect(SourceSettings(**sftp_source())) as session:
        transport = session.get_channel().get_transport()
        assert transport.advertise_strict_kex is True
        if sftp_server.kind == "openssh" and not transport.agreed_on_strict_kex:
            pytest.skip("this sshd does not offer strict key exchange (OpenSSH < 9.6 without the backport)")
        assert transport.agreed_on_strict_kex is True
