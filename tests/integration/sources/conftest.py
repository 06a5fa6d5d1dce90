"""Fixtures for source tests: a real SFTP server on loopback, and configurations pointing at it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.db import schema
from gateway.settings import load_settings
from sftp_test_server import server_kind_note, start_sftp_server

_servers_used: set[str] = set()


@pytest.fixture
def sftp_server(tmp_path):
    """OpenSSH sshd (or the paramiko stand-in, said in the output) serving tmp_path/sftp/outbound."""
    server = start_sftp_server(tmp_path / "sftp")
    _servers_used.add(server_kind_note(server).rsplit(" on port", 1)[0])
    print(server_kind_note(server))
    yield server
    server.stop()


@pytest.fixture
def sftp_source(sftp_server):
    """The keys of an SFTP source on the test server for warehouse WEST; keyword arguments override."""

    def make(**overrides) -> dict:
        keys = {"name": "erp", "type": "sftp", "warehouse": "WEST", "host": sftp_server.host,
                "port": sftp_server.port, "username": sftp_server.username, "key_file": str(sftp_server.client_key),
                "known_hosts": str(sftp_server.known_hosts), "remote_dir": str(sftp_server.folder),
                "pattern": "*.csv", "stable_seconds": 0, "after": "move", "move_to": "processed",
                "interval_seconds": 300, "create_unknown_skus": True}
        return {**keys, **overrides}

    return make


@pytest.fixture
def folder_source(tmp_path):
    """The keys of a folder source at tmp_path/drop (created) for warehouse WEST; keyword arguments override."""
    (tmp_path / "drop").mkdir()

    def make(**overrides) -> dict:
        keys = {"name": "drop", "type": "folder", "warehouse": "WEST", "path": str(tmp_path / "drop"),
                "pattern": "*.csv", "stable_seconds": 1, "interval_seconds": 300, "create_unknown_skus": True}
        return {**keys, **overrides}

    return make


@pytest.fixture
def sources_config(write_config):
    """Write a configuration with warehouse WEST and these sources (dicts of keys); return its path."""

    def write(*sources: dict) -> object:
        tables = "".join("\n[[sources]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in s.items() if v is not None)
                         for s in sources)
        return write_config('\n[[warehouses]]\ncode = "WEST"\nname = "West DC"\n' + tables)

    return write


@pytest.fixture
def configure(sources_config, stockgate):
    """Write the configuration with these sources, run `stockgate init`, return the loaded settings."""

    def make(*sources: dict):
        config = sources_config(*sources)
        assert stockgate("init", config=config).code == 0
        return load_settings(config)

    return make


@pytest.fixture
def received(db):
    """The `files` rows (what `stockgate history` lists), in order of receipt."""

    def rows() -> list:
        with db.read() as conn:
            return conn.execute(select(schema.files).order_by(schema.files.c.seq)).all()

    return rows


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def pytest_terminal_summary(terminalreporter):
    for note in sorted(_servers_used):
        terminalreporter.write_line(note)
