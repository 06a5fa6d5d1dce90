"""Shared fixtures: a real database per test on SQLite and, when STOCKGATE_TEST_POSTGRES_URL is set, on
PostgreSQL too; a data folder; a way to run the `stockgate` command line in-process.

PostgreSQL tests use a database of their own (created for this pytest run, dropped after), so parallel
runs on one server never see each other's rows.

Every test runs as if `make run` were running beside it: the demo's FTP and web ports (config/demo.toml,
also the built-in defaults) are held for the whole session, so a test that binds a fixed port fails here
as it would beside a running demo. Servers in tests listen on port 0 and read their port back.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import tomllib
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gateway.db import schema
from gateway.db.engine import make_database
from gateway.db.migrate import ensure_default_warehouse, upgrade

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("STOCKGATE_TEST_POSTGRES_URL", "")
ENGINES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
_engine_counts: Counter = Counter()


def demo_ports() -> list[int]:
    """The ports `make run` listens on (config/demo.toml) and the built-in defaults' (FTP, web)."""
    from gateway.settings import FtpSettings, WebSettings

    with open(ROOT / "config" / "demo.toml", "rb") as fh:
        demo = tomllib.load(fh)
    return sorted({demo["ftp"]["port"], demo["web"]["port"], FtpSettings().port, WebSettings().port})


@pytest.fixture(scope="session", autouse=True)
def demo_ports_taken():
    """With STOCKGATE_TEST_HOLD_DEMO_PORTS=1 (as `.ci/run` sets), hold the demo's ports on 127.0.0.1 for the
    session, as a running `make run` would (a port already taken is left to its holder): the suite passes
    beside a running demo only if no test needs those ports. Off by default, so that a `make run` started
    while `make test` runs still gets its ports."""
    held = []
    ports = demo_ports() if os.environ.get("STOCKGATE_TEST_HOLD_DEMO_PORTS") == "1" else []
    for port in ports:
        listener = socket.socket()
        try:
            listener.bind(("127.0.0.1", port))
            listener.listen(1)
        except OSError:
            listener.close()
            continue
        held.append(listener)
    yield demo_ports()
    for listener in held:
        listener.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """An SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    db = make_database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_database_url():
    """A fresh PostgreSQL database for this run, migrated to head; dropped at the end."""
    if not POSTGRES_URL:
        pytest.skip("STOCKGATE_TEST_POSTGRES_URL is not set")
    admin_url = make_url(POSTGRES_URL)
    name = f"sg_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    db = make_database(url)
    upgrade(db)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    db = make_database(url)
    names = ", ".join(f'"{t.name}"' for t in schema.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture(params=ENGINES)
def database_url(request, tmp_path) -> str:
    """The URL of an empty, migrated database holding only the `MF` warehouse."""
    _engine_counts[request.param] += 1
    if request.param == "sqlite":
        path = tmp_path / "stockgate.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database_url")
        _truncate_postgres(url)
    db = make_database(url)
    ensure_default_warehouse(db)
    db.dispose()
    return url


@pytest.fixture
def db(database_url):
    """A `Database` on the test's database."""
    database = make_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    path = tmp_path / "var"
    path.mkdir()
    return path


@pytest.fixture
def write_config(tmp_path, data_dir, database_url):
    """Write a stockgate.toml for this test (extra TOML appended) and return its path."""

    def write(extra: str = "") -> Path:
        path = tmp_path / "stockgate.toml"
        path.write_text(f'data_dir = "{data_dir}"\ndatabase_url = "{database_url}"\n{extra}\n', encoding="utf-8")
        return path

    return write


@pytest.fixture
def concurrently():
    """Run `work(i)` in `count` threads at once; return the exceptions they raised (none is swallowed)."""
    import threading

    def run(work, count: int) -> list[BaseException]:
        errors: list[BaseException] = []

        def guarded(i: int) -> None:
            try:
                work(i)
            except BaseException as exc:  # surfaced to the test through the returned list
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return errors

    return run


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err

    def json(self):
        import json
        return json.loads(self.out)

    def __repr__(self):
        return f"CliResult(code={self.code}, out={self.out[:500]!r}, err={self.err[:500]!r})"


@pytest.fixture
def stockgate(write_config, monkeypatch):
    """Run `stockgate --config <test config> ARGS...` in-process; returns code, stdout, stderr."""
    from gateway.cli import main

    state = {"config": None}

    def run(*args: str, config: Path | None = None, stdin: str | None = None) -> CliResult:
        if config is not None:
            state["config"] = config
        if state["config"] is None:
            state["config"] = write_config()
        out, err = io.StringIO(), io.StringIO()
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["--config", str(state["config"]), *args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def pytest_terminal_summary(terminalreporter):
    if _engine_counts:
        ran = ", ".join(f"{name}: {count}" for name, count in sorted(_engine_counts.items()))
        terminalreporter.write_line(f"database tests ran on {ran}")
    if not POSTGRES_URL:
        terminalreporter.write_line("PostgreSQL not tested: set STOCKGATE_TEST_POSTGRES_URL to include it")
