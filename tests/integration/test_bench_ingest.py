"""bench/ingest.py, bench/ingest_rest.py and bench/csv_readers.py run end to end on a small file: every shape against its floor,
both writing the same, on SQLite and (with STOCKGATE_TEST_POSTGRES_URL) PostgreSQL, leaving nothing behind."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL

BENCH = Path(__file__).resolve().parents[2] / "bench"
LINE = re.compile(r"^ingest\[(\w+)\]: [\d,]+ cells/s, floor [\d,]+ cells/s, ratio [\d.]+x, rss [\d,]+ MB$")

pytestmark = pytest.mark.slow


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / "ingest.py"), "--rows", "300", "--orm-rows", "20",
                           "--xlsx-rows", "20", *args], capture_output=True, text=True, timeout=600, check=False)


def bench_databases(prefix: str) -> list[str]:
    """The databases named `<prefix>_*` on the server (another run's benchmark may be making its own)."""
    engine = create_engine(POSTGRES_URL)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                             {"prefix": prefix + "_"}).scalars().all()
    engine.dispose()
    return list(names)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_every_shape_runs_against_its_floor_and_writes_the_same(engine):
    if engine == "postgresql" and not POSTGRES_URL:
        pytest.skip("STOCKGATE_TEST_POSTGRES_URL is not set")
    run = bench(*(["--database-url", POSTGRES_URL] if engine == "postgresql" else []))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert [LINE.match(line).group(1) for line in lines[-4:-1]] == ["changed5", "changed100", "first"], lines[-5:]
    assert re.match(r"^ingest: [\d,]+ cells/s, floor [\d,]+, orm [\d,]+, rss [\d,]+ MB$", lines[-1]), lines[-1]
    assert run.stdout.count("same writes: yes") == 3
    assert f"database {engine}" in lines[0] and "load average" in lines[0]
    assert "COPY" in run.stdout if engine == "postgresql" else "TEMP table" in run.stdout
    if engine == "postgresql":
        prefix = re.search(r"^databases: (bench_[0-9a-f]+)_\* on the server", run.stdout, re.M).group(1)
        assert bench_databases(prefix) == []   # its own databases are dropped


def test_shapes_chooses_and_a_wrong_one_is_named():
    run = bench("--shapes", "first")
    assert run.returncode == 0, run.stderr
    last = run.stdout.strip().splitlines()[-1]
    assert LINE.match(last).group(1) == "first"   # no changed5: no `ingest:` line either
    wrong = bench("--shapes", "first,everything")
    assert wrong.returncode == 2 and "unknown shape everything" in wrong.stderr


def test_csv_readers_measures_the_parsers_reader():
    run = subprocess.run([sys.executable, str(BENCH / "csv_readers.py"), "--rows", "500", "--repeat", "1",
                          "--readers", "parse_file,csv_module"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert re.search(r"^parse_file +[\d.]+ s +\d+ MB +500 rows", run.stdout, re.M), run.stdout
    assert re.search(r"^csv_module +[\d.]+ s +\d+ MB +500 rows", run.stdout, re.M), run.stdout


def test_ingest_rest_measures_each_shape_at_each_row_count():
    run = subprocess.run([sys.executable, str(BENCH / "ingest_rest.py"), "--rows", "300,600"], capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("rest[")]
    shapes = ("dryrun", "delta", "deltadry", "full")
    runs = [re.match(r"^rest\[(\w+)\]: ([\d,]+) rows, [\d.]+ s, rss [\d,]+ MB$", line) for line in lines[:8]]
    assert [(m.group(1), m.group(2)) for m in runs if m] == [
        (shape, rows) for rows in ("300", "600") for shape in shapes], run.stdout
    assert [line.split(":")[0] for line in lines[8:]] == [f"rest[{shape}]" for shape in shapes]
    assert "status applied" in run.stdout and "NO" not in run.stdout
    wrong = subprocess.run([sys.executable, str(BENCH / "ingest_rest.py"), "--shapes", "full,everything"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert wrong.returncode == 2 and "unknown shape everything" in wrong.stderr
