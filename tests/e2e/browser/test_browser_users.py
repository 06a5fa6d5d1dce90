"""Users in a real browser against the real `stockgate serve`: an admin (added with `stockgate users
add`) adds a viewer on the Users page; the viewer logs in and finds no action button on the history,
file, item and listings pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from playwright.sync_api import expect

from tests.e2e.serve_harness import ROOT


def _add_user(gateway, name: str, role: str, password: str) -> None:
    result = subprocess.run([sys.executable, "-m", "gateway", "--config", str(gateway.config), "users", "add", name,
                             "--role", role, "--password-stdin"], input=password + "\n", capture_output=True,
                            text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr


def _log_in(page, url: str, name: str, password: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("form.logout")).to_contain_text(name)


def test_an_admin_adds_a_viewer_who_then_finds_no_action_anywhere(web_gateway, page, tmp_path):
    gateway = web_gateway()
    assert gateway.cli("set", "A1", "MF", "5").returncode == 0
    dropped = tmp_path / "counts.csv"
    dropped.write_text("SKU,MF\nA1,4\n")
    ingested = gateway.cli("ingest", str(dropped), "--json")
    assert ingested.stdout, ingested.stderr
    report = json.loads(ingested.stdout)
    _add_user(gateway, "ada", "admin", "ada-password")

    page.goto(gateway.url + "/")
    page.wait_for_url("**/login?next=%2F")
    _log_in(page, gateway.url, "ada", "ada-password")
    page.get_by_role("link", name="Users").click()
    add = page.locator("form[action='/users/add']")
    add.get_by_label("Name").fill("vera")
    add.get_by_label("Role").select_option("viewer")
    add.get_by_label("Password", exact=True).fill("vera-password")
    add.get_by_label("Password again").fill("vera-password")
    add.get_by_role("button", name="Add user").click()
    expect(page.locator("p.notice")).to_have_text("User added.")
    expect(page.locator("table")).to_contain_text("vera")
    page.locator("form.logout").get_by_role("button", name="Log out").click()

    _log_in(page, gateway.url, "vera", "vera-password")
    for path in ("/history", f"/files/{report['file_id']}", "/item?sku=A1", "/listings"):
        page.goto(gateway.url + path)
        expect(page.locator("main h1")).to_be_visible()
        assert page.locator("main form[method=post]").count() == 0, path
        assert page.locator("main input[type=checkbox]").count() == 0, path
