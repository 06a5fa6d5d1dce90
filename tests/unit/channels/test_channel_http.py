"""The shared HTTP client of marketplace adapters against httpx's MockTransport: what a 429 or a 5xx makes
it wait, when it gives up (retryable), which calls it repeats, and the secrets it never lets out."""

from __future__ import annotations

import email.utils
import logging

import httpx
import pytest

from channels.errors import RetryableChannelError
from channels.http import ChannelHttp, Redactor, RetryPolicy, ThrottledError, retry_after_seconds
from channels.tokens import AccessToken, TokenRefresher


def _answer(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers={k.replace("_", "-"): v for k, v in headers.items()})


@pytest.mark.parametrize("headers, expected", [
    ({"Retry_After": "7"}, 7.0),
    ({"Retry_After": email.utils.formatdate(1_800_000_030, usegmt=True)}, 30.0),
    ({"x_current_token_count": "0", "x_next_replenish_time": "1800000012000"}, 12.0),      # epoch ms
    ({"X-Current-Token-Count": "0", "X-Next-Replenishment-Time": "1800000004"}, 4.0),      # epoch s
    ({"x_current_token_count": "5", "x_next_replenish_time": "1800000012000"}, None),     # tokens left
    ({}, None),
])
def test_the_wait_a_429_asks_for(headers, expected):
    assert retry_after_seconds(_answer(429, **headers), now=lambda: 1_800_000_000.0) == expected


def test_a_5xx_is_repeated_only_for_an_idempotent_call_and_a_storm_ends_retryable():
    answers = iter([503, 503, 200])
    http = ChannelHttp("x", "http://127.0.0.1:9", transport=httpx.MockTransport(lambda r: httpx.Response(next(answers))),
                       sleep=lambda s: None, policy=RetryPolicy(base_seconds=0.1, budget_seconds=5))
    assert http.request("PUT", "/a", idempotent=True).status_code == 200
    once = ChannelHttp("x", "http://127.0.0.1:9", transport=httpx.MockTransport(lambda r: httpx.Response(503)),
                       sleep=lambda s: None)
    with pytest.raises(RetryableChannelError, match="not idempotent"):
        once.request("POST", "/cancel", idempotent=False)
    storm = ChannelHttp("x", "http://127.0.0.1:9", transport=httpx.MockTransport(lambda r: httpx.Response(429)),
                        sleep=lambda s: None, policy=RetryPolicy(base_seconds=1, max_delay_seconds=1, budget_seconds=3))
    with pytest.raises(ThrottledError, match="left for a later retry"):
        storm.request("GET", "/orders", idempotent=True)


def test_credentials_are_redacted_from_log_lines_and_errors(caplog):
    secret = "s3cr3t-client-secret"

    def refuse(request):
        raise httpx.ConnectError(f"cannot reach host with {secret}")

    http = ChannelHttp("x", "http://127.0.0.1:9", transport=httpx.MockTransport(refuse), sleep=lambda s: None,
                       redactor=Redactor([secret]), policy=RetryPolicy(base_seconds=0.01, max_attempts=2))
    caplog.set_level(logging.INFO)
    with pytest.raises(RetryableChannelError) as caught:
        http.request("GET", "/items", idempotent=True)
    assert secret not in str(caught.value) and "[redacted]" in str(caught.value)
    assert caplog.records and all(secret not in r.getMessage() for r in caplog.records)


def test_a_refused_token_is_dropped_and_the_next_call_fetches_one():
    fetched = []

    def fetch():
        fetched.append(1)
        return AccessToken(f"t{len(fetched)}", 1_000_900.0)

    tokens = TokenRefresher(fetch, now=lambda: 1_000_000.0)
    assert tokens.token() == tokens.token() == "t1"
    tokens.refused("t1")
    assert tokens.token() == "t2" and len(fetched) == 2


def test_a_throttle_reported_in_the_body_is_waited_from_the_same_budget_and_ends_retryable():
    waits: list[float] = []
    http = ChannelHttp("x", "http://127.0.0.1:9", sleep=waits.append,
                       policy=RetryPolicy(max_delay_seconds=2, budget_seconds=3))
    budget = http.budget()
    http.pause(5, budget, "THROTTLED")                       # capped at the longest single wait
    http.pause(0.5, budget, "THROTTLED")
    with pytest.raises(ThrottledError, match="THROTTLED; the wait budget is spent") as caught:
        http.pause(1, budget, "THROTTLED")
    assert waits == [2, 0.5] and caught.value.wait_seconds == 1
