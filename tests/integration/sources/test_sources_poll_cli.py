"""`stockgate sources poll` as an operator runs it (a real process): a failure is one `stockgate: error:` line
on stderr, with no log line of the same failure beside it."""

import socket
import subprocess
import sys

CSV = b"SKU,Quantity\nA1,5\n"


def _poll(config, name: str = "erp") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway", "--config", str(config), "sources", "poll", name],
                          capture_output=True, text=True, timeout=120)


def test_an_unreachable_server_is_one_error_line_and_no_log_line(sftp_source, configure, sources_config):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    source = sftp_source(port=closed_port)
    configure(source)

    result = _poll(sources_config(source))

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("stockgate: error: ") and "cannot connect" in line, result.stderr


def test_a_file_that_fails_is_one_error_line_naming_it_and_no_log_line(sftp_server, sftp_source, configure,
                                                                       sources_config):
    source = sftp_source(move_to=str(sftp_server.folder / "blocked" / "processed"))
    configure(source)
    (sftp_server.folder / "blocked").write_bytes(b"a file where the folder should be")
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    result = _poll(sources_config(source))

    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("stockgate: error: source erp: stock.csv: "), result.stderr
    assert result.stdout == ""             # not "nothing to fetch": the error line says what happened


def test_a_key_file_that_is_gone_is_named_by_its_key(sftp_source, configure, sources_config, tmp_path):
    source = sftp_source(key_file=str(tmp_path / "gone_key"))
    configure(source)

    result = _poll(sources_config(source))

    assert result.returncode == 2
    assert result.stderr == (f"stockgate: error: {tmp_path / 'stockgate.toml'}: sources[0].key_file: "
                             f"{tmp_path / 'gone_key'} does not exist\n")
