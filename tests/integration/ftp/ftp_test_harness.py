"""A real StockGate FTP server on 127.0.0.1 (port 0) in threads with its processing worker, and helpers
to talk to it with the standard `ftplib` client and to look at what it did."""

from __future__ import annotations

import ftplib
import io
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from gateway.app import sync_config
from gateway.db import schema
from gateway.db.engine import Database
from gateway.passwords import hash_password
from gateway.serve import ProcessingWorker
from gateway.settings import Settings, load_settings
from gateway.transports.ftp.server import FtpServer

PASSWORDS = {"east": "east-secret", "west": "west-secret"}
_hashes: dict[str, str] = {}


def password_hash(password: str) -> str:
    """argon2 is slow on purpose: hash each test password once per run."""
    if password not in _hashes:
        _hashes[password] = hash_password(password)
    return _hashes[password]


def config_toml(**ftp) -> str:
    """Warehouses EAST and WEST; account `east` (both warehouses) and `west` (WEST only); [ftp] overrides."""
    keys = {"host": "127.0.0.1", "port": 0, "passive_ports": "", **ftp}
    lines = ["[ftp]"] + [f"{k} = {_toml(v)}" for k, v in keys.items()]
    lines += ['[[warehouses]]', 'code = "EAST"', '[[warehouses]]', 'code = "WEST"']
    for username, warehouses in (("east", '["EAST", "WEST"]'), ("west", '["WEST"]')):
        lines += ["[[accounts]]", f'username = "{username}"',
                  f'password_hash = "{password_hash(PASSWORDS[username])}"',
                  f"warehouses = {warehouses}", "create_unknown_skus = true"]
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\") + '"'
    return str(value)


@dataclass
class FtpGateway:
    settings: Settings
    db: Database
    server: FtpServer
    worker: ProcessingWorker

    @property
    def port(self) -> int:
        return self.server.address[1]

    def home(self, username: str) -> Path:
        return Path(self.settings.data_dir) / "ftp" / username

    def connect(self) -> ftplib.FTP:
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.port, timeout=20)
        return ftp

    def login(self, username: str = "east", password: str | None = None) -> ftplib.FTP:
        ftp = self.connect()
        ftp.login(username, PASSWORDS[username] if password is None else password)
        return ftp

    def upload(self, data: bytes, name: str, username: str = "east") -> str:
        """STOR `data` as /inbox/<name>; the server's final reply."""
        ftp = self.login(username)
        try:
            return ftp.storbinary(f"STOR /inbox/{name}", io.BytesIO(data))
        finally:
            ftp.quit()

    def download(self, path: str, username: str = "east") -> bytes:
        ftp = self.login(username)
        out = io.BytesIO()
        try:
            ftp.retrbinary(f"RETR {path}", out.write)
        finally:
            ftp.quit()
        return out.getvalue()

    def files(self) -> list:
        """Every received file's row, in order of receipt."""
        with self.db.read() as conn:
            return conn.execute(select(schema.files).order_by(schema.files.c.seq)).all()

    def wait_for_finished_files(self, count: int, timeout: float = 30) -> list:
        """Wait until `count` files have a final status; return all file rows."""
        return wait_until(lambda: (rows := self.files()) and sum(r.status not in ("received", "processing")
                                                                  for r in rows) >= count and rows,
                          timeout, f"{count} processed file(s)")

    def on_hand(self, sku: str, warehouse: str) -> int | None:
        s, i, w = schema.stock_levels.c, schema.items.c, schema.warehouses.c
        with self.db.read() as conn:
            return conn.execute(select(s.on_hand).join_from(schema.stock_levels, schema.items, s.item_id == i.id)
                                .join(schema.warehouses, s.warehouse_id == w.id)
                                .where(i.sku == sku, w.code == warehouse)).scalar()

    def stop(self) -> None:
        self.server.stop(10)
        self.worker.stop(30)


def wait_until(predicate, timeout: float, what: str):
    """Poll `predicate` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_gateway(config_path: Path, db: Database, *, worker: bool = True) -> FtpGateway:
    """Load the configuration, create its warehouses, start the FTP server (and the worker)."""
    settings = load_settings(config_path)
    sync_config(db, settings)
    processing = ProcessingWorker(db, settings, poll_seconds=0.2)
    server = FtpServer(settings, db, on_received=processing.wake, auth_failed_delay=0.05,
                       template_interval_seconds=0.5)
    processing.on_processed.append(lambda _id: server.templates.wake())
    server.start()
    assert server.templates.written.wait(30), "the templates were not written"   # written in the background
    if worker:
        processing.start()
    return FtpGateway(settings, db, server, processing)


def snapshot(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime_ns)} of every file and link under `root`, except paths starting with `skip`."""
    result = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(skip) or (path.is_dir() and not path.is_symlink()):
            continue
        st = path.lstat()
        result[relative] = (st.st_size, st.st_mtime_ns)
    return result
