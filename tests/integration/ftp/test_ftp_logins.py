"""A stranger cannot keep the FTP server busy: idle pre-login connections from many addresses leave room
for a real login, a session that does not log in is closed, and password checks run beside the event loop
(another session is answered while a check is in progress)."""

from __future__ import annotations

import ftplib
import io
import resource
import select
import socket
import time

import pytest
from argon2 import PasswordHasher

from ftp_test_harness import PASSWORDS, config_toml, start_gateway, wait_until

QU = b"SKU,EAST,WEST\r\nA1,5,7\r\n"
SLOW_PASSWORD = "slow-secret"


def _first_line(sock: socket.socket, timeout: float = 15) -> str:
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(512)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").split("\r\n")[0]


def _allow_open_files(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def test_300_idle_connections_from_30_addresses_leave_room_for_a_login_and_an_upload(start_ftp):
    _allow_open_files(2048)                 # 300 client and 300 server sockets in this process
    gateway = start_ftp(login_timeout_seconds=120)      # the drop rule, not the timeout, makes the room
    idle = []
    try:
        for host in range(2, 32):
            for _ in range(10):
                sock = socket.socket()
                sock.bind((f"127.0.0.{host}", 0))
                sock.connect(("127.0.0.1", gateway.port))
                idle.append(sock)
        greetings = [_first_line(sock)[:3] for sock in idle]

        ftp = gateway.login()
        reply = ftp.storbinary("STOR /inbox/stock.csv", io.BytesIO(QU))
        ftp.quit()
    finally:
        for sock in idle:
            sock.close()

    assert greetings == ["220"] * 300       # every one of them was admitted at first
    [row] = gateway.wait_for_finished_files(1)
    assert reply.startswith("226") and row.status == "applied"
    assert gateway.on_hand("A1", "WEST") == 7


def test_a_full_server_keeps_its_logged_in_sessions_and_refuses_when_none_is_idle(start_slow_login):
    gateway = start_slow_login(max_connections=4, login_timeout_seconds=120)
    logged_in = [gateway.login() for _ in range(3)]          # the pre-login share of 4 is 3
    waiting = gateway.connect()
    newcomer = gateway.connect()                             # drops `waiting`, the idlest not logged in
    with pytest.raises((ftplib.error_temp, EOFError, ConnectionError)):
        waiting.voidcmd("NOOP")
    newcomer.sendcmd("USER slow")
    newcomer.putcmd(f"PASS {SLOW_PASSWORD}")                 # logging in: it cannot be dropped meanwhile
    time.sleep(0.3)                      # let the server pick the PASS line up (the check takes far longer)
    with pytest.raises(ftplib.error_temp, match="^421"):
        gateway.connect()
    assert newcomer.getresp().startswith("230")
    assert [ftp.voidcmd("NOOP")[:3] for ftp in logged_in] == ["200"] * 3
    for ftp in [*logged_in, newcomer]:
        ftp.quit()


def test_a_session_that_does_not_log_in_in_time_is_closed(start_ftp):
    gateway = start_ftp(login_timeout_seconds=1)
    sock = socket.create_connection(("127.0.0.1", gateway.port))
    try:
        assert _first_line(sock).startswith("220")
        assert _first_line(sock).startswith("421 Login timed out")
        assert sock.recv(100) == b""
    finally:
        sock.close()
    ftp = gateway.login()                    # a session that logged in is not timed out
    time.sleep(1.5)
    assert ftp.voidcmd("NOOP").startswith("200")
    ftp.quit()


def test_a_failed_login_counts_towards_the_lockout_even_when_the_client_leaves_before_the_answer(start_ftp):
    gateway = start_ftp(max_failed_logins=2, lockout_minutes=5)
    for _ in range(2):
        sock = socket.create_connection(("127.0.0.1", gateway.port))
        _first_line(sock)
        sock.sendall(b"USER east\r\nPASS wrong\r\n")
        sock.close()
    ftp = gateway.connect()
    try:
        refused = wait_until(lambda: _login_refusal(ftp), 15, "the lockout")
    finally:
        ftp.close()
    assert "Too many failed logins" in refused


def _login_refusal(ftp: ftplib.FTP) -> str | None:
    try:
        ftp.login("east", PASSWORDS["east"])
    except ftplib.error_perm as exc:
        return str(exc) if "Too many" in str(exc) else None
    ftp.sendcmd("REIN")
    return None


@pytest.fixture
def start_slow_login(write_config, db):
    """Start a gateway with the test accounts plus `slow`, whose argon2 hash takes a second or two to
    check; [ftp] keys overridden."""
    slow_hash = PasswordHasher(time_cost=40, memory_cost=65536, parallelism=1).hash(SLOW_PASSWORD)
    extra = f'[[accounts]]\nusername = "slow"\npassword_hash = "{slow_hash}"\nwarehouses = ["EAST"]\n'
    running = []

    def start(**ftp):
        running.append(start_gateway(write_config(config_toml(**ftp) + extra), db))
        return running[-1]

    yield start
    for gateway in running:
        gateway.stop()


def test_another_session_is_answered_while_password_checks_are_in_progress(start_slow_login):
    gateway = start_slow_login()
    other = gateway.login("east")
    logging_in = []
    for _ in range(4):
        ftp = gateway.connect()
        ftp.sendcmd("USER slow")
        ftp.sock.sendall(f"PASS {SLOW_PASSWORD}\r\nPWD\r\n".encode())     # a command pipelined behind PASS
        logging_in.append(ftp)
    time.sleep(0.3)                      # let the server pick the PASS lines up (a check takes far longer)

    listing = other.nlst("/")            # a command and a data transfer while the checks run
    pending = select.select([ftp.sock for ftp in logging_in], [], [], 0)[0]

    assert sorted(listing) == ["inbox", "reports", "templates"]
    assert pending == [], "a login was answered before the other session: the checks held the event loop"
    for ftp in logging_in:
        assert ftp.getresp().startswith("230")            # the session answers PASS first ...
        assert ftp.getresp().startswith('257 "/"')        # ... then the command that waited behind it
        ftp.quit()
    other.quit()
