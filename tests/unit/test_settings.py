"""Configuration: validated once, with one line naming the key that is wrong."""

import pytest

from gateway.errors import ConfigError
from gateway.settings import load_settings, parse_settings


def test_defaults_put_sqlite_in_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STOCKGATE_CONFIG", raising=False)
    settings = load_settings(environ={})
    assert settings.data_dir == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path}/var/stockgate.db"
    assert settings.ftp.port == 2121


def test_environment_overrides_data_folder_and_database(tmp_path):
    settings = parse_settings({"data_dir": "x"}, environ={"STOCKGATE_DATA_DIR": str(tmp_path),
                                                           "STOCKGATE_DATABASE_URL": "postgresql://u@h/db"})
    assert settings.data_dir == tmp_path
    assert settings.database_url == "postgresql://u@h/db"


def test_stockgate_config_names_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('data_dir = "/srv/elsewhere"\n')
    assert str(load_settings(environ={"STOCKGATE_CONFIG": str(path)}).data_dir) == "/srv/elsewhere"


@pytest.mark.parametrize("toml, key", [
    ('colour = "red"', "colour"),
    ("[ftp]\nport = \"abc\"", "ftp.port"),
    ("[ftp]\nprot = 21", "ftp.prot"),
    ("[[accounts]]\nusername = \"east\"\nwarehouses = []", "accounts[0].password_hash"),
    ("[[warehouses]]\ncode = \"E\"\nkind = \"shop\"", "warehouses[0].kind"),
    ("[[channels]]\nname = \"a\"\nbuffer = 1.5", "channels[0].buffer"),
    ("[[accounts]]\nusername = \"e\"\npassword_hash = \"h\"\nwarehouses = [\"NOPE\"]", "accounts[0].warehouses"),
])
def test_a_bad_key_is_named_with_the_file(tmp_path, toml, key):
    path = tmp_path / "bad.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    message = str(err.value)
    assert message.startswith(f"{path}: {key}")
    assert "\n" not in message


def test_settings_are_frozen():
    settings = parse_settings({}, environ={})
    with pytest.raises(AttributeError):
        settings.ftp.port = 21  # type: ignore[misc]


def test_the_legacy_restore_setting_reads_as_always_with_a_warning():
    with pytest.warns(DeprecationWarning, match="restore_qty_on_cancel"):
        settings = parse_settings({"channels": [{"name": "ebay", "restore_qty_on_cancel": True}]}, environ={})
    assert settings.channels[0].restore_policy == "always"


def test_the_shipped_example_and_demo_configs_are_valid():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "config"
    for path in sorted(root.glob("*.toml")):
        load_settings(path, environ={"ERP_SFTP_PASSWORD": "x"})
