"""A file is deleted or moved only while it is still the version fetched: a new version written between
the fetch and the after-action survives and is fetched at the next poll, on a real OpenSSH server and in
a real folder; with `keep`, a rewrite that keeps size and mtime is fetched again, unchanged bytes never."""

from __future__ import annotations

import hashlib
import os

import pytest

from gateway.intake import receive_file
from gateway.transports.sources.runner import poll_source

EXPORT = b"SKU,Quantity\nA1,5\nA2,7\n"
NEXT_SAME_SIZE = b"SKU,Quantity\nA1,6\nA2,8\n"        # the ERP's next export: same size, other figures
NEXT_LONGER = b"SKU,Quantity\nA1,6\nA2,8\nA3,1\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ReplaceAfterReceive:
    """receive_file, after which (before the after-action) the ERP writes its next export over the file."""

    def __init__(self, path, data: bytes, *, keep_mtime: bool):
        self.path, self.data, self.keep_mtime, self.calls = path, data, keep_mtime, 0

    def __call__(self, *args, **kwargs):
        file_id = receive_file(*args, **kwargs)
        self.calls += 1
        if self.calls == 1:
            before = os.stat(self.path)
            self.path.write_bytes(self.data)          # in place, as a plain `>` redirect or an ERP job writes
            if self.keep_mtime:                        # and the same second, or a copy keeping the mtime
                os.utime(self.path, ns=(before.st_atime_ns, before.st_mtime_ns))
        return file_id


def folder_of(kind: str, sftp_server, tmp_path):
    return sftp_server.folder if kind == "sftp" else tmp_path / "drop"


@pytest.fixture(params=["sftp", "folder"])
def kind(request):
    return request.param


@pytest.fixture
def source_of(kind, sftp_source, folder_source):
    def make(**keys):
        return sftp_source(**keys) if kind == "sftp" else folder_source(stable_seconds=0, **keys)
    return make


CASES = [("delete", NEXT_LONGER, False), ("delete", NEXT_SAME_SIZE, True), ("move", NEXT_SAME_SIZE, True)]


@pytest.mark.parametrize("after, next_export, keep_mtime", CASES, ids=["delete", "delete-same-size-and-mtime",
                                                                       "move-same-size-and-mtime"])
def test_a_new_version_written_between_fetch_and_after_action_survives_and_is_fetched_next(
        kind, source_of, sftp_server, tmp_path, configure, db, received, after, next_export, keep_mtime):
    settings = configure(source_of(after=after, move_to="processed" if after == "move" else None,
                                   name="erp"))
    folder = folder_of(kind, sftp_server, tmp_path)
    remote = folder / "stock.csv"
    remote.write_bytes(EXPORT)
    replace = ReplaceAfterReceive(remote, next_export, keep_mtime=keep_mtime)

    first = poll_source(db, settings, "erp", receive=replace)

    assert [r.sha256 for r in received()] == [sha256(EXPORT)] and first.errors == []
    assert remote.read_bytes() == next_export                      # the next export was not deleted unseen
    assert [f["name"] for f in first.fetched] == ["stock.csv"] and "left in place" in first.fetched[0]["after"]

    second = poll_source(db, settings, "erp")

    assert [r.sha256 for r in received()] == [sha256(EXPORT), sha256(next_export)]
    assert [f["file_id"] for f in second.fetched] == [received()[1].file_id]
    assert not remote.exists()
    if after == "move":
        assert (folder / "processed" / "stock.csv").read_bytes() == next_export
    assert poll_source(db, settings, "erp").fetched == [] and len(received()) == 2


def test_a_kept_file_rewritten_with_its_size_and_mtime_is_fetched_again_and_unchanged_bytes_never(
        kind, source_of, sftp_server, tmp_path, configure, db, stockgate, received):
    settings = configure(source_of(after="keep", move_to=None, name="erp"))
    remote = folder_of(kind, sftp_server, tmp_path) / "stock.csv"
    remote.write_bytes(EXPORT)
    assert len(poll_source(db, settings, "erp").fetched) == 1
    listed = os.stat(remote)

    remote.write_bytes(NEXT_SAME_SIZE)
    os.utime(remote, ns=(listed.st_atime_ns, listed.st_mtime_ns))     # mtime preserved, as `cp -p` does
    assert (os.stat(remote).st_size, os.stat(remote).st_mtime_ns) == (listed.st_size, listed.st_mtime_ns)

    again = poll_source(db, settings, "erp")

    assert [f["name"] for f in again.fetched] == ["stock.csv"]
    assert [r.sha256 for r in received()] == [sha256(EXPORT), sha256(NEXT_SAME_SIZE)]
    polls = [poll_source(db, settings, "erp").fetched for _ in range(2)]       # the same Pickup-less way as cron
    polls.append(stockgate("sources", "poll", "erp", "--json").json()["fetched"])
    assert polls == [[], [], []] and len(received()) == 2
    assert remote.read_bytes() == NEXT_SAME_SIZE
