"""Damaged and hostile files through `stockgate ingest` on a real database."""

from __future__ import annotations

import pytest
from pipeline_helpers import WAREHOUSES_TOML, codes, ingest, seed, stock


def wide_update(columns: int) -> bytes:
    header = ",".join(["SKU", *(f"W{i}" for i in range(columns))])
    return f"{header}\r\nA1,{','.join('1' for _ in range(columns))}\r\n".encode()


@pytest.mark.parametrize("columns", [1_000, 200_000])
def test_a_quantity_update_with_more_columns_than_the_limit_is_refused_at_once(sg, files, columns):
    seed(sg, "A1 MF 3")
    code, report = ingest(sg, files.raw("wide.csv", wide_update(columns)))
    assert (code, report["status"], codes(report)) == (4, "rejected", ["TOO_MANY_COLUMNS"])
    assert f"the header has {columns + 1:,} columns, more than the limit of 1,000" in report["issues"][0]["message"]
    assert stock(sg)["A1"] == {"MF": 3}


def test_the_column_limit_is_files_max_columns(sg, files, write_config):
    seed(sg, "A1 EAST 3")
    header = ",".join(["SKU", "Qty", *(f"note {i}" for i in range(1_500))])
    path = files.csv("stock.csv", f"{header}\nA1,7\n")
    assert codes(ingest(sg, path, "--warehouse", "EAST")[1]) == ["TOO_MANY_COLUMNS"]
    sg("stock", config=write_config(WAREHOUSES_TOML + "[files]\nmax_columns = 2000\n"))
    code, report = ingest(sg, path, "--warehouse", "EAST")
    assert (code, report["issues"]) == (0, [])
    assert stock(sg)["A1"] == {"EAST": 7}
