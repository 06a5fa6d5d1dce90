"""Each FTP account's Quantity Update template, over the real FTP server: only its warehouses' columns and the
SKUs stocked in them or created by its own files; no cell a spreadsheet would run, in the templates (CSV and
XLSX) and in the report CSVs; and a template sent back unchanged applies with every row unchanged."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

from openpyxl import Workbook, load_workbook

from ftp_test_harness import wait_until
from gateway.stock import set_stock
from parsers.formula_cells import read_back

EAST_ONLY = ['=HYPERLINK("http://evil.example","click")', "@SUM(9)", "-cmd|' /C calc'!A1", "EAST-ONLY"]
WEST = ["=SUM(1+1)", "+cmd|' /C calc'!A0", "@SUM(1)", "-5A", "5;=1+1", "00123", "Ünï"]
LIVE = re.compile(r"[ \u00a0]*[=+\-@]")


def _xlsx(rows: list[list]) -> bytes:
    """A workbook whose text cells are strings (never formulas), as a warehouse's spreadsheet would send."""
    workbook = Workbook()
    sheet = workbook.active
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, str):
                cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def assert_nothing_a_spreadsheet_would_run(raw: bytes) -> None:
    """Read as a `,` file and as a `;` file (a spreadsheet in another locale): no cell starts a formula or
    holds `;=`, and every cell StockGate marked is quoted in the file."""
    text = raw.decode("utf-8-sig")
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            for cell in row:
                assert not LIVE.match(cell) and ";=" not in cell and cell[:1] not in ("\t", "\r"), (delimiter, cell)
                if delimiter == "," and read_back(cell) != cell:
                    assert '"' + cell.replace('"', '""') + '"' in text, f"{cell!r} is not quoted"


def _template(gateway, username: str, fmt: str = "csv") -> bytes:
    return gateway.download(f"/templates/quantity_update.{fmt}", username)


def _report(gateway, username: str, file_id: str, suffix: str) -> bytes:
    ftp = gateway.login(username)
    try:
        [name] = wait_until(lambda: [n for n in ftp.nlst("/reports") if file_id in n and n.endswith(suffix)], 10,
                            f"the {suffix} report")
    finally:
        ftp.quit()
    return gateway.download(name if name.startswith("/") else f"/reports/{name}", username)


def _seed(gateway) -> None:
    rows = [["SKU", "EAST", "WEST"], *[[sku, 4, None] for sku in EAST_ONLY],
            *[[sku, None, n] for n, sku in enumerate(WEST, 1)], ["EAST-NEW", None, None]]
    gateway.upload(_xlsx(rows), "seed.xlsx", "east")
    gateway.upload(b"SKU,WEST\r\nWEST-NEW,\r\n", "west-new.csv", "west")    # created by west, no level yet
    assert [f.status for f in gateway.wait_for_finished_files(2)] == ["applied", "applied"]
    with gateway.db.write() as conn:
        set_stock(conn, "'=quoted", "WEST", 3)    # a SKU that itself starts with ' (from a marketplace, say)


def test_a_login_sees_only_its_warehouses_and_skus_and_no_live_cell(gateway):
    _seed(gateway)
    expected_west = sorted([*WEST, "WEST-NEW", "'=quoted"])

    csv_bytes = wait_until(lambda: b"quoted" in (t := _template(gateway, "west")) and t, 10, "west's template")
    assert csv_bytes.startswith(b"\xef\xbb\xbf")   # the UTF-8 BOM a spreadsheet needs to read `Ünï` right
    rows = [[read_back(c) for c in row] for row in csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig")))]
    assert rows[0] == ["SKU", "Title", "WEST"]
    assert sorted(row[0] for row in rows[1:]) == expected_west
    assert_nothing_a_spreadsheet_would_run(csv_bytes)

    xlsx_bytes = _template(gateway, "west", "xlsx")
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes)) as book:
        sheets = [book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any(re.search(rb"<f[ >]", sheet) for sheet in sheets)
    sheet = load_workbook(io.BytesIO(xlsx_bytes)).active
    skus = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [c.value for c in sheet[1]] == ["SKU", "Title", "WEST"]
    assert sorted(map(read_back, skus)) == expected_west and all(c.data_type == "s" for c in sheet["A"])

    east = [row[0] for row in csv.reader(io.StringIO(_template(gateway, "east").decode("utf-8-sig")))]
    assert east[0] == "SKU" and {*EAST_ONLY, "EAST-NEW", *WEST} <= set(map(read_back, east))
    assert "WEST-NEW" not in east   # stocked nowhere east may see, and not created by east's files


def test_the_template_downloaded_and_uploaded_unchanged_applies_with_every_row_unchanged(gateway):
    _seed(gateway)
    wait_until(lambda: b"quoted" in _template(gateway, "west"), 10, "west's template")
    for n, fmt in enumerate(("csv", "xlsx"), 3):
        template = _template(gateway, "west", fmt)
        reply = gateway.upload(template, f"quantity_update.{fmt}", "west")
        file_id = re.search(r"received as file (\S+?)\.", reply).group(1)
        gateway.wait_for_finished_files(n)
        document = json.loads(_report(gateway, "west", file_id, ".report.json"))
        assert (document["status"], document["kind"], document["issues"]) == ("applied", "quantity_update", [])
        assert document["rows"] == {"total": 9, "applied": 0, "unchanged": 9, "errors": 0, "warnings": 0}, fmt
    assert gateway.on_hand("5;=1+1", "WEST") == 5 and gateway.on_hand("'=quoted", "WEST") == 3


def test_the_report_csv_of_a_file_with_hostile_skus_holds_nothing_a_spreadsheet_would_run(gateway):
    hostile = [["SKU", "WEST"], ["=SUM(1+1)", 1], ["=SUM(1+1)", 2], ["5;=1+1", 1], ["5;=1+1", 3],
               ["@SUM(1)", 1], ["@SUM(1)", 4], ["+cmd|' /C calc'!A0", "-3"], ["-5A", "=1+1"]]
    reply = gateway.upload(_xlsx(hostile), "hostile.xlsx", "west")
    file_id = re.search(r"received as file (\S+?)\.", reply).group(1)
    gateway.wait_for_finished_files(1)

    raw = _report(gateway, "west", file_id, ".report.csv")
    assert raw.startswith(b"\xef\xbb\xbfrow,SKU,")   # downloaded over FTP: a UTF-8 BOM, then the SKU column
    assert_nothing_a_spreadsheet_would_run(raw)
    issues = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {read_back(i["SKU"]) for i in issues} >= {"=SUM(1+1)", "5;=1+1", "@SUM(1)", "-5A"}
    assert {read_back(i["value"]) for i in issues} >= {"=SUM(1+1)", "5;=1+1", "@SUM(1)", "-3", "=1+1"}
    assert "'5;'=1+1" in {i["value"] for i in issues}
    document = json.loads(_report(gateway, "west", file_id, ".report.json"))
    assert {i["value"] for i in document["issues"]} >= {"=SUM(1+1)", "5;=1+1"}   # the JSON keeps them exact
