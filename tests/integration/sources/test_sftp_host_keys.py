"""known_hosts markers against the real SSH server: a `@revoked` line naming the server's key refuses the
connection with a message naming the revocation (shown by `stockgate sources`), whatever other line lists
that key; a revoked line for another key, or a `@cert-authority` line, does not stop a trusted key."""

from __future__ import annotations

import hashlib

from sftp_test_server import known_hosts_line, write_ed25519_key

CSV = b"SKU,Quantity\nA1,5\nA2,7\n"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_revoked_line_naming_the_servers_key_refuses_the_connection_and_says_so(
        sftp_server, sftp_source, configure, stockgate, received):
    trusted = known_hosts_line(sftp_server.host, sftp_server.port, sftp_server.host_key)
    sftp_server.known_hosts.write_text(f"# rotated after the incident\n{trusted}@revoked * {trusted.split(' ', 1)[1]}")
    before = sftp_server.known_hosts.read_bytes()
    configure(sftp_source())
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    result = stockgate("sources", "poll", "erp")

    assert result.code == 1 and "internal error" not in result.err
    assert "host key REVOKED" in result.err and "line 3" in result.err and str(sftp_server.known_hosts) in result.err
    assert received() == [] and (sftp_server.folder / "stock.csv").read_bytes() == CSV
    assert sftp_server.known_hosts.read_bytes() == before
    [status] = stockgate("sources", "--json").json()["sources"]
    assert status["failures"] == 1 and "host key REVOKED" in status["last_error"]
    assert "host key REVOKED" in stockgate("sources").out


def test_a_revoked_line_for_another_key_does_not_stop_a_trusted_key(sftp_server, sftp_source, configure, stockgate,
                                                                    tmp_path, received):
    old_key = write_ed25519_key(tmp_path / "retired_host_key")
    retired = known_hosts_line(sftp_server.host, sftp_server.port, old_key)
    trusted = known_hosts_line(sftp_server.host, sftp_server.port, sftp_server.host_key)
    sftp_server.known_hosts.write_text(f"@revoked {retired}@cert-authority *.example.com {retired.split(' ', 1)[1]}"
                                       f"{trusted}")
    configure(sftp_source())
    (sftp_server.folder / "stock.csv").write_bytes(CSV)

    result = stockgate("sources", "poll", "erp", "--json")

    assert result.code == 0, result
    assert [f["name"] for f in result.json()["fetched"]] == ["stock.csv"]
    assert [r.sha256 for r in received()] == [sha256(CSV)]


def test_a_server_whose_only_listed_key_is_revoked_is_refused_as_revoked_not_unknown(
        sftp_server, sftp_source, configure, stockgate, received):
    sftp_server.known_hosts.write_text("@revoked " + known_hosts_line(sftp_server.host, sftp_server.port,
                                                                      sftp_server.host_key))
    configure(sftp_source())

    result = stockgate("sources", "poll", "erp")

    assert result.code == 1 and "host key REVOKED" in result.err and "line 1" in result.err
    assert received() == []


def test_a_line_that_is_no_host_key_is_a_clear_error_naming_it(sftp_server, sftp_source, configure, stockgate):
    sftp_server.known_hosts.write_text(known_hosts_line(sftp_server.host, sftp_server.port, sftp_server.host_key)
                                       + "[127.0.0.1]:22 ssh-ed25519 not-base64!\n")
    configure(sftp_source())

    result = stockgate("sources", "poll", "erp")

    assert result.code == 2 and "internal error" not in result.err
    assert f"sources[0].known_hosts: {sftp_server.known_hosts} line 2" in result.err
