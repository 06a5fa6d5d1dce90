"""An FTP session looping `CWD inbox` / `CWD /` beside concurrent uploads, against real `stockgate serve`
processes started in a temporary folder with a RELATIVE data_dir (one on SQLite; two sharing one data_dir
on PostgreSQL): every file is applied once, no folder appears inside a home, and no login can read a path
outside its own home."""

from __future__ import annotations

import ftplib
import io
import re
import threading
from pathlib import Path

from sqlalchemy import func, select

from gateway.db import schema
from gateway.db.engine import make_database
from gateway.passwords import hash_password
from serve_harness import Serve

PASSWORD = "cwd-race-secret"
FILES_IN_ALL = 104
CWD_LOOPS_MAX = 50_000          # bound on the looping session (it stops once the uploads are done)
HOME_FOLDERS = {"inbox", "reports", "templates"}


def _config(database_url: str, port: int, uploaders: list[str], password_hash: str) -> str:
    """A relative data_dir; one account (and warehouse) per uploader, so each warehouse has one sender
    sending in order, plus `looper`, which only changes directory."""
    lines = ['data_dir = "var"', f'database_url = "{database_url}"',
             "[ftp]", 'host = "127.0.0.1"', f"port = {port}", 'passive_ports = ""', "[web]", "enabled = false"]
    for name in uploaders:
        lines += ["[[warehouses]]", f'code = "{name.upper()}"']
    for name, warehouses in [(u, [u.upper()]) for u in uploaders] + [("looper", [uploaders[0].upper()])]:
        lines += ["[[accounts]]", f'username = "{name}"', f'password_hash = "{password_hash}"',
                  f"warehouses = {warehouses!r}".replace("'", '"'), "create_unknown_skus = true"]
    return "\n".join(lines) + "\n"


def _login(port: int, username: str) -> ftplib.FTP:
    ftp = ftplib.FTP()
    ftp.connect("127.0.0.1", port, timeout=15)
    ftp.login(username, PASSWORD)
    return ftp


def _upload_all(port: int, username: str, count: int, replies: dict, done: threading.Event) -> None:
    """One ordinary client session: `CWD inbox; STOR NAME; CWD /` for each file; a broken session is
    replaced, and three failures in a row end the run (a server that stopped answering)."""
    ftp, failures, n = None, 0, 0
    try:
        while n < count and failures < 3:
            name = f"race-{username}-n{n:03d}.csv"
            sku = f"{username.upper()}-SKU-{n:03d}"
            data = f"SKU,Quantity\r\n{sku},{1000 + n}\r\n".encode()
            try:
                ftp = ftp or _login(port, username)
                ftp.cwd("inbox")
                replies[sku] = ftp.storbinary(f"STOR {name}", io.BytesIO(data))
                ftp.cwd("/")
                failures = 0
            except (ftplib.Error, OSError, EOFError) as exc:
                replies[sku] = f"failed: {type(exc).__name__}: {exc}"
                failures += 1
                if ftp is not None:
                    ftp.close()
                ftp = None
            n += 1
        for left in range(n, count):
            replies[f"{username.upper()}-SKU-{left:03d}"] = "never sent: the server stopped answering"
    finally:
        if ftp is not None:
            ftp.close()
        done.set()


def _loop_cwd(port: int, uploads_done: list[threading.Event], loops: list[int]) -> None:
    ftp = _login(port, "looper")
    try:
        for _ in range(CWD_LOOPS_MAX):
            if all(event.is_set() for event in uploads_done):
                break
            ftp.cwd("inbox")
            ftp.cwd("/")
            loops[0] += 1
    finally:
        ftp.close()


def _readable_outside_home(port: int, username: str, file_ids: list[str]) -> list[str]:
    """Paths outside the home's own three folders that this login can list or download."""
    found = []
    ftp = _login(port, username)
    try:
        for name in ftp.nlst("/"):
            if name.strip("/") not in HOME_FOLDERS:
                found.append(f"/{name}")
        for folder in HOME_FOLDERS:
            for entry in ftp.mlsd(f"/{folder}"):
                if entry[1].get("type") == "dir":
                    found.append(f"/{folder}/{entry[0]}/")
        for folder in HOME_FOLDERS:
            for file_id in file_ids:
                out = io.BytesIO()
                try:
                    ftp.retrbinary(f"RETR /{folder}/var/spool/{file_id}", out.write)
                    found.append(f"/{folder}/var/spool/{file_id}")
                except ftplib.error_perm:
                    pass
    finally:
        ftp.close()
    return found


def _stray_folders(data_dir: Path) -> list[str]:
    stray = []
    for home in sorted((data_dir / "ftp").iterdir()):
        for path in home.rglob("*"):
            if path.is_dir() and path.relative_to(home).as_posix() not in HOME_FOLDERS:
                stray.append(path.relative_to(data_dir).as_posix())
    return stray


def test_a_cwd_loop_beside_concurrent_uploads_loses_nothing_and_leaks_nothing(tmp_path, database_url):
    on_postgres = database_url.startswith("postgresql")
    processes = 2 if on_postgres else 1
    run_dir = tmp_path / "run"              # the processes' current directory: `var` is taken from it
    run_dir.mkdir()
    url = database_url if on_postgres else "sqlite:///var/stockgate.db"
    uploaders = [[f"east{p}", f"west{p}"] for p in range(processes)]
    per_uploader = FILES_IN_ALL // (2 * processes)
    password_hash = hash_password(PASSWORD)
    serves = []
    for p in range(processes):
        config = tmp_path / f"stockgate-{p}.toml"
        config.write_text(_config(url, 0, [u for group in uploaders for u in group], password_hash))
        serves.append(Serve(config, run_dir / "var", 0, tmp_path / f"serve-{p}.log", cwd=run_dir))
    init = serves[0].cli("init")
    assert init.returncode == 0, init.stderr
    replies: dict[str, str] = {}
    loops = [[0] for _ in serves]
    try:
        for serve in serves:
            serve.start()
        done = [threading.Event() for _ in range(2 * processes)]
        threads = [threading.Thread(target=_upload_all, args=(serve.ftp_port, name, per_uploader, replies, done[i]))
                   for i, (serve, name) in enumerate((s, n) for s, group in zip(serves, uploaders) for n in group)]
        threads += [threading.Thread(target=_loop_cwd, args=(serve.ftp_port, done, loops[p]))
                    for p, serve in enumerate(serves)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)

        db = make_database(url if on_postgres else f"sqlite:///{run_dir / 'var' / 'stockgate.db'}")
        expected = {sku: 1000 + int(sku.rsplit("-", 1)[1]) for sku in replies}
        finished = lambda: (rows := _files(db)) and sum(r.status not in ("received", "processing")  # noqa: E731
                                                        for r in rows) >= len(_acknowledged(replies)) and rows
        serves[0].wait_until(finished, 120, "every acknowledged file processed")
        applied_once = _applied_once(db, expected)
        file_ids = [r.file_id for r in _files(db)]
        leaks = [path for serve in serves for name in ("west0", "looper")
                 for path in _readable_outside_home(serve.ftp_port, name, file_ids)]
        db.dispose()
    finally:
        for serve in serves:
            serve.stop()

    logs = "".join(serve.log() for serve in serves)
    problems = [line for line in logs.splitlines() if re.search(r" (ERROR|CRITICAL) |Traceback", line)]
    not_226 = {sku: reply for sku, reply in replies.items() if not reply.startswith("226")}
    assert min(count[0] for count in loops) > 0, "the looping session never changed directory"
    assert len(applied_once) == len(expected) == FILES_IN_ALL and not not_226, (
        f"applied once: {len(applied_once)} of {FILES_IN_ALL}; not answered 226: {len(not_226)} "
        f"{list(not_226.items())[:3]}")
    assert _stray_folders(run_dir / "var") == []
    assert leaks == []
    assert problems == [], problems[:5]


def _files(db) -> list:
    with db.read() as conn:
        return conn.execute(select(schema.files)).all()


def _acknowledged(replies: dict) -> list:
    return [sku for sku, reply in replies.items() if reply.startswith("226")]


def _applied_once(db, expected: dict[str, int]) -> list[str]:
    """The SKUs whose file was applied once: their level holds the file's figure and one ledger entry."""
    i, s, l = schema.items.c, schema.stock_levels.c, schema.ledger.c
    with db.read() as conn:
        levels = dict(conn.execute(select(i.sku, s.on_hand).join_from(schema.stock_levels, schema.items,
                                                                      s.item_id == i.id)).all())
        entries = dict(conn.execute(select(i.sku, func.count()).join_from(schema.ledger, schema.items,
                                                                          l.item_id == i.id).group_by(i.sku)).all())
    return [sku for sku, qty in expected.items() if levels.get(sku) == qty and entries.get(sku) == 1]
