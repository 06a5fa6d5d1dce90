"""One HTTP client per marketplace channel: timeouts, connection limits, throttling obeyed, secrets redacted.

`ChannelHttp.request` sends one call and waits out what the marketplace asks it to: a 429 with
`Retry-After` (seconds or an HTTP date), a 429 with Walmart's `x-current-token-count` /
`x-next-replenish-time` (either casing, either name), a bare 429 (exponential backoff with jitter, capped),
and, for a call the adapter marks `idempotent`, a 5xx or a dropped connection. Every wait is drawn from a
`WaitBudget` (one per call unless the adapter shares one across a batch); when the next wait would exceed
it, `ThrottledError` (retryable) is raised and the caller leaves the work for the outbox to retry, so a
push is delayed, never lost. `Redactor` takes every credential out of what is logged or raised.

    RetryableChannelError (channels.errors)
    └── ThrottledError        the marketplace kept refusing within the wait budget (429 or 5xx)
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import httpx

from channels.errors import RetryableChannelError

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# header names, lower case: httpx matches them without regard to case
TOKEN_COUNT_HEADERS = ("x-current-token-count",)
REPLENISH_HEADERS = ("x-next-replenish-time", "x-next-replenishment-time")
REDACTED = "[redacted]"


class ThrottledError(RetryableChannelError):
    """The marketplace kept refusing (429 or 5xx) until the wait budget ran out; `wait_seconds` is what it
    last asked for, a hint for the outbox's next try."""

    def __init__(self, message: str, wait_seconds: float | None = None):
        super().__init__(message)
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait: backoff `base_seconds * 2**(n-1)` (half to all of it, jittered) up to
    `max_delay_seconds` per wait, at most `max_attempts` tries, and `budget_seconds` of waiting in all."""

    base_seconds: float = 0.5
    max_delay_seconds: float = 30.0
    budget_seconds: float = 60.0
    max_attempts: int = 8

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The jittered exponential wait after failed try number `attempt` (1-based)."""
        ceiling = min(self.max_delay_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class WaitBudget:
    """Seconds of waiting left for one piece of work (a call, or every call of a batch push)."""

    def __init__(self, seconds: float):
        self.left = float(seconds)

    def take(self, seconds: float) -> bool:
        """Spend `seconds` if that many are left; False (nothing spent) otherwise."""
        if seconds > self.left:
            return False
        self.left -= seconds
        return True


class Redactor:
    """Replaces every known secret (credentials, tokens, the Basic header) by `[redacted]` in a text."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Remember more secrets (a token fetched later); short strings are ignored as too common to hide."""
        self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def __call__(self, text: Any) -> str:
        text = str(text)
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


def retry_after_seconds(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """What the answer asks to wait, in seconds: `Retry-After` (delta seconds or an HTTP date), or, with no
    tokens left, Walmart's next replenish time (epoch milliseconds or seconds); None when it does not say."""
    value = response.headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, when.replace(tzinfo=when.tzinfo or UTC).timestamp() - now())
    count = next((response.headers[h] for h in TOKEN_COUNT_HEADERS if h in response.headers), None)
    replenish = next((response.headers[h] for h in REPLENISH_HEADERS if h in response.headers), None)
    if replenish and (count is None or count.strip() in ("0", "0.0")):
        try:
            at = float(replenish)
        except ValueError:
            return None
        at = at / 1000 if at > 1e11 else at          # epoch milliseconds (Walmart) or seconds
        return max(0.0, at - now())
    return None


class ChannelHttp:
    """The one httpx client of a channel. `transport` (an httpx transport) replaces the network in tests;
    `sleep`, `now` and `rng` are injectable so the waits can be observed."""

    def __init__(self, name: str, base_url: str, *, policy: RetryPolicy = RetryPolicy(), timeout: float = 30.0,
                 max_connections: int = 4, redactor: Redactor | None = None,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], float] = time.time, rng: random.Random | None = None):
        self.name, self.policy = name, policy
        self.redact = redactor or Redactor()
        self._sleep, self._now, self._rng = sleep, now, rng or random.Random()
        self.client = httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                   limits=httpx.Limits(max_connections=max_connections,
                                                       max_keepalive_connections=max_connections),
                                   transport=transport, follow_redirects=False)

    def budget(self) -> WaitBudget:
        """A fresh wait budget of the policy's size, to share across the calls of one batch."""
        return WaitBudget(self.policy.budget_seconds)

    def request(self, method: str, url: str, *, idempotent: bool, budget: WaitBudget | None = None,
                **kwargs: Any) -> httpx.Response:
        """Send the call, waiting out throttling (and, when `idempotent`, 5xx and dropped connections);
        any other answer (2xx, 4xx) is returned as it came. ThrottledError when the budget runs out;
        RetryableChannelError when a connection fails and the call may not be repeated."""
        budget = budget or self.budget()
        what = f"channel {self.name}: {method} {url.split('?', 1)[0]}"
        for attempt in range(1, self.policy.max_attempts + 1):
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                problem = self.redact(f"{what} failed: {type(exc).__name__}: {exc}")
                if not idempotent:
                    raise RetryableChannelError(problem + " (not repeated: the call is not idempotent)") from exc
                wait, asked = self.policy.backoff(attempt, self._rng), None
            else:
                if response.status_code == 429 or (idempotent and response.status_code in RETRY_STATUSES):
                    asked = retry_after_seconds(response, self._now)
                    wait = asked if asked is not None else self.policy.backoff(attempt, self._rng)
                    problem = f"{what} answered {response.status_code}"
                elif response.status_code in RETRY_STATUSES:
                    raise RetryableChannelError(f"{what} answered {response.status_code} "
                                                "(not repeated: the call is not idempotent)")
                else:
                    return response
            wait = min(wait, self.policy.max_delay_seconds)
            if attempt == self.policy.max_attempts or not budget.take(wait):
                raise ThrottledError(f"{problem}; gave up after {attempt} tries (left for a later retry)",
                                     asked if asked is not None else wait)
            log.info("%s; waiting %.2f s before try %d", problem, wait, attempt + 1)
            self._sleep(wait)
        raise AssertionError("unreachable")

    def pause(self, seconds: float, budget: WaitBudget, problem: str) -> None:
        """Wait out a throttle the answer's body reports (Shopify's cost bucket answers 200 THROTTLED), from
        `budget`, capped like every wait; ThrottledError (retryable) when the budget cannot cover it."""
        wait = min(max(seconds, 0.0), self.policy.max_delay_seconds)
        if not budget.take(wait):
            raise ThrottledError(f"channel {self.name}: {problem}; the wait budget is spent (left for a later retry)",
                                 seconds)
        log.info("channel %s: %s; waiting %.2f s", self.name, problem, wait)
        self._sleep(wait)

    def wait(self, seconds: float) -> None:
        """Sleep through the client's injectable `sleep` (a wait the caller has already taken from its
        budget, e.g. an SP-API usage-plan bucket, or a feed's poll interval), so tests observe every wait."""
        self._sleep(seconds)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

