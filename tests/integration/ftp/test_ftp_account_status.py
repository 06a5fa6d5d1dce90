"""`stockgate sources` shows what each FTP account sent: its last upload and its last refused file."""

from __future__ import annotations

from ftp_test_harness import wait_until

GOOD = b"SKU,EAST,WEST\r\nA1,5,7\r\n"
REFUSED = b"\x00\x01\x02 not a spreadsheet at all"


def test_sources_lists_each_ftp_account_with_its_last_upload_and_last_refused_file(gateway, stockgate, tmp_path):
    gateway.upload(REFUSED, "broken.csv")
    wait_until(lambda: len(gateway.files()) == 1 and gateway.files()[0].status == "rejected", 30, "the refusal")
    gateway.upload(GOOD, "stock.csv", username="east")
    gateway.wait_for_finished_files(2)

    result = stockgate("sources", "--json", config=tmp_path / "stockgate.toml")

    assert result.code == 0, result
    east, west = result.json()["ftp_accounts"]
    assert (east["username"], east["warehouses"], east["files"]) == ("east", ["EAST", "WEST"], 2)
    assert (east["last_upload"]["name"], east["last_upload"]["status"]) == ("stock.csv", "applied")
    assert (east["last_refused"]["name"], east["last_refused"]["status"]) == ("broken.csv", "rejected")
    assert east["last_refused"]["message"]
    assert (west["files"], west["last_upload"], west["last_refused"]) == (0, None, None)
    text = stockgate("sources", config=tmp_path / "stockgate.toml").out
    assert "FTP ACCOUNT" in text and "broken.csv" in text
