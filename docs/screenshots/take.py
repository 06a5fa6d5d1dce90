"""Take the screenshots in this folder: a StockGate with the demo's warehouses, channels and sample files,
served by the real `stockgate serve` on free loopback ports, each page opened in Debian's chromium through
Playwright as an admin (so every action button shows).

    .venv/bin/python docs/screenshots/take.py        # writes docs/screenshots/<page>.png

Needs the test extra (`make install-test`: playwright) and `chromium` on PATH (apt-get install chromium).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
ADMIN, PASSWORD = "admin", "screenshot-password"
WEB = re.compile(r"web page on (http://127\.0\.0\.1:\d+)")
WIDTH, HEIGHT = 1280, 800


def stockgate(config: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "gateway", "--config", str(config), *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode == 2 or done.returncode > 5:   # 1, 3-5: a file with errors, rejected or held: a report
        raise SystemExit(f"stockgate {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


def demo_config(folder: Path) -> Path:
    """config/demo.toml with its data in `folder` and its servers on free ports."""
    text = (ROOT / "config" / "demo.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "var/demo"', f'data_dir = "{folder / "data"}"')
    text = text.replace('path = "var/demo/drop/west"', f'path = "{folder / "drop"}"')
    text = re.sub(r"(\[ftp\][^\[]*?)port = \d+", r"\1port = 0", text, flags=re.S)
    text = re.sub(r"(\[web\][^\[]*?)port = \d+", r"\1port = 0", text, flags=re.S)
    text = text.replace('passive_ports = "30000-30049"', 'passive_ports = ""')
    config = folder / "stockgate.toml"
    config.write_text(text, encoding="utf-8")
    return config


def seed(config: Path) -> dict[str, str]:
    """Files (applied, with issues, held), listings and an order; the ids the pages need."""
    stockgate(config, "init")
    stockgate(config, "users", "add", ADMIN, "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    stockgate(config, "ingest", str(ROOT / "sample_files" / "quantity_update.csv"), "--create-unknown-skus")
    stockgate(config, "ingest", str(ROOT / "sample_files" / "every_issue.csv"), "--create-unknown-skus")
    stockgate(config, "set", "A2", "EAST", "3", "--note", "cycle count")
    stockgate(config, "adjust", "00123", "EAST", "+2", "--note", "found on the returns shelf")
    held = Path(tempfile.mkdtemp()) / "east-night.csv"      # would zero 3 of EAST's 4 SKUs: held
    held.write_text("SKU,Qty\nA1,6\n", encoding="utf-8")
    stockgate(config, "ingest", str(held), "--warehouse", "EAST", "--mode", "full")
    for listing, sku, qty in (("AMZ-A1", "A1", "4"), ("AMZ-B100", "B-100", "20"), ("AMZ-NEW", "NEW-1", "2")):
        stockgate(config, "sandbox", "listing", "demo-amazon", listing, sku, qty)
    stockgate(config, "channels", "sync", "demo-amazon")
    stockgate(config, "sandbox", "order", "demo-amazon", "112-0000001", "B-100:2")
    stockgate(config, "channels", "pull", "demo-amazon")
    files = json.loads(stockgate(config, "history", "--json"))["files"]
    by_status = {f["status"]: f["file_id"] for f in files}
    return {"applied": by_status.get("applied", files[-1]["file_id"]),
            "held": by_status.get("held", files[0]["file_id"]),
            "issues": next((f["file_id"] for f in files if f["rows"]["errors"]), files[0]["file_id"])}


def pages(ids: dict[str, str]) -> list[tuple[str, str]]:
    """(screenshot name, path) for every page of the web room list in docs/web.md."""
    return [
        ("dashboard", "/"), ("history", "/history"), ("file-report", f"/files/{ids['issues']}"),
        ("file-held", f"/files/{ids['held']}"), ("file-preview", f"/files/{ids['held']}/preview"),
        ("upload", "/upload"), ("templates", "/templates"), ("inventory", "/stock"), ("item", "/item?sku=B-100"),
        ("listings", "/listings"), ("orders", "/orders"), ("order", "/orders/demo-amazon/112-0000001"),
        ("integrations", "/integrations"), ("integration", "/integrations/demo-amazon"), ("sources", "/sources"),
        ("users", "/users"), ("audit", "/audit"), ("api-docs", "/docs"),
    ]


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("no chromium on PATH: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="stockgate-shots-") as tmp:
        folder = Path(tmp)
        (folder / "drop").mkdir()
        config = demo_config(folder)
        ids = seed(config)
        log = open(folder / "serve.log", "w+b")
        serve = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(config), "serve"], cwd=ROOT,
                                 stdout=log, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            url = None
            for _ in range(600):
                found = WEB.search((folder / "serve.log").read_text(errors="replace"))
                if found:
                    url = found[1]
                    break
                time.sleep(0.1)
            if url is None:
                raise SystemExit("serve did not start its web page:\n" + (folder / "serve.log").read_text())
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
                page.goto(url + "/login")
                if page.locator("input[name=username]").count():   # users exist: log in as the admin
                    page.fill("input[name=username]", ADMIN)
                    page.fill("input[name=password]", PASSWORD)
                    page.click("button[type=submit]")
                    page.wait_for_load_state()
                for name, path in pages(ids):
                    answer = page.goto(url + path)
                    if answer is None or answer.status >= 400:
                        print(f"skipped {name}: {path} answered {answer.status if answer else 'nothing'}")
                        continue
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                    print(f"{name}.png  {path}")
                context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
                anonymous = context.new_page()
                anonymous.goto(url + "/login")
                anonymous.screenshot(path=str(OUT / "login.png"))
                print("login.png  /login")
                browser.close()
        finally:
            serve.send_signal(signal.SIGTERM)
            serve.wait(30)
            log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
