"""`stock` names what it does not know; warehouse codes are one code whatever their case; `set` sets and
`adjust` moves, reading quantities by the file parsers' rule."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from gateway.db import schema

WAREHOUSES = '[[warehouses]]\ncode = "EAST"\npriority = 1\n[[warehouses]]\ncode = "WEST"\npriority = 2\n'


@pytest.fixture
def sg(stockgate, write_config):
    assert stockgate("init", config=write_config(WAREHOUSES)).code == 0
    return stockgate


def test_stock_names_the_skus_it_does_not_know_and_exits_1(sg):
    sg("set", "A1", "MF", "3")
    result = sg("stock", "A1", "NOPE", "b2", "--json")
    assert result.code == 1
    assert result.json() == {"items": [{"sku": "A1", "warehouses": {"MF": 3}, "available": 3}],
                             "missing": ["NOPE", "b2"]}
    assert result.err == "stockgate: unknown SKUs: 'NOPE', 'b2'\n"
    text = sg("stock", "A1", "NOPE")
    assert text.code == 1 and "A1" in text.out and text.err == "stockgate: unknown SKU: 'NOPE'\n"
    known = sg("stock", "A1", "--json")
    assert known.code == 0 and "missing" not in known.json() and known.err == ""
    assert sg("stock", "--json").json() == {"items": [{"sku": "A1", "warehouses": {"MF": 3}, "available": 3}]}


def test_a_warehouse_is_found_whatever_the_case_of_its_code(sg, tmp_path):
    assert sg("set", "A1", "west", "3").out == "A1 in WEST: 0 -> 3 (+3)\n"
    assert sg("adjust", "A1", "West", "+2").out == "A1 in WEST: 3 -> 5 (+2)\n"
    stock_file = tmp_path / "east.csv"
    stock_file.write_text("SKU,Quantity\nA1,7\n")
    ingested = sg("ingest", str(stock_file), "--warehouse", "east", "--json")
    assert ingested.code == 0, ingested
    assert ingested.json()["warehouse"] == "EAST"
    assert sg("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"EAST": 7, "WEST": 5}
    assert [f["warehouse"] for f in sg("history", "--warehouse", "eAsT", "--json").json()["files"]] == ["EAST"]
    template = tmp_path / "t.csv"
    assert sg("template", "-o", str(template), "--warehouse", "west", "--warehouse", "east").code == 0
    assert template.read_text(encoding="utf-8-sig").splitlines()[0] == "SKU,Title,WEST,EAST"
    assert [e["warehouse"] for e in sg("ledger", "A1", "--json").json()["entries"]] == ["WEST", "WEST", "EAST"]


def test_a_code_differing_only_by_case_cannot_be_created_beside_another(sg, db):
    result = sg("warehouses", "add", "east")
    assert result.code == 2 and result.err == ("stockgate: error: warehouse 'east' already exists as 'EAST': "
                                               "warehouse codes are unique without regard to case\n")
    assert sg("warehouses", "add", "EAST").err == "stockgate: error: warehouse 'EAST' already exists\n"
    with pytest.raises(IntegrityError), db.write() as conn:   # the database refuses it too, whoever writes
        conn.execute(schema.warehouses.insert().values(code="west", name="w", kind="merchant", priority=1,
                                                       sellable=True, created_at=datetime.now(UTC)))
    assert [w["code"] for w in sg("warehouses", "list", "--json").json()["warehouses"]] == ["MF", "EAST", "WEST"]


def test_a_configured_code_in_another_case_is_the_same_warehouse(stockgate, write_config):
    assert stockgate("init", config=write_config()).code == 0
    assert stockgate("warehouses", "add", "NORTH", "--priority", "5").code == 0
    config = write_config('[[warehouses]]\ncode = "north"\nname = "North DC"\npriority = 7\n'
                          '[[sources]]\nname = "n"\ntype = "folder"\nwarehouse = "North"\npath = "drop"\n')
    listed = stockgate("warehouses", "list", "--json", config=config)
    assert listed.code == 0, listed
    assert [(w["code"], w["name"], w["priority"]) for w in listed.json()["warehouses"]] == [
        ("MF", "Merchant fulfilled", 0), ("NORTH", "North DC", 7)]


def test_codes_differing_only_by_case_in_the_configuration_stop_it_naming_the_key(stockgate, write_config):
    config = write_config('[[warehouses]]\ncode = "EAST"\n[[warehouses]]\ncode = "east"\n')
    result = stockgate("stock", config=config)
    assert result.code == 2
    assert result.err == (f"stockgate: error: {config}: warehouses[1].code: 'east' is 'EAST' again (codes are "
                          "unique without regard to case)\n")


@pytest.mark.parametrize("value, words", [
    ("+4", "quantity '+4' is signed: `set` sets a level; to add or take away units run `stockgate adjust A1 MF +4`"),
    ("-4", "quantity '-4' is negative: `set` sets a level; to add or take away units run `stockgate adjust A1 MF -4`"),
    ("2.5", "quantity '2.5' is not a whole number"),
    ("1,234", "quantity '1,234' is not a whole number"),
    ("5012345678900", "quantity '5012345678900' is above the limit of 2,000,000,000"),
])
def test_set_refuses_what_a_file_cell_would_refuse_and_points_signs_to_adjust(sg, value, words):
    sg("set", "A1", "MF", "9")
    result = sg("set", "A1", "MF", value)
    assert result.code == 2 and result.err == f"stockgate: error: {words}\n", result
    assert sg("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"MF": 9}


def test_set_accepts_what_a_file_cell_accepts(sg):
    assert sg("set", "A1", "MF", " 12.0 ").code == 0
    assert sg("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"MF": 12}


def test_adjust_adds_a_manual_movement_to_the_ledger(sg):
    sg("set", "A1", "MF", "5")
    assert sg("adjust", "A1", "MF", "+4").out == "A1 in MF: 5 -> 9 (+4)\n"
    assert sg("adjust", "A1", "MF", "-2").out == "A1 in MF: 9 -> 7 (-2)\n"
    assert sg("adjust", "A1", "MF", "3").out == "A1 in MF: 7 -> 10 (+3)\n"
    assert sg("adjust", "A1", "MF", "+0").out == "A1 in MF: a delta of 0 changes nothing\n"
    entries = sg("ledger", "A1", "--json").json()["entries"]
    assert [(e["delta"], e["on_hand_after"], e["cause"], e["reference"]) for e in entries] == [
        (5, 5, "manual", "stockgate set"), (4, 9, "manual", "stockgate adjust"), (-2, 7, "manual", "stockgate adjust"),
        (3, 10, "manual", "stockgate adjust")]


@pytest.mark.parametrize("args, words", [
    (("A1", "MF", "-11"), "A1 in MF holds 10: cannot take 11 away (a level is never below 0; "
                          "`stockgate set A1 MF 0` zeroes it)"),
    (("A1", "MF", "+1999999991"), "A1 in MF holds 10: adding 1999999991 would pass the limit of 2,000,000,000"),
    (("A1", "MF", "2.5"), "quantity '2.5' is not a whole number"),
    (("A1", "MF", "many"), "quantity 'many' is not a whole number"),
    (("A1", "NOPE", "+1"), "unknown warehouse 'NOPE' (known: MF, EAST, WEST)"),
    (("B9", "MF", "-1"), "B9 in MF holds 0: cannot take 1 away"),
])
def test_adjust_refuses_a_movement_it_cannot_make_and_changes_nothing(sg, args, words):
    sg("set", "A1", "MF", "10")
    result = sg("adjust", *args)
    assert result.code == 2 and words in result.err and result.err.count("\n") == 1, result
    assert sg("stock", "--json").json()["items"] == [{"sku": "A1", "warehouses": {"MF": 10}, "available": 10}]
    assert len(sg("ledger", "--json").json()["entries"]) == 1


def test_two_adjustments_at_once_both_count(sg, db, concurrently):
    from gateway.stock import adjust_stock

    sg("set", "A1", "MF", "10")

    def work(i: int) -> None:
        with db.write() as conn:
            adjust_stock(conn, "A1", "MF", -3, reference=f"t{i}")

    errors = concurrently(work, 4)
    refused = [e for e in errors if "cannot take 3 away" in str(e)]
    assert len(refused) == 1 and len(errors) == 1, errors
    assert sg("stock", "A1", "--json").json()["items"][0]["warehouses"] == {"MF": 1}


def test_history_of_a_warehouse_lists_its_stock_files_and_the_quantity_updates_that_changed_it(sg, tmp_path):
    def ingest(name: str, text: str, *args: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return sg("ingest", str(path), *args, "--create-unknown-skus", "--json").json()["file_id"]

    both = ingest("both.csv", "SKU,EAST,WEST\nA1,3,4\n")
    west_only = ingest("west.csv", "SKU,EAST,WEST\nA1,3,5\n")        # EAST already 3: only WEST changes
    stock = ingest("east-stock.csv", "SKU,Quantity\nA1,8\n", "--warehouse", "EAST")
    rejected = ingest("typo.csv", "SKU,EAST,WESTT\nA1,1,1\n")
    east_row = ingest("east.csv", "SKU,MF,EAST\nB1,,2\n")

    east = sg("history", "--warehouse", "EAST", "--json")
    assert east.code == 0
    assert [f["file_id"] for f in east.json()["files"]] == [east_row, stock, both]
    assert [f["file_id"] for f in sg("history", "--warehouse", "WEST", "--json").json()["files"]] == [west_only, both]
    table = sg("history", "--warehouse", "east").out.splitlines()
    assert len(table) == 4 and "east.csv" in table[1] and "both.csv" in table[3]
    assert rejected not in sg("history", "--warehouse", "EAST").out
