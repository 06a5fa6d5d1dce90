"""A legal file name that is long in bytes (80 CJK characters + `.csv` = 244 bytes) gets its report files
and never stops `stockgate serve` from starting again."""

from __future__ import annotations

import json

from sqlalchemy import select

from gateway.db import schema
from gateway.db.engine import make_database

LONG_NAME = "仓" * 80 + ".csv"


def _report_files(serve, file_id: str) -> list[str]:
    folder = serve.data_dir / "ftp" / "wh" / "reports"
    return sorted(p.name for p in folder.iterdir() if file_id in p.name) if folder.is_dir() else []


def _files(database_url: str) -> list:
    db = make_database(database_url)
    try:
        with db.read() as conn:
            return conn.execute(select(schema.files.c.file_id, schema.files.c.name, schema.files.c.status)
                                .order_by(schema.files.c.seq)).all()
    finally:
        db.dispose()


def test_a_244_byte_upload_name_gets_its_report_and_serve_starts_again(serve_gateway, database_url):
    assert len(LONG_NAME.encode()) == 244
    serve_gateway.start()
    serve_gateway.upload(b"SKU,MF,EAST\r\nLONG-1,4,9\r\n", LONG_NAME)
    [row] = serve_gateway.wait_until(lambda: [r for r in _files(database_url) if r.status == "applied"], 60,
                                     "the long-named file applied")
    assert row.name == LONG_NAME
    serve_gateway.wait_until(lambda: len(_report_files(serve_gateway, row.file_id)) == 2, 30,
                             "both report files of the long-named file")
    assert serve_gateway.stop() == 0

    serve_gateway.start()       # recovery and the FTP server's start-up meet the long name again
    serve_gateway.upload(b"SKU,MF,EAST\r\nLONG-1,5,9\r\n", "after-restart.csv")
    serve_gateway.wait_until(lambda: [r for r in _files(database_url) if r.status == "applied"][1:], 60,
                             "a file uploaded after the restart applied")
    assert serve_gateway.stop() == 0

    names = _report_files(serve_gateway, row.file_id)
    assert [n.rsplit(".", 1)[-1] for n in names] == ["csv", "json"]
    assert all(len(n.encode()) <= 255 and n.startswith("仓") for n in names)
    assert all(f".{row.file_id}.report." in n for n in names)
    report = json.loads((serve_gateway.data_dir / "ftp" / "wh" / "reports" / names[1]).read_text())
    assert (report["name"], report["status"], report["rows"]["applied"]) == (LONG_NAME, "applied", 1)
    assert "Traceback" not in serve_gateway.log() and "File name too long" not in serve_gateway.log()
