"""`stockgate channels check` for an eBay channel: the refresh token, each OAuth scope, each API, read-only.

A token request naming every scope is tried first; when eBay refuses the scopes, each one is asked for
alone so the answer names the scope the seller did not grant. Then each API the channel uses is read once
(a 403 names the scope its operation needs), and the merchant location quantities go to is looked up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from channels.base import CheckResult
from channels.ebay_answers import errors_text, token_problem
from channels.errors import PermanentChannelError, RetryableChannelError

if TYPE_CHECKING:
    from channels.ebay import EbayAdapter


def _scope_steps(adapter: "EbayAdapter") -> list[CheckResult]:
    missing = []
    for scope in adapter.options.scopes.split():
        r = adapter._token_answer(scope)
        if r.status_code != 200:
            missing.append((scope, token_problem(r)))
    if not missing:
        return [CheckResult("scopes", False, "eBay refused the scopes together but grants each alone")]
    return [CheckResult("scopes", False, adapter.http.redact(
        f"the refresh token lacks scope {scope}: grant it again through eBay's consent page with this scope "
        f"({problem})")) for scope, problem in missing]


def check_adapter(adapter: "EbayAdapter") -> list[CheckResult]:
    """The check's steps, in order; every failure says what to fix."""
    from channels.ebay import FULFILLMENT, INVENTORY, SCOPES

    try:
        adapter.tokens.refused(adapter.tokens.token())         # a fresh token proves the refresh token
        adapter.tokens.token()
    except RetryableChannelError as exc:
        return [CheckResult("token", False, str(exc))]
    except PermanentChannelError as exc:
        results = [CheckResult("token", False, str(exc))]
        if "refused the scopes" in str(exc):
            try:
                results += _scope_steps(adapter)
            except (PermanentChannelError, RetryableChannelError) as again:
                results.append(CheckResult("scopes", False, str(again)))
        return results
    results = [CheckResult("token", True, f"the refresh token gives a user access token for "
                                          f"{', '.join(s.rsplit('/', 1)[-1] for s in adapter.options.scopes.split())}")]
    since = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    steps = [("inventory", "Inventory", SCOPES[0], f"{INVENTORY}/inventory_item?limit=1&offset=0"),
             ("orders", "Fulfillment", SCOPES[1], f"{FULFILLMENT}/order?filter=lastmodifieddate:%5B{since}..%5D"
                                                  "&limit=1&offset=0")]
    for step, api, scope, url in steps:
        try:
            r = adapter.call("GET", url, idempotent=True)
        except (PermanentChannelError, RetryableChannelError) as exc:
            results.append(CheckResult(step, False, str(exc)))
            continue
        if r.status_code == 200:
            results.append(CheckResult(step, True, f"the token may read the {api} API"))
        elif r.status_code == 403:
            results.append(CheckResult(step, False, f"the token lacks scope {scope} for the {api} API (403): "
                                                    "grant it through eBay's consent page"))
        else:
            results.append(CheckResult(step, False, adapter.http.redact(f"{api} API answered {r.status_code}: "
                                                                        f"{errors_text(r)}")))
    results.append(_location_step(adapter))
    return results


def _location_step(adapter: "EbayAdapter") -> CheckResult:
    """The merchant location quantities go to: the configured one must exist, else the first enabled one."""
    from channels.ebay import INVENTORY

    key = adapter.options.merchant_location_key
    try:
        if key is not None:
            r = adapter.call("GET", f"{INVENTORY}/location/{quote(key, safe='')}", idempotent=True)
            if r.status_code != 200:
                return CheckResult("location", False, adapter.http.redact(
                    f"merchant_location_key {key!r}: eBay has no such inventory location ({r.status_code}: "
                    f"{errors_text(r)}); create it in Seller Hub or name another"))
            location = key
        else:
            location = adapter.location()
    except (PermanentChannelError, RetryableChannelError) as exc:
        return CheckResult("location", False, str(exc))
    return CheckResult("location", True, f"quantities go to merchant location {location}" if location
                       else "no merchant location: quantities go to the item as a whole")
