"""Every configuration error names its key with its index path (`channels[1].buffer`), in every section,
whether it is found at load or later, when a server binds or a channel's adapter is first built."""

import socket

import pytest

from gateway.channel_sync.adapters import make_adapter
from gateway.errors import ConfigError
from gateway.settings import load_settings
from gateway.transports.ftp.server import FtpServer
from gateway.transports.sources.sftp import connect
from gateway.web import WebServer

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"
TWO_CHANNELS = '[[channels]]\nname = "first"\n[[channels]]\nname = "second"\n'
FEED = TWO_CHANNELS.replace('name = "second"', 'name = "second"\nadapter = "feed"')


def _config(tmp_path, toml: str):
    path = tmp_path / "stockgate.toml"
    path.write_text(f'data_dir = "{tmp_path / "var"}"\n{toml}\n', encoding="utf-8")
    return path


def _error(call) -> str:
    with pytest.raises(ConfigError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("toml, key", [
    (TWO_CHANNELS + "buffer = -1", "channels[1].buffer"),
    (TWO_CHANNELS + "max_qty = -3", "channels[1].max_qty"),
    (TWO_CHANNELS + 'restore_policy = "sometimes"', "channels[1].restore_policy"),
    (TWO_CHANNELS + "colour = 1", "channels[1].colour"),
    (f'[[accounts]]\nusername = "ok"\npassword_hash = "{HASH}"\nwarehouses = ["MF"]\n'
     f'[[accounts]]\nusername = "-bad name"\npassword_hash = "{HASH}"\nwarehouses = ["MF"]', "accounts[1].username"),
    ('[[warehouses]]\ncode = "A"\n[[warehouses]]\ncode = "B"\nkind = "shop"', "warehouses[1].kind"),
    ('[[sources]]\nname = "a"\ntype = "folder"\nwarehouse = "MF"\npath = "x"\n'
     '[[sources]]\nname = "b"\ntype = "folder"\nwarehouse = "MF"\npath = "y"\nafter = "burn"', "sources[1].after"),
    ("[web]\nport = 70000", "web.port"),
    ("[files]\nmax_columns = 0", "files.max_columns"),
])
def test_an_error_found_at_load_names_its_key_with_its_index(tmp_path, toml, key):
    path = _config(tmp_path, toml)
    assert _error(lambda: load_settings(path, environ={})).startswith(f"{path}: {key}: ")


@pytest.mark.parametrize("options, key", [
    ('options = { target = "floppy" }', "channels[1].options.target"),
    ('options = { target = "sftp", username = "u" }', "channels[1].options.host"),
    ('options = { target = "sftp", host = "h", username = "u" }', "channels[1].options.known_hosts"),
    ('options = { columns = ["sku", "price"] }', "channels[1].options.columns"),
    ('options = { stable_seconds = -1 }', "channels[1].options.stable_seconds"),
    ('options = { done_marker = "yes" }', "channels[1].options.done_marker"),
])
def test_a_feed_channels_option_is_named_by_its_full_key_when_the_adapter_is_built(tmp_path, options, key):
    path = _config(tmp_path, FEED + options)
    settings = load_settings(path, environ={})
    message = _error(lambda: make_adapter(settings.channels[1], settings.data_dir))
    assert message.startswith(f"{path}: {key}: "), message


def test_a_feed_password_variable_that_is_not_set_is_named_by_its_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SG_NO_SUCH_PASSWORD", raising=False)
    path = _config(tmp_path, FEED + 'options = { target = "ftp", host = "127.0.0.1", username = "u", '
                                    'password_env = "SG_NO_SUCH_PASSWORD" }')
    settings = load_settings(path, environ={})
    message = _error(lambda: make_adapter(settings.channels[1], settings.data_dir))
    assert message.startswith(f"{path}: channels[1].options.password_env: environment variable SG_NO_SUCH_PASSWORD "
                              "is not set"), message


def test_an_sftp_sources_known_hosts_line_that_is_no_host_key_is_named_by_its_key(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("# ok\n[127.0.0.1]:22 ssh-ed25519 not-base64!\n", encoding="utf-8")
    (tmp_path / "key").write_text("unused", encoding="utf-8")
    source = ('[[sources]]\nname = "{name}"\ntype = "sftp"\nwarehouse = "MF"\nhost = "127.0.0.1"\nusername = "u"\n'
              f'key_file = "{tmp_path / "key"}"\nknown_hosts = "{known_hosts}"\nafter = "keep"\n')
    path = _config(tmp_path, source.format(name="a") + source.format(name="b"))
    settings = load_settings(path, environ={})

    def open_session():
        with connect(settings.sources[1]):
            pass

    assert _error(open_session) == f"{path}: sources[1].known_hosts: {known_hosts} line 2: not a host key line " \
                                   "(host names, key type, base64 key)"


def test_ftps_required_without_a_certificate_is_named_by_its_key(tmp_path, db):
    path = _config(tmp_path, f'[ftp]\nrequire_tls = true\n[[accounts]]\nusername = "east"\npassword_hash = "{HASH}"\n'
                             'warehouses = ["MF"]')
    settings = load_settings(path, environ={})
    assert _error(lambda: FtpServer(settings, db)).startswith(f"{path}: ftp.require_tls: needs ftp.tls_certfile")


def test_ports_taken_by_another_program_are_named_by_their_keys(tmp_path, db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = _config(tmp_path, f'[ftp]\nport = {port}\n[web]\nport = {port}\n[[accounts]]\nusername = "east"\n'
                                 f'password_hash = "{HASH}"\nwarehouses = ["MF"]')
        settings = load_settings(path, environ={})
        ftp_error = _error(FtpServer(settings, db).start)
        web_error = _error(WebServer(db, settings).start)
    assert ftp_error.startswith(f"{path}: ftp.port: cannot listen on 127.0.0.1:{port}: "), ftp_error
    assert web_error.startswith(f"{path}: web.port: cannot listen on 127.0.0.1:{port}: "), web_error
