"""The foundation's commands as a user runs them: init, set, stock, ledger, warehouses, hash-password."""

import shutil
import subprocess
import sys

import pytest

from gateway.passwords import verify_password


def test_init_twice_then_manual_edits_show_in_ledger_and_stock(stockgate):
    assert stockgate("init").code == 0
    assert stockgate("init").code == 0
    assert stockgate("set", "A1", "MF", "5").code == 0
    assert stockgate("set", "A1", "MF", "3").code == 0
    ledger = stockgate("ledger", "A1", "--json").json()["entries"]
    assert [(e["delta"], e["cause"], e["on_hand_after"]) for e in ledger] == [(5, "manual", 5), (-2, "manual", 3)]
    assert stockgate("stock", "A1", "--json").json() == {"items": [{"sku": "A1", "warehouses": {"MF": 3},
                                                                    "available": 3}]}


def test_set_with_an_unknown_warehouse_or_a_negative_quantity_changes_nothing(stockgate):
    stockgate("init")
    stockgate("set", "A1", "MF", "4")
    for args, words in ((("A1", "NOPE", "3"), "unknown warehouse 'NOPE'"),
                        (("A1", "MF", "-3"), "negative"),
                        (("A1", "MF", "2.5"), "not a whole number")):
        result = stockgate("set", *args)
        assert result.code == 2, result
        assert words in result.err and result.err.count("\n") == 1
    assert stockgate("stock", "--json").json()["items"][0]["warehouses"] == {"MF": 4}
    assert len(stockgate("ledger", "--json").json()["entries"]) == 1


def test_warehouses_add_and_list(stockgate):
    stockgate("init")
    assert stockgate("warehouses", "add", "EAST", "--name", "East DC", "--priority", "2").code == 0
    listed = stockgate("warehouses", "list", "--json").json()["warehouses"]
    assert [(w["code"], w["priority"]) for w in listed] == [("MF", 0), ("EAST", 2)]
    assert stockgate("warehouses", "add", "EAST").code == 2
    assert stockgate("warehouses", "add", "bad code!").code == 2


def test_configured_warehouses_are_created_by_init(stockgate, write_config):
    config = write_config('[[warehouses]]\ncode = "WEST"\nname = "West"\npriority = 3\nsellable = false\n')
    stockgate("init", config=config)
    listed = {w["code"]: w for w in stockgate("warehouses", "list", "--json").json()["warehouses"]}
    assert listed["WEST"]["sellable"] is False and listed["WEST"]["priority"] == 3


def test_hash_password_prints_a_hash_that_verifies(stockgate):
    result = stockgate("hash-password", stdin="s3cret\n")
    assert result.code == 0
    assert verify_password(result.out.strip(), "s3cret")
    assert not verify_password(result.out.strip(), "wrong")


def test_a_command_before_init_says_to_run_init(stockgate, tmp_path):
    config = tmp_path / "fresh.toml"
    config.write_text(f'data_dir = "{tmp_path / "fresh"}"\n')
    result = stockgate("stock", config=config)
    assert result.code == 2 and "stockgate init" in result.err


@pytest.mark.parametrize("args", [("stock",), ("history",), ("ledger",), ("set", "A1", "MF", "3"),
                                  ("warehouses", "list"), ("ingest", "PLACEHOLDER"), ("serve",)])
def test_no_command_but_init_creates_the_data_folder_or_the_database(stockgate, tmp_path, args):
    fresh = tmp_path / "fresh"
    config = tmp_path / "fresh.toml"
    config.write_text(f'data_dir = "{fresh / "var"}"\ndatabase_url = "sqlite:///{fresh / "db" / "sg.db"}"\n')
    sample = tmp_path / "q.csv"
    sample.write_text("SKU,MF\nA1,3\n")
    result = stockgate(*[str(sample) if a == "PLACEHOLDER" else a for a in args], config=config)
    assert result.code == 2, result
    assert result.err == f"stockgate: error: no database at {fresh / 'db' / 'sg.db'}: run `stockgate init` to create it\n"
    assert not fresh.exists()
    assert stockgate("init", config=config).code == 0
    assert (fresh / "var").is_dir() and (fresh / "db" / "sg.db").is_file()
    assert stockgate("stock", "--json", config=config).json() == {"items": []}


def test_a_missing_data_folder_beside_an_initialised_database_says_to_run_init(stockgate, write_config, data_dir):
    config = write_config()
    assert stockgate("init", config=config).code == 0
    shutil.rmtree(data_dir)
    result = stockgate("history", config=config)
    assert result.code == 2 and result.err == (f"stockgate: error: no data folder at {data_dir}: run `stockgate init` "
                                               "to create it\n"), result
    assert not data_dir.exists()
    assert stockgate("init", config=config).code == 0 and data_dir.is_dir()


def test_config_errors_exit_2_with_one_line_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    for toml, key in (('[ftp]\nport = "abc"\n', "ftp.port"), ('[web]\nhots = "x"\n', "web.hots")):
        bad.write_text(toml)
        run = subprocess.run([sys.executable, "-m", "gateway", "--config", str(bad), "stock"],
                             capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 2
        assert run.stderr.count("\n") == 1 and key in run.stderr and "Traceback" not in run.stderr


def test_setting_a_new_sku_to_zero_records_the_zero_on_every_engine(stockgate):
    stockgate("init")
    assert stockgate("set", "Z1", "MF", "0").code == 0
    assert stockgate("stock", "Z1", "--json").json() == {"items": [{"sku": "Z1", "warehouses": {"MF": 0},
                                                                    "available": 0}]}
    assert stockgate("ledger", "Z1", "--json").json() == {"entries": []}
