"""Log lines cannot be forged: a watched folder's file named with a newline and a terminal escape is logged
by the real `stockgate` process on one line, its control characters escaped."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORGED = "2026-01-01 00:00:00,000 ERROR stockgate.sources forged: all stock zeroed"
LINE_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ ")


def test_a_file_name_with_a_newline_is_logged_on_one_line_with_its_controls_escaped(folder_source, configure,
                                                                                   tmp_path, received):
    settings = configure(folder_source(stable_seconds=0))
    name = f"stock\n{FORGED}\x1b[2K.csv"
    (tmp_path / "drop" / name).write_bytes(b"SKU,Quantity\nA1,5\n")

    run = subprocess.run([sys.executable, "-m", "gateway", "--config", str(settings.config_path), "sources", "poll",
                          "drop"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**os.environ, "STOCKGATE_LOG_LEVEL": "INFO"})

    assert run.returncode == 0, run.stderr
    assert [r.name for r in received()] == [name]
    lines = run.stderr.splitlines()
    assert lines and all(LINE_START.match(line) for line in lines), run.stderr
    [logged] = [line for line in lines if "file received" in line]
    assert f"name=stock\\n{FORGED}\\x1b[2K.csv " in logged
    assert not any(line.startswith(FORGED) for line in lines) and "\x1b" not in run.stderr
