"""The order page's Cancel over real HTTP offers the reason codes the channel's marketplace accepts: a
Walmart order (contract server) gets a select of Walmart's cancellation reasons, the one chosen is what
Walmart receives, the API says the same (`marketplace_cancel`), and a channel whose marketplace cannot be
cancelled from StockGate says so instead of offering codes."""

from __future__ import annotations

import dataclasses
import html
import http.cookiejar
import json
import re
import urllib.parse
import urllib.request

import pytest

from channel_helpers import channel_toml
from channels.walmart_orders import CANCEL_REASONS
from gateway.stock import stock_view
from gateway.web import WebServer


@pytest.fixture
def site(make_channels, walmart_server, monkeypatch):
    monkeypatch.setenv("WM_TEST_CLIENT_ID", walmart_server.market.client_id)
    monkeypatch.setenv("WM_TEST_CLIENT_SECRET", walmart_server.market.client_secret)
    options = {"base_url": walmart_server.url, "client_id_env": "WM_TEST_CLIENT_ID",
               "client_secret_env": "WM_TEST_CLIENT_SECRET", "backoff_base_seconds": 0.01}
    ch = make_channels(channel_toml("wm", "walmart", "walmart", restore_policy="smart", options=options),
                       channel_toml("amz", "amazon", restore_policy="smart"))
    ch.set("HAT", "MF", 10)
    walmart_server.market.add_item("HAT")
    ch.jobs.sync("wm", full=True)
    walmart_server.market.place_order("PO-1", [("HAT", 2)])
    ch.jobs.pull("wm")
    settings = dataclasses.replace(ch.settings, web=dataclasses.replace(ch.settings.web, port=0))
    server = WebServer(ch.jobs.db, settings)   # loopback, no user configured: open, as the demo
    server.start()
    yield ch, f"http://127.0.0.1:{server.port}"
    server.stop(5)


def _browser():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                       _NoRedirect())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(browser, url: str) -> str:
    with browser.open(url, timeout=30) as answer:
        return answer.read().decode()


def _options(page: str) -> list[tuple[str, str]]:
    select = re.search(r'<select name="marketplace_reason"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the cancel form offers no reason codes"
    return [(value, html.unescape(text)) for value, text in
            re.findall(r'<option value="([^"]*)">([^<]*)</option>', select.group(1))]


def test_the_cancel_form_offers_walmarts_codes_and_the_one_chosen_is_what_walmart_receives(site, walmart_server):
    ch, base = site
    browser = _browser()
    page = _get(browser, f"{base}/orders/wm/PO-1")
    options = _options(page)
    assert [value for value, _ in options] == ["", *CANCEL_REASONS]
    assert options[0][1] == ("the one matching your choice (keep: SELLER_CANCEL_OUT_OF_STOCK; "
                             "restore: CUSTOMER_REQUESTED_SELLER_TO_CANCEL)")
    assert "cancelled on walmart first" in page

    csrf = html.unescape(re.search(r'name="csrf_token" value="([^"]*)"', page).group(1))
    form = urllib.parse.urlencode({"csrf_token": csrf, "choice": "restore",
                                   "marketplace_reason": "SELLER_CANCEL_PRICING_ERROR"}).encode()
    try:
        browser.open(f"{base}/orders/wm/PO-1/cancel", form, timeout=30)
        raise AssertionError("the cancel did not redirect")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303 and answer.headers["Location"] == "/orders/wm/PO-1?done=cancel-there"
    [call] = walmart_server.market.cancel_calls
    [line] = call["body"]["orderCancellation"]["orderLines"]["orderLine"]
    assert call["po"] == "PO-1" and line["orderLineStatuses"]["orderLineStatus"][0]["cancellationReason"] == \
        "SELLER_CANCEL_PRICING_ERROR"
    with ch.jobs.db.read() as conn:
        assert stock_view(conn, ["HAT"])[0]["available"] == 10      # restored, as chosen


def test_the_api_says_what_a_cancel_would_do_on_each_marketplace(site):
    ch, base = site
    with urllib.request.urlopen(f"{base}/api/v1/orders/wm/PO-1", timeout=30) as answer:
        there = json.load(answer)["marketplace_cancel"]
    assert there == {"possible": True, "why": None, "reasons": list(CANCEL_REASONS),
                     "defaults": {"keep": "SELLER_CANCEL_OUT_OF_STOCK",
                                  "restore": "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"}}


def test_a_channel_that_cannot_cancel_on_its_marketplace_says_so_and_offers_no_codes(site):
    from channels.model import OrderData, OrderLineData
    from gateway.clock import now
    from gateway.orders import record_order

    ch, base = site
    with ch.jobs.db.write() as conn:
        record_order(conn, "amz", OrderData("A-1", now(), "accepted", (OrderLineData("1", "HAT", 1),)))
    page = _get(_browser(), f"{base}/orders/amz/A-1")
    assert 'name="marketplace_reason"' not in page and 'name="here_only"' not in page
    note = html.unescape(re.search(r'<p class="note" id="cancel-there">(.*?)</p>', page, re.S).group(1))
    assert note.startswith("Not cancelled on amazon: its API does not allow it from StockGate: cancel it there too.")
    with urllib.request.urlopen(f"{base}/api/v1/orders/amz/A-1", timeout=30) as answer:
        assert json.load(answer)["marketplace_cancel"]["possible"] is False


def test_orders_explain_ends_with_what_a_cancel_would_do_on_the_marketplace(site, stockgate):
    ch, _ = site
    result = stockgate("orders", "explain", "wm", "PO-1", config=ch.config)
    assert result.code == 0, result.err
    assert result.out.rstrip().splitlines()[-1] == (
        f"Cancelling it here also cancels it on walmart (--marketplace-reason: {', '.join(CANCEL_REASONS)}).")
    as_json = stockgate("orders", "explain", "wm", "PO-1", "--json", config=ch.config)
    assert json.loads(as_json.out)["marketplace_cancel"]["defaults"]["keep"] == "SELLER_CANCEL_OUT_OF_STOCK"
