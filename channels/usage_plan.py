"""SP-API usage plans on the client side: one token bucket per operation (rate per second and burst), so the
adapter spaces its calls instead of running into 429s; the rate follows `x-amzn-RateLimit-Limit`.

A bucket is a GCRA reservation: `reserve()` books the next call and answers how long to wait for it (0 while
the burst lasts). The waits are the caller's to spend from its `WaitBudget`: when a wait does not fit, the
call is not sent and the work is left for a later retry. Buckets are per process; the server's own bucket
(a 429 `QuotaExceeded`) stays the last word, and `ChannelHttp` waits that out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Default usage plans from the model files (CHANNEL_APIS.md 2.5): operation -> (requests per second, burst)
DEFAULT_PLANS: dict[str, tuple[float, int]] = {
    "patchListingsItem": (5.0, 5),
    "getListingsItem": (5.0, 5),
    "searchListingsItems": (5.0, 5),
    "searchOrders": (0.0056, 20),
    "getOrder": (0.5, 30),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
}
RATE_HEADER = "x-amzn-ratelimit-limit"


class TokenBucket:
    """One operation's bucket: `rate` calls per second, `burst` at once."""

    def __init__(self, rate: float, burst: int, now: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self._now = float(rate), max(1, int(burst)), now
        self._tat = 0.0                     # theoretical arrival time of the next call
        self._lock = threading.Lock()

    def wait_needed(self) -> float:
        """Seconds until the next call may go (0 while the burst lasts), without booking it."""
        with self._lock:
            now = self._now()
            tat = max(self._tat, now)
            return max(0.0, tat - now - (self.burst - 1) / self.rate)

    def reserve(self) -> float:
        """Book the next call; the seconds to wait before sending it."""
        with self._lock:
            now = self._now()
            tat = max(self._tat, now)
            wait = max(0.0, tat - now - (self.burst - 1) / self.rate)
            self._tat = tat + 1 / self.rate
            return wait

    def follow(self, header: str | None) -> None:
        """Adopt the rate the answer states (`x-amzn-RateLimit-Limit: 0.0056`); nonsense is ignored."""
        try:
            rate = float((header or "").strip())
        except ValueError:
            return
        if 0 < rate < 1e6 and rate != self.rate:
            with self._lock:
                now = self._now()
                if self._tat > now:           # calls booked at the old rate are owed at the new one
                    self._tat = now + (self._tat - now) * self.rate / rate
                self.rate = rate


class UsagePlans:
    """The buckets of one channel, made on first use from `plans` (defaults: `DEFAULT_PLANS`)."""

    def __init__(self, plans: dict[str, tuple[float, int]] | None = None, now: Callable[[], float] = time.monotonic):
        self._plans = {**DEFAULT_PLANS, **(plans or {})}
        self._now = now
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, operation: str) -> TokenBucket:
        with self._lock:
            if operation not in self._buckets:
                rate, burst = self._plans.get(operation, (1.0, 1))
                self._buckets[operation] = TokenBucket(rate, burst, self._now)
            return self._buckets[operation]
