"""The GraphQL client of the `shopify` adapter: one Admin API call with the shop's token, the cost bucket
obeyed, a refused token renewed once, and Shopify's errors in words (docs/channels/shopify.md).

The token is a custom app's (`StaticToken`: it does not expire; a 401 means it was revoked) or one fetched
by the client credentials grant (`POST /admin/oauth/access_token`, about 24 h) through the channel's one
`TokenRefresher`. Every answer's `extensions.cost.throttleStatus` is remembered (`CostBucket`): a call
waits first when the bucket cannot cover its last requested cost, and a `THROTTLED` answer (HTTP 200;
a 429 is the HTTP client's) waits (cost - available) / restoreRate, from the caller's wait budget.
"""

from __future__ import annotations

import email.utils
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from channels.errors import PermanentChannelError, RetryableChannelError
from channels.http import ChannelHttp, ThrottledError, WaitBudget
from channels.tokens import AccessToken, TokenRefresher, TokenStore

CLIENT_CREDENTIALS_SECONDS = 86_399.0     # used when the token answer has no expires_in (lifetime unconfirmed)


class StaticToken:
    """A custom app's access token: it does not expire; refused once, it is refused for good."""

    fetches = 0

    def __init__(self, value: str):
        self.value = value

    def token(self) -> str:
        return self.value

    def refused(self, value: str) -> None:
        pass


class CostBucket:
    """Shopify's calculated-cost leaky bucket as the last answer reported it."""

    def __init__(self) -> None:
        self.maximum = self.available = self.rate = None
        self.at = 0.0
        self.costs: dict[str, float] = {}

    def note(self, extensions: dict | None, now: float, operation: str) -> None:
        cost = (extensions or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            self.maximum = float(status["maximumAvailable"])
            self.available = float(status["currentlyAvailable"])
            self.rate = float(status["restoreRate"])
            self.at = now
        except (KeyError, TypeError, ValueError):
            pass
        if cost.get("requestedQueryCost") is not None:
            self.costs[operation] = float(cost["requestedQueryCost"])

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` points (0 when it does, or nothing is known)."""
        if self.available is None or not self.rate:
            return 0.0
        available = min(self.maximum or cost, self.available + (now - self.at) * self.rate)
        return max(0.0, (cost - available) / self.rate)


class ShopifyGraphql:
    """Admin GraphQL calls of one channel at `/admin/api/{version}/graphql.json` over `http`, with a
    custom app's `access_token` or `client_id` + `client_secret` (client credentials, shared via `store`)."""

    def __init__(self, name: str, http: ChannelHttp, version: str, *, access_token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None, store: TokenStore | None = None,
                 margin_seconds: float = 3600.0, now=time.time):
        self.name, self.http, self.version, self._now = name, http, version, now
        self.path = f"/admin/api/{version}/graphql.json"
        self.bucket = CostBucket()
        self.server_time: str | None = None       # the Date of the last answer, ISO
        if access_token:
            http.redact.add(access_token)
            self.tokens: Any = StaticToken(access_token)
            self.auth_kind = "access token"
        elif client_id and client_secret:
            http.redact.add(client_id, client_secret)
            self._client = (client_id, client_secret)
            self.tokens = TokenRefresher(self._fetch_token, store, margin_seconds=margin_seconds,
                                         now=now, on_new=http.redact.add)
            self.auth_kind = "client credentials"
        else:
            raise ValueError("an access token, or a client id and secret, is required")

    def _fetch_token(self) -> AccessToken:
        client_id, client_secret = self._client
        r = self.http.request("POST", "/admin/oauth/access_token", idempotent=True,
                              data={"grant_type": "client_credentials", "client_id": client_id,
                                    "client_secret": client_secret}, headers={"Accept": "application/json"})
        if r.status_code != 200:
            what = "refused the client id and secret" if r.status_code in (400, 401, 403) else "failed"
            raise PermanentChannelError(self.http.redact(
                f"channel {self.name}: shopify token request {what} ({r.status_code}: {errors_text(r)})"))
        try:
            body = r.json()
            lifetime = float(body.get("expires_in") or CLIENT_CREDENTIALS_SECONDS)
            return AccessToken(str(body["access_token"]), self._now() + lifetime)
        except (KeyError, TypeError, ValueError):
            raise PermanentChannelError(f"channel {self.name}: shopify token answer without access_token") from None

    def __call__(self, document: str, variables: dict | None = None, *, idempotent: bool = True,
                budget: WaitBudget | None = None) -> dict:
        """Run one GraphQL document; its `data`. Waits out the cost bucket (from `budget`), refreshes a
        refused token once; PermanentChannelError naming a missing scope or a refused token."""
        budget = budget or self.http.budget()
        operation = (re.search(r"(?:query|mutation)\s+(\w+)", document) or [None, "?"])[1]
        refreshed = False
        for attempt in range(1, self.http.policy.max_attempts + 1):
            wait = self.bucket.wait_for(self.bucket.costs.get(operation, 10.0), self._now())
            if wait > 0:
                self.http.pause(wait, budget, f"{operation}: the cost bucket is short")
            token = self.tokens.token()
            r = self.http.request("POST", self.path, idempotent=idempotent, budget=budget,
                                  headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
                                  json={"query": document, "variables": variables or {}})
            if r.status_code == 401:
                self.tokens.refused(token)
                if refreshed or isinstance(self.tokens, StaticToken):
                    raise PermanentChannelError(self.http.redact(
                        f"channel {self.name}: shopify refused the {self.auth_kind} (401: {errors_text(r)}): "
                        + ("the token was revoked or the app uninstalled; create a new token"
                           if isinstance(self.tokens, StaticToken) else "check the client id and secret")))
                refreshed = True
                continue
            if r.status_code != 200:
                raise self.refuse(r, operation)
            try:
                body = r.json()
            except ValueError:
                raise RetryableChannelError(f"channel {self.name}: shopify {operation} answered 200 without "
                                            f"JSON: {r.text[:120]!r}") from None
            self.bucket.note(body.get("extensions"), self._now(), operation)
            self.server_time = _date_iso(r) or self.server_time
            errors = body.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                cost = ((body.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost") or 10
                self.http.pause(max(self.bucket.wait_for(float(cost), self._now()), 0.05), budget,
                                f"{operation} answered THROTTLED (cost {cost})")
                continue
            if errors:
                raise PermanentChannelError(self.http.redact(
                    f"channel {self.name}: shopify {operation} refused: {graphql_errors(errors)}"))
            return body.get("data") or {}
        raise ThrottledError(f"channel {self.name}: shopify {operation} kept being throttled "
                             "(left for a later retry)")

    def refuse(self, r: httpx.Response, operation: str) -> PermanentChannelError:
        hints = {402: " (the shop is frozen: its plan is unpaid)", 403: " (the app lacks a permission)",
                 404: f" (no such shop, or API version {self.version} is not served)",
                 423: " (the shop is locked)"}
        return PermanentChannelError(self.http.redact(
            f"channel {self.name}: shopify {operation} answered {r.status_code}{hints.get(r.status_code, '')}: "
            f"{errors_text(r)}"))

def _date_iso(r: httpx.Response) -> str | None:
    """The server's clock from the `Date` header, ISO."""
    try:
        return iso(email.utils.parsedate_to_datetime(r.headers["date"]).timestamp())
    except (KeyError, TypeError, ValueError):
        return None


def iso(seconds: float) -> str:
    """POSIX seconds as ISO-8601 UTC to the second (`2026-11-26T08:30:00Z`)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def graphql_errors(errors: list) -> str:
    """GraphQL `errors` in one line, an ACCESS_DENIED naming the scope it needs."""
    parts = []
    for e in errors[:5]:
        if not isinstance(e, dict):
            parts.append(str(e)[:200])
            continue
        ext = e.get("extensions") or {}
        text = f"{ext.get('code') or 'ERROR'}: {e.get('message')}"
        if ext.get("requiredAccess"):
            text += f" (required access: {ext['requiredAccess']})"
        parts.append(text)
    return "; ".join(parts)


def errors_text(r: httpx.Response) -> str:
    """Shopify's error body in one line (`{"errors": "..."}`, `{"errors": [...]}`, OAuth's
    `error_description`), or the body's start."""
    try:
        body = r.json()
    except ValueError:
        return r.text[:200] or r.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            return graphql_errors(errors)
        if errors:
            return str(errors)[:200]
        if body.get("error"):
            return f"{body['error']}: {body.get('error_description') or ''}".strip()
    return str(body)[:200]
