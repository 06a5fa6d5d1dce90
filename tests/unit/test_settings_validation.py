"""Configuration values that would fail later are refused at load, naming the file and the key; the shipped
example shows every key."""

import dataclasses
import re
import typing
from pathlib import Path

import pytest

from gateway import settings as settings_module
from gateway.errors import ConfigError
from gateway.settings import ConfigDeprecationWarning, load_settings

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.toml"
ACCOUNT = f'[[accounts]]\nusername = "east"\npassword_hash = "{HASH}"\nwarehouses = ["MF"]\n'
SOURCE = '[[sources]]\nname = "drop"\ntype = "folder"\nwarehouse = "MF"\npath = "drop"\n'


def _load(tmp_path: Path, toml: str, environ: dict | None = None):
    path = tmp_path / "stockgate.toml"
    path.write_text(toml + "\n", encoding="utf-8")
    return path, load_settings(path, environ=environ or {})


@pytest.mark.parametrize("toml, key", [
    ("[ftp]\nport = 99999999", "ftp.port"),
    ("[ftp]\nport = -1", "ftp.port"),
    ("[web]\nport = 65564", "web.port"),
    (SOURCE.replace('type = "folder"', 'type = "folder"\nport = 0'), "sources[0].port"),
    (SOURCE + "port = 70000", "sources[0].port"),
    ('[ftp]\npassive_ports = "30000"', "ftp.passive_ports"),
    ('[ftp]\npassive_ports = "80-90"', "ftp.passive_ports"),
    ('[ftp]\npassive_ports = "40000-30000"', "ftp.passive_ports"),
    ('[ftp]\npassive_ports = "30000-70000"', "ftp.passive_ports"),
    ('[ftp]\nmax_upload_mb = 0', "ftp.max_upload_mb"),
    ("[ftp]\nlogin_timeout_seconds = 0", "ftp.login_timeout_seconds"),
    ("[files]\nas_of_pattern = '(?P<ts>\\d{8'", "files.as_of_pattern"),
    ("[files]\nmax_file_mb = 0", "files.max_file_mb"),
    ("[files]\nmax_uncompressed_mb = -5", "files.max_uncompressed_mb"),
    ("[files]\nmax_compression_ratio = 0.0", "files.max_compression_ratio"),
    ("[files]\nmax_columns = 0", "files.max_columns"),
    ("[files]\nmax_sheet_mb = -1", "files.max_sheet_mb"),
    (ACCOUNT + "max_zero_fraction = 1.5", "accounts[0].max_zero_fraction"),
    (ACCOUNT + "min_rows = -1", "accounts[0].min_rows"),
    (ACCOUNT.replace(HASH, "secret"), "accounts[0].password_hash"),
    (SOURCE + "max_zero_fraction = -0.1", "sources[0].max_zero_fraction"),
    (SOURCE + "min_rows = -2", "sources[0].min_rows"),
    (SOURCE + 'cron = "every night"', "sources[0].cron"),
    (SOURCE + 'cron = "61 2 * * *"', "sources[0].cron"),
    (SOURCE + "interval_seconds = 0", "sources[0].interval_seconds"),
    (SOURCE + "stable_seconds = -1", "sources[0].stable_seconds"),
    ('[[warehouses]]\ncode = "EAST"\npriority = 99999999999', "warehouses[0].priority"),
    ('[[channels]]\nname = "a"\nmax_qty = 3000000000', "channels[0].max_qty"),
    ('[[channels]]\nname = "a"\npush_interval_seconds = 0', "channels[0].push_interval_seconds"),
    ('[[channels]]\nname = "a"\norder_interval_seconds = inf', "channels[0].order_interval_seconds"),
    ('[[channels]]\nname = "us/amazon"', "channels[0].name"),
    ('[[channels]]\nname = "a\\tb"', "channels[0].name"),
    ('[[channels]]\nname = "a"\nretry_max_seconds = 1e308', "channels[0].retry_max_seconds"),
    (SOURCE + "interval_seconds = nan", "sources[0].interval_seconds"),
    (SOURCE + "interval_seconds = 2678401", "sources[0].interval_seconds"),
    ("[ftp]\nidle_timeout_seconds = inf", "ftp.idle_timeout_seconds"),
    ("[web]\nread_timeout_seconds = 1e308", "web.read_timeout_seconds"),
    ('database_url = "mysql://x"', "database_url"),
    ('database_url = "not a url"', "database_url"),
])
def test_a_value_out_of_range_is_refused_at_load_naming_file_and_key(tmp_path, toml, key):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, toml)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'stockgate.toml'}: {key}: "), message
    assert "\n" not in message


def test_a_bad_database_url_from_the_environment_is_named_as_the_variable(tmp_path):
    with pytest.raises(ConfigError, match=r"^STOCKGATE_DATABASE_URL: 'mysql' is not supported"):
        _load(tmp_path, "", environ={"STOCKGATE_DATABASE_URL": "mysql://x"})


@pytest.mark.parametrize("toml", [
    "[ftp]\nport = 0\npassive_ports = \"\"",
    "[web]\nport = 0",
    "[ftp]\nport = 65535\npassive_ports = \"1024-65535\"",
    SOURCE + 'cron = "0 2 * * 1-5"\nstable_seconds = 0',
    ACCOUNT + "max_zero_fraction = 0.0\nmin_rows = 0",
    "[files]\nas_of_pattern = '\\d{8}'",
    'database_url = "postgresql+psycopg://u@h/db"',
])
def test_values_at_the_edges_of_their_ranges_are_accepted(tmp_path, toml):
    _load(tmp_path, toml)


def test_the_sheet_to_read_can_be_set_for_an_account_and_a_source(tmp_path):
    _, settings = _load(tmp_path, ACCOUNT + 'sheet = "Stock"\n' + SOURCE + 'sheet = "Export"')
    assert (settings.accounts[0].sheet, settings.sources[0].sheet) == ("Stock", "Export")


def test_the_deprecated_restore_switch_warns_naming_the_file_and_channel(tmp_path):
    with pytest.warns(ConfigDeprecationWarning) as caught:
        path, settings = _load(tmp_path, '[[channels]]\nname = "ebay"\nrestore_qty_on_cancel = false')
    assert settings.channels[0].restore_policy == "never"
    message = str(caught[0].message)
    assert message.startswith(f"{path}: channels[0] ('ebay'): restore_qty_on_cancel = false is deprecated")


@pytest.mark.parametrize("legacy, policy", [("true", "smart"), ("true", "never"), ("false", "always"),
                                            ("false", "smart")])
def test_a_restore_policy_that_conflicts_with_the_deprecated_switch_stops_start_up_naming_both_keys(
        tmp_path, legacy, policy):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, f'[[channels]]\nname = "a"\n[[channels]]\nname = "ebay"\nrestore_policy = "{policy}"\n'
                        f'restore_qty_on_cancel = {legacy}')
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'stockgate.toml'}: channels[1].restore_qty_on_cancel: {legacy} "), message
    assert f'channels[1].restore_policy = "{policy}"' in message
    assert "\n" not in message


@pytest.mark.parametrize("legacy, policy", [("true", "always"), ("false", "never")])
def test_a_restore_policy_that_agrees_with_the_deprecated_switch_loads_with_the_deprecation_warning(
        tmp_path, legacy, policy):
    with pytest.warns(ConfigDeprecationWarning) as caught:
        path, settings = _load(tmp_path, f'[[channels]]\nname = "ebay"\nrestore_policy = "{policy}"\n'
                                         f'restore_qty_on_cancel = {legacy}')
    assert settings.channels[0].restore_policy == policy
    assert [str(w.message) for w in caught] == [
        f"{path}: channels[0] ('ebay'): restore_qty_on_cancel = {legacy} is deprecated and agrees with "
        f'restore_policy = "{policy}"; remove restore_qty_on_cancel']


def _sections_of_example() -> dict[str, set[str]]:
    """Key names per section of config/example.toml, commented-out examples (`# key = ...`) included."""
    keys: dict[str, set[str]] = {"": set()}
    section = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^\s*#?\s*\[\[?([A-Za-z_]+)[\].]", line)
        if header:
            section = header[1]
            keys.setdefault(section, set())
            continue
        for key in re.findall(r"(?:^\s*#?\s*|[{,]\s*)([a-z_]+)\s*=", line):
            keys[section].add(key)
    return keys


def _field_names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.name != "config_key"}   # the loader's, not a TOML key


def test_the_example_config_shows_every_key_in_its_own_section():
    example = _sections_of_example()
    hints = typing.get_type_hints(settings_module.Settings)
    missing = []
    for f in dataclasses.fields(settings_module.Settings):
        if f.name == "config_path":
            continue
        tp = hints[f.name]
        cls = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else tp
        if dataclasses.is_dataclass(cls):
            missing += [f"{f.name}.{name}" for name in sorted(_field_names(cls) - example.get(f.name, set()))]
        elif f.name not in example[""]:
            missing.append(f.name)
    assert missing == []


def test_the_example_check_notices_a_key_shown_in_the_wrong_section():
    example = _sections_of_example()
    assert "sheet" in example["accounts"] and "sheet" in example["sources"]
    assert "sheet" not in example["channels"] and "passive_ports" not in example["web"]


def test_the_shipped_example_loads_with_every_key_shown():
    settings = load_settings(EXAMPLE, environ={"ERP_SFTP_PASSWORD": "x"})
    assert settings.accounts[0].columns == {"sku": "Item", "quantity": "On Hand"}
    assert settings.channels[0].enabled is True


def test_the_configured_sheet_reaches_the_parser_for_ftp_uploads_and_fetched_files(tmp_path):
    from datetime import UTC, datetime

    from gateway.pipeline.kinds import FileKind, parse_options
    from gateway.transports.ftp.server import delivery_for as ftp_delivery
    from gateway.transports.sources.pickup import delivery_for as pickup_delivery
    from channels.stability import RemoteEntry

    _, settings = _load(tmp_path, ACCOUNT + 'sheet = "Stock"\n' + SOURCE + 'sheet = "Export"')
    uploaded = ftp_delivery(settings.accounts[0], "east.xlsx", tmp_path, datetime.now(UTC))
    fetched = pickup_delivery(settings.sources[0], "folder", RemoteEntry("erp.xlsx", 10, 0.0))
    kind = FileKind("stock", "partial", "MF")
    assert parse_options(settings, kind, uploaded.options).sheet == "Stock"
    assert parse_options(settings, kind, fetched.options).sheet == "Export"


_LOCATED = '[[warehouses]]\ncode = "EAST"\n[[warehouses]]\ncode = "WEST"\n[[channels]]\nname = "wm"\n'


@pytest.mark.parametrize("locations, message", [
    ('{ "N1" = ["EAST", "NORTH"] }', "channels[0].locations.N1: 'NORTH' is not a configured warehouse"),
    ('{ "N1" = ["EAST"], "N2" = ["west", "EAST"] }',
     "channels[0].locations.N2: warehouse 'EAST' already feeds location 'N1': a warehouse feeds at most one"),
    ('{ "N1" = ["EAST", "east"] }', "channels[0].locations.N1: warehouse 'east' already feeds location 'N1'"),
    ('{ " " = ["EAST"] }', "channels[0].locations: location id ' ' must be 1-200 characters, not only spaces"),
    ('{ "" = ["EAST"] }', "channels[0].locations: location id '' must be 1-200 characters"),
    ('{ "N1" = [] }', "channels[0].locations.N1: expected a non-empty list of warehouse codes, got []"),
    ('{ "N1" = "EAST" }', "channels[0].locations.N1: expected a non-empty list of warehouse codes, got 'EAST'"),
    ('["N1"]', "channels[0].locations: expected a table, got ['N1']"),
])
def test_a_channel_locations_table_that_cannot_be_used_is_refused_naming_the_key(tmp_path, locations, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, _LOCATED + f"locations = {locations}")
    assert message in str(caught.value)


def test_a_channel_locations_table_maps_each_location_to_its_warehouses(tmp_path):
    _, settings = _load(tmp_path, _LOCATED + 'locations = { "N1" = ["EAST", "MF"], "N2" = ["west"] }')
    assert settings.channels[0].location_warehouses() == {"N1": ("EAST", "MF"), "N2": ("west",)}
    _, plain = _load(tmp_path, _LOCATED)
    assert plain.channels[0].location_warehouses() == {}
