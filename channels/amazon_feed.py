"""Quantities of many listings at once through a `JSON_LISTINGS_FEED` (Feeds API 2021-06-30), for pushes of
at least `feed_min_listings` listings (off unless set).

createFeedDocument, upload the feed to its pre-signed URL, createFeed, then getFeed every
`feed_poll_seconds` until DONE, FATAL or CANCELLED or `feed_wait_seconds` pass (a bounded loop), and read the
processing report: a message with an ERROR issue fails its listing alone, every other one is delivered. A
feed not done in time, or FATAL, leaves every listing retryable (the quantities are absolute: sending them
again is harmless). Every call here may be repeated safely: a second feed of the same quantities changes
nothing.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence

from channels.base import PushResult
from channels.errors import RetryableChannelError

FEED_MAX_MESSAGES = 25_000
CONTENT_TYPE = "application/json; charset=UTF-8"
FINAL = ("DONE", "FATAL", "CANCELLED")


def feed_document(seller_id: str, messages: Sequence[tuple[str, str, dict]]) -> dict:
    """The listings feed (schema v2) of (sku, productType, patch) messages, numbered from 1."""
    return {"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
            "messages": [{"messageId": n, "sku": sku, "operationType": "PATCH", "productType": product_type,
                          "patches": [patch]} for n, (sku, product_type, patch) in enumerate(messages, start=1)]}


def push_by_feed(adapter, updates: Sequence[tuple[str, int]]) -> list[PushResult]:
    """Send `updates` (listing id, quantity) as one feed; one result per listing, in the order given."""
    results: dict[int, PushResult] = {}
    messages, message_of = [], {}
    for index, (listing_id, quantity) in enumerate(updates):
        product_type, sep, sku = listing_id.partition("/")
        if not sep or not product_type or not sku:
            results[index] = PushResult(listing_id, False, f"listing id {listing_id!r} is not <productType>/<sku>: "
                                        "sync the channel's listings again")
            continue
        body = adapter._patch_body(product_type, quantity)
        messages.append((sku, product_type, body["patches"][0]))
        message_of[len(messages)] = index
    if messages:
        # a refused or throttled feed call raises: the pusher fails the whole batch, retryable or not
        done, problem, errors = _send(adapter, feed_document(adapter.options.seller_id, messages))
        for number, index in message_of.items():
            listing_id = updates[index][0]
            if not done:
                results[index] = PushResult(listing_id, False, problem, retryable=True)
            elif number in errors:
                results[index] = PushResult(listing_id, False, adapter.http.redact(f"feed: {errors[number]}"))
            else:
                results[index] = PushResult(listing_id, True)
    return [results[i] for i in range(len(updates))]


def _send(adapter, document: dict) -> tuple[bool, str, dict[int, str]]:
    """(done, why not, messageId -> ERROR issues) for one feed."""
    options = adapter.options
    r = adapter.call("createFeedDocument", "POST", "/feeds/2021-06-30/documents", idempotent=True,
                     json={"contentType": CONTENT_TYPE})
    if r.status_code != 201:
        raise adapter.refusal(r, "createFeedDocument")
    created = r.json()
    upload = adapter.http.request("PUT", created["url"], idempotent=True, content=json.dumps(document).encode(),
                                  headers={"Content-Type": CONTENT_TYPE})
    if upload.status_code not in (200, 201, 204):
        raise RetryableChannelError(f"channel {adapter.name}: the feed upload answered {upload.status_code}")
    r = adapter.call("createFeed", "POST", "/feeds/2021-06-30/feeds", idempotent=True,
                     json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [options.marketplace_id],
                           "inputFeedDocumentId": created["feedDocumentId"]})
    if r.status_code != 202:
        raise adapter.refusal(r, "createFeed")
    feed_id = r.json()["feedId"]
    polls = int(options.feed_wait_seconds // options.feed_poll_seconds) + 1
    feed = {}
    for attempt in range(polls):
        r = adapter.call("getFeed", "GET", f"/feeds/2021-06-30/feeds/{feed_id}", idempotent=True)
        if r.status_code != 200:
            raise adapter.refusal(r, "getFeed")
        feed = r.json()
        if feed.get("processingStatus") in FINAL:
            break
        if attempt + 1 < polls:
            adapter.http.wait(options.feed_poll_seconds)
    status = feed.get("processingStatus")
    if status not in FINAL:
        return False, (f"feed {feed_id} still {status} after {options.feed_wait_seconds:g} s "
                       "(its quantities are sent again with the next push)"), {}
    report = _report(adapter, feed.get("resultFeedDocumentId")) if feed.get("resultFeedDocumentId") else {}
    if status != "DONE":
        summary = "; ".join(f"{i.get('code')}: {i.get('message')}" for i in report.get("issues") or [])
        return False, f"feed {feed_id} ended {status}" + (f": {summary}" if summary else ""), {}
    errors: dict[int, list[str]] = {}
    for issue in report.get("issues") or []:
        if issue.get("severity") == "ERROR" and isinstance(issue.get("messageId"), int):
            errors.setdefault(issue["messageId"], []).append(f"{issue.get('code')}: {issue.get('message')}")
    return True, "", {n: "; ".join(texts) for n, texts in errors.items()}


def _report(adapter, document_id: str) -> dict:
    r = adapter.call("getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{document_id}", idempotent=True)
    if r.status_code != 200:
        raise adapter.refusal(r, "getFeedDocument")
    info = r.json()
    content = adapter.http.request("GET", info["url"], idempotent=True)
    if content.status_code != 200:
        raise RetryableChannelError(f"channel {adapter.name}: the feed report download answered {content.status_code}")
    data = gzip.decompress(content.content) if info.get("compressionAlgorithm") == "GZIP" else content.content
    try:
        return json.loads(data)
    except ValueError:
        raise RetryableChannelError(f"channel {adapter.name}: the feed processing report is not JSON") from None
