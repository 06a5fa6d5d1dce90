"""Every local path in the settings is made absolute once, at load, against the current directory of
that moment; a later change of directory (an FTP session's CWD, say) changes none of them."""

import os

from gateway.settings import parse_settings

TABLE = {
    "data_dir": "var",
    "database_url": "sqlite:///db/stockgate.db",
    "ftp": {"tls_certfile": "tls/cert.pem", "tls_keyfile": "tls/key.pem"},
    "warehouses": [{"code": "EAST"}, {"code": "WEST"}],
    "sources": [
        {"name": "drop", "type": "folder", "warehouse": "EAST", "path": "drop/east"},
        {"name": "erp", "type": "sftp", "warehouse": "WEST", "host": "h", "username": "u",
         "key_file": "keys/erp", "known_hosts": "keys/known_hosts", "remote_dir": "outbound", "move_to": "done"},
    ],
    "channels": [
        {"name": "feed-folder", "adapter": "feed", "options": {"path": "feeds/out"}},
        {"name": "feed-sftp", "adapter": "feed",
         "options": {"target": "sftp", "host": "h", "username": "u", "path": "inventory",
                     "known_hosts": "keys/known_hosts", "key_file": "keys/feed"}},
    ],
}


def test_every_local_path_is_absolute_against_the_directory_at_load(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = parse_settings(TABLE, environ={})
    monkeypatch.chdir("/")                      # later moves change nothing
    assert s.data_dir == tmp_path / "var"
    assert s.database_url == f"sqlite:///{tmp_path}/db/stockgate.db"
    assert (s.ftp.tls_certfile, s.ftp.tls_keyfile) == (f"{tmp_path}/tls/cert.pem", f"{tmp_path}/tls/key.pem")
    folder, sftp = s.sources
    assert folder.path == f"{tmp_path}/drop/east"
    assert (sftp.key_file, sftp.known_hosts) == (f"{tmp_path}/keys/erp", f"{tmp_path}/keys/known_hosts")
    assert (sftp.remote_dir, sftp.move_to) == ("outbound", "done")        # remote: left as written
    assert s.channels[0].options["path"] == f"{tmp_path}/feeds/out"
    assert s.channels[1].options == {"target": "sftp", "host": "h", "username": "u", "path": "inventory",
                                     "known_hosts": f"{tmp_path}/keys/known_hosts",
                                     "key_file": f"{tmp_path}/keys/feed"}


def test_the_default_sqlite_file_and_environment_paths_are_absolute_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = parse_settings({}, environ={"STOCKGATE_DATA_DIR": "data"})
    assert s.data_dir == tmp_path / "data"
    assert s.database_url == f"sqlite:///{tmp_path}/data/stockgate.db"
    s = parse_settings({}, environ={"STOCKGATE_DATABASE_URL": "sqlite:///rel.db?timeout=5"})
    assert s.database_url == f"sqlite:///{tmp_path}/rel.db?timeout=5"


def test_absolute_paths_unset_paths_and_other_databases_are_left_alone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = parse_settings({"data_dir": "/srv/stockgate", "database_url": "postgresql+psycopg://u:p@db/stock"},
                       environ={})
    assert str(s.data_dir) == "/srv/stockgate"
    assert s.database_url == "postgresql+psycopg://u:p@db/stock"
    assert (s.ftp.tls_certfile, s.ftp.tls_keyfile) == ("", "")
    assert parse_settings({"database_url": "sqlite:///:memory:"}, environ={}).database_url == "sqlite:///:memory:"
    assert os.getcwd() == str(tmp_path)
