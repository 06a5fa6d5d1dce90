"""Many files dropped at once into a watched folder, through the real `stockgate serve`: one process on
SQLite, two sharing the database and the folder on PostgreSQL. Every file is applied, whatever order the
folder lists them in; a snapshot older than one already applied is still STALE_FILE."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.db import schema
from gateway.db.engine import make_database
from serve_harness import ROOT, Serve

FILES = int(os.environ.get("STOCKGATE_E2E_DROP_FILES", "50"))   # 200 for a heavier run by hand
WRITTEN_AT = 1_700_000_000        # the ERP wrote file k at WRITTEN_AT + 60 * k (a minute apart)


class FolderServe(Serve):
    """A `serve` with no FTP server: ready once it logs that it runs."""

    def start(self) -> None:
        env = {**os.environ, "STOCKGATE_LOG_LEVEL": "INFO"}
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(self.config), "serve"],
                                            stdout=log, stderr=log, cwd=ROOT, env=env)
        self.wait_until(lambda: "serve running" in self.log_path.read_text(errors="replace")[offset:], 60,
                        "serve to start")


def drop_config(data_dir: Path, database_url: str, drop: Path, mode: str) -> str:
    return (f'data_dir = "{data_dir}"\ndatabase_url = "{database_url}"\n'
            '[ftp]\nenabled = false\n[web]\nenabled = false\n'
            '[[warehouses]]\ncode = "WEST"\n'
            f'[[sources]]\nname = "drop"\ntype = "folder"\nwarehouse = "WEST"\nmode = "{mode}"\n'
            f'path = "{drop}"\nstable_seconds = 1\ninterval_seconds = 2\ncreate_unknown_skus = true\n')


def finished_files(database_url: str) -> list:
    db = make_database(database_url)
    try:
        with db.read() as conn:
            f = schema.files.c
            return conn.execute(select(f.name, f.status, f.report).order_by(f.seq)).all()
    finally:
        db.dispose()


def on_hand(database_url: str, sku: str) -> int | None:
    db = make_database(database_url)
    try:
        with db.read() as conn:
            i, s = schema.items.c, schema.stock_levels.c
            return conn.execute(select(s.on_hand).join_from(schema.stock_levels, schema.items, i.id == s.item_id)
                                .where(i.sku == sku)).scalar()
    finally:
        db.dispose()


def stage_export(stage: Path, name: str, body: str, written_at: float) -> Path:
    path = stage / name
    path.write_text(body)
    os.utime(path, (written_at, written_at))
    return path


@pytest.fixture
def drop_serves(tmp_path, database_url):
    """Start the `serve` processes of this engine (one on SQLite, two on PostgreSQL) for a folder source."""
    started: list[FolderServe] = []

    def start(mode: str) -> tuple[Path, list[FolderServe]]:
        drop = tmp_path / "drop"
        drop.mkdir()
        count = 2 if database_url.startswith("postgresql") else 1
        for n in range(count):
            config = tmp_path / f"stockgate-{n}.toml"
            config.write_text(drop_config(tmp_path / "var", database_url, drop, mode))
            serve = FolderServe(config, tmp_path / "var", 0, tmp_path / f"serve-{n}.log")
            if n == 0:
                init = serve.cli("init")
                assert init.returncode == 0, init.stderr
            serve.start()
            started.append(serve)
        return drop, started

    yield start
    for serve in started:
        assert serve.stop() == 0, serve.log()[-3000:]


def drop_all_at_once(stage: Path, drop: Path, paths: list[Path]) -> None:
    """Move prepared exports into the watched folder in a shuffled order (a `mv *` keeps their mtimes)."""
    random.Random(9).shuffle(paths)
    for path in paths:
        os.rename(path, drop / path.name)


@pytest.mark.parametrize("mode", ["partial", "delta"])
def test_files_dropped_together_into_a_watched_folder_are_all_applied(drop_serves, database_url, tmp_path, mode):
    drop, serves = drop_serves(mode)
    stage = tmp_path / "stage"
    stage.mkdir()
    # names sort in another order than the times the files were written (and the folder lists yet another)
    paths = [stage_export(stage, f"export-{(k * 37) % FILES:03d}.csv", f"SKU,Quantity\nCOMMON,{k + 1}\nS{k},{k}\n",
                          WRITTEN_AT + 60 * k) for k in range(FILES)]

    drop_all_at_once(stage, drop, paths)

    serves[0].wait_until(lambda: len([r for r in finished_files(database_url)
                                      if r.status not in ("received", "processing")]) == FILES,
                         240, f"all {FILES} files processed")
    rows = finished_files(database_url)
    statuses = {r.name: r.status for r in rows}
    stale = sorted(r.name for r in rows if "STALE_FILE" in (r.report or ""))
    print(f"{mode}: {sum(s == 'applied' for s in statuses.values())} of {FILES} applied, {len(stale)} stale "
          f"({len(serves)} serve)")
    assert stale == [] and set(statuses.values()) == {"applied"} and len(statuses) == FILES
    expected = FILES if mode == "partial" else sum(range(1, FILES + 1))   # newest snapshot, or every movement
    assert on_hand(database_url, "COMMON") == expected
    assert sorted(p.name for p in (drop / "processed").iterdir()) == sorted(p.name for p in paths)
    assert [p.name for p in drop.iterdir()] == ["processed"]

    # a file still older than one applied: a snapshot is stale, a delta's movements are applied
    late = stage_export(stage, "late.csv", "SKU,Quantity\nCOMMON,3\n", WRITTEN_AT + 30)
    os.rename(late, drop / late.name)
    serves[0].wait_until(lambda: any(r.name == "late.csv" and r.status not in ("received", "processing")
                                     for r in finished_files(database_url)), 60, "the late file processed")
    [report] = [json.loads(r.report) for r in finished_files(database_url) if r.name == "late.csv"]
    if mode == "partial":
        assert report["status"] == "rejected"
        assert [i["code"] for i in report["issues"]] == ["STALE_FILE"]
        assert on_hand(database_url, "COMMON") == FILES
    else:
        assert report["status"] == "applied" and on_hand(database_url, "COMMON") == expected + 3
