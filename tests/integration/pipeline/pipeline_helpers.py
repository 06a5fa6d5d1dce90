"""Helpers for pipeline tests: writing CSV/XLSX files, running `ingest`, reading stock back."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import Workbook

WAREHOUSES_TOML = '[[warehouses]]\ncode = "EAST"\npriority = 1\n\n[[warehouses]]\ncode = "WEST"\npriority = 2\n'


class FileMaker:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(exist_ok=True)

    def raw(self, name: str, data: bytes) -> str:
        path = self.folder / name
        path.write_bytes(data)
        return str(path)

    def csv(self, name: str, text: str, encoding: str = "utf-8") -> str:
        return self.raw(name, text.encode(encoding))

    def xlsx(self, name: str, rows: list[list], *, hidden_first: list[list] | None = None) -> str:
        workbook = Workbook()
        sheet = workbook.active
        if hidden_first is not None:
            sheet.title = "Lookup"
            for row in hidden_first:
                sheet.append(row)
            sheet.sheet_state = "hidden"
            sheet = workbook.create_sheet("Stock")
        for row in rows:
            sheet.append(row)
        path = self.folder / name
        workbook.save(path)
        return str(path)


def stock(sg) -> dict[str, dict[str, int]]:
    """{sku: {warehouse: on_hand}} from `stockgate stock --json`."""
    result = sg("stock", "--json")
    assert result.code == 0, result
    return {item["sku"]: item["warehouses"] for item in result.json()["items"]}


def ingest(sg, path: str, *args: str):
    """`stockgate ingest PATH ARGS --json`: (exit code, report document)."""
    result = sg("ingest", path, *args, "--json")
    assert result.out, result
    return result.code, json.loads(result.out)


def codes(report: dict) -> list[str]:
    """The issue codes of a report, in order."""
    return [issue["code"] for issue in report["issues"]]


def seed(sg, *cells: str) -> None:
    """Set levels with `stockgate set`: seed(sg, "A1 MF 5", "A2 EAST 3")."""
    for cell in cells:
        result = sg("set", *cell.split())
        assert result.code == 0, result


def big_delta_file(sg, files, monkeypatch, rows: int = 100_000) -> str:
    """`rows` SKUs created at MF 10, then a delta file moving each by -6..+6 (and one SKU twice), staged in
    2,000-row chunks: the file the memory tests of a delta apply and a delta dry run read."""
    monkeypatch.setattr("gateway.pipeline.staging.STAGE_CHUNK_ROWS", 2_000)
    path = files.csv("seed.csv", "SKU,MF\n" + "".join(f"N{i:06d},10\n" for i in range(rows)))
    assert ingest(sg, path, "--create-unknown-skus")[0] == 0
    return files.csv("moves.csv", "SKU,Qty\n" + "".join(f"N{i:06d},{'+-'[i % 2]}{i % 7}\n" for i in range(rows))
                     + "N000003,+2\n")
