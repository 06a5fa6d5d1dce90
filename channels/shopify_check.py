"""`stockgate channels check` for a Shopify channel: the token, the app's access scopes, the location(s)
quantities go to and each query the channel uses, read-only; every failed step says what to fix.

A channel with `locations` has each configured location read (`location(id:)`, which needs the
`read_locations` scope); a location the shop does not have is named by its key as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from channels.base import CheckResult
from channels.errors import PermanentChannelError, RetryableChannelError
from channels.shopify import LOCATION, SCOPES, SCOPES_QUERY, variants_query
from channels.shopify_orders import ORDERS
from channels.tokens import TokenRefresher

if TYPE_CHECKING:
    from channels.shopify import ShopifyAdapter


def check_adapter(adapter: "ShopifyAdapter") -> list[CheckResult]:
    """The check's steps, in order: token, scopes, location(s), listings, orders."""
    try:
        if isinstance(adapter.tokens, TokenRefresher):
            adapter.tokens.refused(adapter.tokens.token())      # a fresh token proves the client id and secret
        data = adapter.graphql(SCOPES_QUERY)
    except (PermanentChannelError, RetryableChannelError) as exc:
        return [CheckResult("token", False, str(exc))]
    shop = (data.get("shop") or {}).get("name") or "?"
    results = [CheckResult("token", True, f"the {adapter.auth_kind} opens shop {shop!r} "
                                          f"(API version {adapter.options.api_version})")]
    granted = {s.get("handle") for s in ((data.get("currentAppInstallation") or {}).get("accessScopes") or [])}
    # a write scope implies its read scope
    granted |= {"read_" + s[6:] for s in granted if s and s.startswith("write_")}
    missing = [s for s in SCOPES if s not in granted]
    if not adapter.options.location_id and not adapter.locations and "read_locations" not in granted:
        missing.append("read_locations")
    results.append(CheckResult("scopes", not missing, "the app has every access scope StockGate uses" if not missing
                               else "the app lacks the access scope(s) " + ", ".join(
                                   f"{s} ({SCOPES.get(s, 'finding the primary location')})" for s in missing)
                               + ": add them to the app's configuration and reinstall it"))
    places = list(adapter.locations.values()) or [None]

    def listings() -> str:
        at = [p or adapter.location() for p in places]
        adapter.graphql(variants_query(len(at)), {"first": 1, "after": None, "query": None,
                                                  **{f"at{n}": gid for n, gid in enumerate(at)}})
        return "variants readable"

    steps = [("location", lambda: _location(adapter, "read_locations" in granted)), ("listings", listings),
             ("orders", lambda: adapter.graphql(ORDERS, {"first": 1, "after": None, "query": None})
              and "orders readable")]
    for step, run in steps:
        try:
            results.append(CheckResult(step, True, str(run())))
        except (PermanentChannelError, RetryableChannelError) as exc:
            results.append(CheckResult(step, False, str(exc)))
    return results


def _location(adapter: "ShopifyAdapter", may_read: bool) -> str:
    if adapter.locations:
        if not may_read:
            raise PermanentChannelError("the app lacks the access scope read_locations, needed to check the "
                                        "channel's locations (pushes do not need it): add it to check them")
        found, unknown = [], []
        for key, gid in adapter.locations.items():
            location = adapter.graphql(LOCATION, {"id": gid}).get("location")
            if location:
                found.append(f"{location.get('name')!r} ({key})")
            else:
                unknown.append(key)
        if unknown:
            raise PermanentChannelError(f"location{'s' * (len(unknown) > 1)} {', '.join(unknown)}: no such location in the shop (its "
                                        "locations are under Settings > Locations; fix the channel's `locations`)")
        return "quantities go to locations " + ", ".join(found)
    if adapter.options.location_id:
        found = adapter.graphql(LOCATION, {"id": adapter._location}).get("location")
        if not found:
            raise PermanentChannelError(f"location_id {adapter.options.location_id}: no such location in the shop")
        return f"quantities go to location {found.get('name')!r} ({found['id']})"
    return f"quantities go to the shop's primary location ({adapter.location()})"
