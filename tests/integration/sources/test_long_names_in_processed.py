"""A file whose long name (250 bytes) is already taken in `processed/` is moved beside it under a name that
still fits the file system: shortened by bytes, with its file id and extension; folder and SFTP sources alike."""

from __future__ import annotations

LONG_NAME = "仓" * 82 + ".csv"           # 250 bytes: legal, but `<stem>.<file_id>.csv` is not
OLDER, NEWER = b"SKU,Quantity\nA1,5\n", b"SKU,Quantity\nA1,6\nA2,8\n"


def _beside(processed, file_id: str) -> str:
    [name] = [p.name for p in processed.iterdir() if p.name != LONG_NAME]
    assert len(name.encode()) <= 255 and name.startswith("仓仓仓") and name.endswith(f".{file_id}.csv")
    return name


def test_a_folder_file_with_a_long_taken_name_is_moved_beside_it(folder_source, configure, stockgate, tmp_path,
                                                                 received):
    configure(folder_source(stable_seconds=0))
    drop = tmp_path / "drop"
    (drop / LONG_NAME).write_bytes(OLDER)
    assert stockgate("sources", "poll", "drop").code == 0
    (drop / LONG_NAME).write_bytes(NEWER)

    second = stockgate("sources", "poll", "drop", "--json").json()

    assert second["errors"] == [] and [f["name"] for f in second["fetched"]] == [LONG_NAME]
    processed = drop / "processed"
    assert (processed / LONG_NAME).read_bytes() == OLDER
    assert (processed / _beside(processed, second["fetched"][0]["file_id"])).read_bytes() == NEWER
    assert not (drop / LONG_NAME).exists() and len(received()) == 2


def test_an_sftp_file_with_a_long_taken_name_is_moved_beside_it(sftp_server, sftp_source, configure, stockgate,
                                                                received):
    configure(sftp_source())
    (sftp_server.folder / LONG_NAME).write_bytes(OLDER)
    assert stockgate("sources", "poll", "erp").code == 0
    (sftp_server.folder / LONG_NAME).write_bytes(NEWER)

    second = stockgate("sources", "poll", "erp", "--json").json()

    assert second["errors"] == [] and [f["name"] for f in second["fetched"]] == [LONG_NAME]
    processed = sftp_server.folder / "processed"
    assert (processed / LONG_NAME).read_bytes() == OLDER
    assert (processed / _beside(processed, second["fetched"][0]["file_id"])).read_bytes() == NEWER
    assert not (sftp_server.folder / LONG_NAME).exists() and len(received()) == 2
