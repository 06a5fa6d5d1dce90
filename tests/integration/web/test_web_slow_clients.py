"""Slow and silent clients against a real web server on loopback: a post whose body never comes or stops,
headers trickled a byte at a time and a crowd of idle connections (issue 9, point 11)."""

from __future__ import annotations

import select
import socket

import pytest
from sqlalchemy import select as sql_select
from web_client import raw_request

from gateway.db import schema


def post_head(port: int, path: str, length: int) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


@pytest.mark.parametrize("path, limit", [("/upload", "limit of 1 MB"), ("/login", "limit of 64 KB")])
def test_a_post_with_a_huge_content_length_and_no_body_is_answered_413_without_waiting_for_the_body(
        site, path, limit):
    # The read timeout is far longer than the client waits: the answer cannot come from a timeout.
    _, server, _ = site('[web]\nport = 0\nread_timeout_seconds = 600\n[files]\nmax_file_mb = 1\n')

    answer = raw_request(server.port, post_head(server.port, path, 10 ** 12), timeout=20)

    assert answer.status == 413 and limit in answer.body.decode()


def test_a_post_whose_body_stops_arriving_is_answered_408_after_the_read_timeout_and_nothing_is_received(site):
    app, server, browser = site("[web]\nport = 0\nread_timeout_seconds = 1\n")

    answer = raw_request(server.port, post_head(server.port, "/upload", 5000) + b"--x\r\nContent-Dis", timeout=20)

    assert answer.status == 408 and "stopped arriving" in answer.body.decode()
    with app.db.read() as conn:
        assert conn.execute(sql_select(schema.files.c.file_id)).all() == []
    assert browser.get("/healthz").status == 200


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server has closed `sock` (or reset it); False while it is still open and silent."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        while sock.recv(65536):                  # an answer (408 or so) before the close is fine
            pass
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    return True


def test_trickled_headers_and_fifty_idle_connections_are_cut_off_and_a_page_is_answered_meanwhile(site):
    _, server, browser = site("[web]\nport = 0\nread_timeout_seconds = 2\n")
    idle = []
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")        # and never the blank line
        idle.append(sock)
    trickler = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    trickler.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")                   # then its value, a byte at a time
    try:
        page = browser.get("/")
        assert page.status == 200 and "Dashboard" in page.text

        for sock in idle + [trickler]:
            sock.setblocking(False)
        open_ones, trickler_open = list(idle), True
        for _ in range(100):                          # bounded: ~20 s of trickling, a byte every 0.2 s
            try:
                if trickler_open:
                    trickler.send(b"a")
            except OSError:
                trickler_open = False
            trickler_open = trickler_open and not closed_by_server(trickler)
            open_ones = [sock for sock in open_ones if not closed_by_server(sock)]
            if not open_ones and not trickler_open:
                break
            select.select([], [], [], 0.2)

        assert not trickler_open, "a client trickling its headers held its connection"
        assert open_ones == [], f"{len(open_ones)} of 50 idle connections were never closed"
        assert browser.get("/").status == 200
    finally:
        for sock in idle + [trickler]:
            sock.close()
