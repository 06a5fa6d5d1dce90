"""A StockGate worth walking: a non-loopback web page with users of every role, seeded through the CLI with
warehouses, items, a file with issues, sandbox listings (one missing) and an order, where every name a
user or a marketplace chose (SKU, title, file name, listing id, order id, user name) is hostile markup.

Shared by the schema-driven fuzz run and the security walk over the route table."""

from __future__ import annotations

from dataclasses import dataclass, field

from web_client import Browser, ingest

from gateway.passwords import hash_password

SCRIPT, TEMPLATE = "<script>alert(1)</script>", "{{7*7}}"
HOSTILE = (SCRIPT, TEMPLATE)
ADMIN = SCRIPT + TEMPLATE                  # the configured [web] login: an admin with a hostile name
PASSWORD = "correct horse battery staple"
USERS = {"operator": "olga", "viewer": "vera"}   # database users (their names must be plain: see accounts)
FILE_NAME = "<img src=x onerror=alert(1)>" + TEMPLATE + ".csv"     # a file name cannot hold `/`
ORDER_ID = SCRIPT + TEMPLATE
LISTINGS = ((SCRIPT, TEMPLATE, "3"), ("L-" + TEMPLATE, "A1", "2"), ("L3", SCRIPT, "1"))

SEEDED_TOML = (f'[web]\nhost = "0.0.0.0"\nport = 0\nusername = "{ADMIN}"\n'
               f'password_hash = "{hash_password(PASSWORD)}"\n'
               '[[channels]]\nname = "amz"\nmarketplace = "amazon"\nadapter = "sandbox"\n')


@dataclass
class Seeded:
    """The running page, what was put in it, and one logged-in browser per role."""

    app: object
    server: object
    file_id: str
    browsers: dict[str, Browser] = field(default_factory=dict)

    def anonymous(self) -> Browser:
        return Browser(self.server.port)


def seed(stockgate, tmp_path) -> str:
    """Put the hostile catalogue in through the CLI; the id of the file with issues."""
    qu = (f"SKU,Title,MF,EAST\nA1,Widget,5,3\n{SCRIPT},{TEMPLATE},1,1\n{TEMPLATE},{SCRIPT},2,2\n"
          "NOPE,unknown,1,1\n")
    report = ingest(stockgate, tmp_path, FILE_NAME, qu, "--create-unknown-skus")
    assert report["status"] == "applied", report
    issues = ingest(stockgate, tmp_path, FILE_NAME, qu.replace("NOPE", "NOPE-2"))
    assert [i["code"] for i in issues["issues"]] == ["UNKNOWN_SKU"], issues
    for listing_id, sku, quantity in (*LISTINGS, ("GONE", "A1", "1")):
        assert stockgate("sandbox", "listing", "amz", listing_id, sku, quantity, "--title", SCRIPT).code == 0
    assert stockgate("channels", "sync", "amz").code == 0
    assert stockgate("sandbox", "remove-listing", "amz", "GONE").code == 0
    assert stockgate("channels", "sync", "amz", "--full").code == 0           # GONE is now missing
    assert stockgate("sandbox", "order", "amz", ORDER_ID, f"{TEMPLATE}:1", "A1:1").code == 0
    assert stockgate("channels", "pull", "amz").code == 0
    for role, name in USERS.items():
        added = stockgate("users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
        assert added.code == 0, added
    return issues["file_id"]


def log_in(server, name: str, password: str, role: str) -> Browser:
    """A browser logged in as `name` (of `role`) through the page's own login form."""
    browser = Browser(server.port)
    page = browser.login(name, password)
    assert page.status == 303 and page.header("Location") == "/", (name, role, page.status, page.text[:300])
    return browser


def start_seeded(site, stockgate, tmp_path) -> Seeded:
    """Start the seeded page and log in a browser as each role (admin: the configured login)."""
    app, server, _ = site(SEEDED_TOML)
    file_id = seed(stockgate, tmp_path)
    seeded = Seeded(app, server, file_id)
    seeded.browsers["admin"] = log_in(server, ADMIN, PASSWORD, "admin")
    for role, name in USERS.items():
        seeded.browsers[role] = log_in(server, name, PASSWORD, role)
    return seeded
