"""A long `stockgate ingest` on a terminal shows a progress bar (tqdm) with rows done of the rows in the file,
rows per second and the time left; with --json, or when stderr is not a terminal, nothing is added."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import termios
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROWS = 110_000          # about 1.3 MB: past the size from which a bar is shown


def _big_file(path: Path, quantity: int) -> Path:
    path.write_text("SKU,MF\n" + "".join(f"P{n:07d},{quantity}\n" for n in range(ROWS)), encoding="utf-8")
    return path


def _command(config: Path, path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "gateway", "--config", str(config), "ingest", str(path), "--create-unknown-skus",
            *extra]


def _on_a_terminal(command: list[str], timeout: float = 600) -> tuple[int, str]:
    """Run `command` with stdin, stdout and stderr on a new pseudo-terminal; its exit status and output."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))   # 120 columns, as a terminal has
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, close_fds=True)
    os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:          # EIO: the terminal's other side is closed, the process has ended
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        else:
            process.kill()
            raise AssertionError(f"ingest did not finish:\n{output.decode(errors='replace')[-2000:]}")
    finally:
        os.close(master)
    return process.wait(60), output.decode(errors="replace")


def test_a_long_ingest_on_a_terminal_shows_rows_done_of_total_rate_and_time_left(stockgate, write_config, tmp_path):
    config = write_config()
    assert stockgate("init", config=config).code == 0

    code, output = _on_a_terminal(_command(config, _big_file(tmp_path / "big.csv", 3)))

    assert code == 0, output[-2000:]
    bars = [line for line in re.split(r"[\r\n]", output) if "rows/s" in line]
    assert bars, output[-2000:]
    assert any(re.search(rf"\b\d+/{ROWS}\b", line) for line in bars), bars[-3:]      # rows done of the total
    assert any(re.search(r"\[\d\d:\d\d<\d\d:\d\d, ", line) for line in bars), bars[-3:]  # elapsed<time left, rate
    assert f"{ROWS:,}" in output or str(ROWS) in output                   # the report follows the bar


def test_with_json_on_a_terminal_only_the_json_document_is_written(stockgate, write_config, tmp_path):
    config = write_config()
    assert stockgate("init", config=config).code == 0

    code, output = _on_a_terminal(_command(config, _big_file(tmp_path / "big.csv", 4), "--json"))

    assert code == 0, output[-2000:]
    assert "rows/s" not in output and "\r" not in output.replace("\r\n", "\n")
    assert json.loads(output)["rows"]["total"] == ROWS


def test_without_a_terminal_nothing_but_the_report_is_written(stockgate, write_config, tmp_path):
    config = write_config()
    assert stockgate("init", config=config).code == 0

    result = subprocess.run(_command(config, _big_file(tmp_path / "big.csv", 5)), capture_output=True, text=True,
                            cwd=ROOT, timeout=600)

    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and "rows/s" not in result.stdout and "\r" not in result.stdout
