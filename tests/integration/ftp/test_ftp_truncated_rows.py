"""An FTP upload cut off after a clean close of its data connection looks complete (stream mode has no end
marker): its last row, left without a line end, is reported as TRUNCATED_ROW and never applied."""

from __future__ import annotations

import json

from ftp_test_harness import wait_until


def _report(gateway, row):
    name = f"{row.name}.{row.file_id}.report.json"
    ftp = gateway.login()
    try:
        wait_until(lambda: any(n.endswith(name) for n in ftp.nlst("/reports")), 10, "the report in /reports")
    finally:
        ftp.quit()
    return json.loads(gateway.download(f"/reports/{name}"))


def test_a_data_connection_closed_in_the_last_row_applies_the_rows_before_it_only(gateway):
    ftp = gateway.login()
    ftp.voidcmd("TYPE I")
    data = ftp.transfercmd("STOR /inbox/stock.csv")
    data.sendall(b"SKU,EAST,WEST\r\nA1,5,7\r\nB-100,12")   # meant as B-100,1200,3: cut, then a clean close
    data.close()
    reply = ftp.voidresp()
    ftp.quit()

    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226") and row.status == "applied_with_errors"
    assert (gateway.on_hand("A1", "EAST"), gateway.on_hand("A1", "WEST")) == (5, 7)
    assert gateway.on_hand("B-100", "EAST") is None   # never created, though the account creates unknown SKUs
    report = _report(gateway, row)
    assert [(i["row"], i["code"], i["value"]) for i in report["issues"]] == [(3, "TRUNCATED_ROW", "B-100,12")]


def test_the_same_upload_ending_in_a_line_break_applies_every_row(gateway):
    reply = gateway.upload(b"SKU,EAST,WEST\r\nA1,5,7\r\nB-100,1200,3\r\n", "stock.csv")

    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226") and row.status == "applied"
    assert (gateway.on_hand("B-100", "EAST"), gateway.on_hand("B-100", "WEST")) == (1200, 3)
