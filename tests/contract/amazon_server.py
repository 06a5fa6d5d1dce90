"""An SP-API contract server for tests: a real HTTP server on 127.0.0.1, port 0, speaking what the `amazon`
adapter calls (LWA `/auth/o2/token`, Listings Items `patchListingsItem` / `searchListingsItems`, Orders
v2026-01-01 `searchOrders`, the Feeds API for a JSON_LISTINGS_FEED with its documents at `/s3/<id>`) with
SP-API's headers, answers and failures (CHANNEL_APIS.md sections 2 and 10).

Every SP-API request is validated against `../shared/specs/amazon/{listingsItems_2021-08-01,
orders_2026-01-01,feeds_2021-06-30}.json` (OpenAPI 2, read as OpenAPI 3 by `swagger2`), an uploaded feed
against `listings-feed-schema-v2.json`; a violation answers 400 `InvalidInput` and is kept in
`market.violations`. LWA has no description there and is checked by hand, as are the rules
the models state in words (lastUpdatedBefore two minutes in the past, a pagination token only with the
parameters that produced it). Without the folder nothing is validated (`validating` is False) and the tests
that prove validation skip. SP-API's exact 401/403 bodies are unconfirmed: an expired token answers
`market.expired_status` (403 by default) with `Unauthorized`.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import datetime
from urllib.parse import unquote

import jsonschema

from amazon_market import AmazonMarket, errors_body, iso
from base_server import ContractServer, JsonHandler, canned_failure, query_params
from spec_validation import SpecValidator
from swagger2 import openapi3

DENIED = "Access to requested resource is denied."
QUOTA = errors_body("QuotaExceeded", "You exceeded your quota for the requested resource.")
LAG_SECONDS = 120


def _time(text: str | None) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


INTERNAL = errors_body("InternalFailure", "We encountered an internal error. Please try again.")
FAILURES = {429: QUOTA, 500: INTERNAL, 503: INTERNAL}


class _Handler(JsonHandler):
    server: "AmazonServer"
    market_clock_date = False

    do_PATCH = do_POST = do_PUT = do_DELETE = JsonHandler.do_GET

    def _send(self, status: int, body: dict | None = None, headers: dict[str, str] | None = None,
              operation: str | None = None) -> None:
        market = self.server.market
        first = [("x-amzn-RequestId", str(uuid.uuid4()))]
        if operation in market.plans and self.server.rate_header:
            first.append(("x-amzn-RateLimit-Limit", f"{market.plans[operation][0]:g}"))
        super()._send(status, body, headers, first=tuple(first))

    def handle_request(self) -> None:
        market = self.server.market
        path, query, body, headers = self.read_request()
        if path == "/auth/o2/token" and self.command == "POST":
            return self._token(body)
        if path.startswith("/s3/"):                  # the pre-signed document URLs: no SP-API token
            return self._s3(path.split("/")[2], body)
        route = self._route(path)
        if route is None:
            return self._send(404, errors_body("NotFound", f"no route {self.command} {path}"))
        operation, handler, role = route
        state = market.token_state(self.headers.get("x-amz-access-token"))
        failure = market.take_failure(self.command, path)
        if failure is not None and failure.kind == "expired":
            state = "expired"
        if state != "ok":
            details = {"missing": "The request is missing the x-amz-access-token header.",
                       "invalid": "The access token you provided is revoked, malformed or invalid.",
                       "expired": "The access token you provided has expired."}[state]
            status = market.expired_status if state == "expired" else 403
            return self._send(status, errors_body("Unauthorized", DENIED, details), operation=operation)
        if role not in market.roles or (failure is not None and failure.kind == "403"):
            return self._send(403, errors_body("Unauthorized", DENIED, ""), operation=operation)
        canned = canned_failure(failure, FAILURES)
        if canned:
            return self._send(*canned, operation=operation)
        if not market.take_quota(operation):
            return self._send(429, QUOTA, operation=operation)
        problem = self.spec_problem(path, query, headers, body)
        if problem:
            return self._send(400, errors_body("InvalidInput", problem), operation=operation)
        status, answer = handler(path, query, body)
        return self.answer_applied(failure, status, answer, errors_body("ServiceUnavailable",
                                   "Service temporarily unavailable."), operation=operation)

    def _route(self, path: str):
        parts = path.split("/")
        if path.startswith("/listings/2021-08-01/items/"):
            if self.command == "PATCH" and len(parts) == 6:
                return "patchListingsItem", self._patch, "listings"
            if self.command == "GET" and len(parts) == 5:
                return "searchListingsItems", self._search_listings, "listings"
        if self.command == "GET" and path == "/orders/2026-01-01/orders":
            return "searchOrders", self._search_orders, "orders"
        if self.command == "POST" and path == "/feeds/2021-06-30/documents":
            return "createFeedDocument", self._create_document, "listings"
        if self.command == "POST" and path == "/feeds/2021-06-30/feeds":
            return "createFeed", self._create_feed, "listings"
        if self.command == "GET" and path.startswith("/feeds/2021-06-30/feeds/") and len(parts) == 5:
            return "getFeed", self._get_feed, "listings"
        if self.command == "GET" and path.startswith("/feeds/2021-06-30/documents/") and len(parts) == 5:
            return "getFeedDocument", self._get_document, "listings"
        return None

    # --- LWA ------------------------------------------------------------------------------------------

    def _token(self, body: bytes):
        market = self.server.market
        failure = market.take_failure("POST", "/auth/o2/token")
        canned = canned_failure(failure, {429: {"error": "slow_down", "error_description": "too many requests"}})
        if canned:
            return self._send(*canned)
        form = self.form(body) or {}
        if form.get("grant_type") != "refresh_token" or not form.get("refresh_token"):
            return self._send(400, {"error": "invalid_request",
                                    "error_description": "grant_type=refresh_token and refresh_token are required"})
        if market.clients.get(form.get("client_id")) != form.get("client_secret"):
            return self._send(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if market.refresh_tokens.get(form["refresh_token"]) != form.get("client_id"):
            return self._send(400, {"error": "invalid_grant", "error_description":
                                    "The request has an invalid grant parameter : refresh_token"})
        return self._send(200, {"access_token": market.issue_token(), "token_type": "bearer", "expires_in": 3600,
                                "refresh_token": form["refresh_token"]})

    # --- Listings Items -------------------------------------------------------------------------------

    def _patch(self, path: str, query: str, body: bytes):
        market = self.server.market
        seller, sku = unquote(path.split("/")[4]), unquote(path.split("/")[5])
        if seller != market.seller_id:
            return 403, errors_body("Unauthorized", DENIED, "")
        sent = json.loads(body)
        market.patches.append({"sku": sku, "body": sent})
        answer = {"sku": sku, "status": "ACCEPTED", "submissionId": secrets.token_hex(16), "issues": []}

        def invalid(code: str, message: str, attribute: str | None = None):
            issue = {"code": code, "message": message, "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}
            if attribute:
                issue["attributeNames"] = [attribute]
            return 200, {**answer, "status": "INVALID", "issues": [issue]}

        with market.lock:
            listing = market.listing(sku)
            if listing is None:
                return invalid("4000001", f"The SKU {sku} does not exist for this seller.")
            if sku in market.listing_errors:
                issue = market.listing_errors[sku]
                return invalid(issue["code"], issue["message"], issue.get("attribute"))
            if sent["productType"] != listing["productType"]:
                return invalid("99022", f"The product type {sent['productType']} does not match the listing's "
                                        f"{listing['productType']}.")
            for patch in sent["patches"]:
                if patch["path"] != "/attributes/fulfillment_availability":
                    return invalid("90000900", f"StockGate's contract server takes fulfillment_availability only, "
                                               f"not {patch['path']}")
                for value in patch.get("value") or []:
                    code, quantity = value.get("fulfillment_channel_code"), value.get("quantity")
                    if not code or not isinstance(quantity, int) or quantity < 0:
                        return invalid("90000900", "fulfillment_channel_code and a quantity of 0 or more are "
                                                   "required", "fulfillment_availability")
                    if sku not in market.not_applied:
                        listing["availability"][code] = quantity
        return 200, answer

    def _page_start(self, token: str | None, key: tuple) -> int | None:
        market = self.server.market
        if not token:
            return 0
        issued = market.page_tokens.get(token)
        if issued is None or issued[0] != key:
            return None
        for hook in list(market.on_page):
            hook()
        market.on_page.clear()
        return issued[1]

    def _issue(self, key: tuple, start: int) -> str:
        token = secrets.token_urlsafe(18)
        self.server.market.page_tokens[token] = (key, start)
        return token

    def _search_listings(self, path: str, query: str, body: bytes):
        market = self.server.market
        seller = unquote(path.split("/")[4])
        if seller != market.seller_id:
            return 403, errors_body("Unauthorized", DENIED, "")
        params = query_params(query)
        size = int(params.get("pageSize", "10"))
        key = ("listings", params.get("marketplaceIds"))
        with market.lock:
            start = self._page_start(params.get("pageToken"), key)
            if start is None:
                return 400, errors_body("InvalidInput", "Invalid pageToken.")
            shown = market.listings[:1000]          # at most 1000 SKUs can be paged through
            page = [market.item(l) for l in shown[start:start + size]]
            answer = {"numberOfResults": len(market.listings), "items": page}
            if start + size < len(shown):
                answer["pagination"] = {"nextToken": self._issue(key, start + size)}
            return 200, answer

    # --- Feeds 2021-06-30 and the documents' pre-signed URLs -----------------------------------------

    def _create_document(self, path: str, query: str, body: bytes):
        market = self.server.market
        document = secrets.token_hex(12)
        with market.lock:
            market.documents[document] = None
        return 201, {"feedDocumentId": document, "url": f"{self.server.url}/s3/{document}?X-Amz-Signature=contract"}

    def _s3(self, document: str, body: bytes):
        market = self.server.market
        with market.lock:
            if document not in market.documents:
                return self._send(404, {"error": "NoSuchKey"})
            if self.command == "PUT":
                market.documents[document] = body
                return self._send(200, {})
            return self._send(200, json.loads(market.documents[document] or b"{}"))

    def _create_feed(self, path: str, query: str, body: bytes):
        market = self.server.market
        sent = json.loads(body)
        with market.lock:
            content = market.documents.get(sent["inputFeedDocumentId"])
            if content is None:
                return 400, errors_body("InvalidInput", "inputFeedDocumentId was never uploaded.")
            if sent["feedType"] != "JSON_LISTINGS_FEED":
                return 400, errors_body("InvalidInput", f"the contract server takes JSON_LISTINGS_FEED only")
            problem = self.server.feed_schema_error(json.loads(content))
            if problem:
                market.violations.append(f"feed document: {problem}")
                return 400, errors_body("InvalidInput", problem)
            feed_id = str(50000 + len(market.feeds))
            market.feeds[feed_id] = {"document": json.loads(content), "polls": 0, "status": "IN_QUEUE",
                                     "created": iso(market.now()), "result": None}
            return 202, {"feedId": feed_id}

    def _get_feed(self, path: str, query: str, body: bytes):
        market = self.server.market
        feed_id = path.split("/")[4]
        with market.lock:
            feed = market.feeds.get(feed_id)
            if feed is None:
                return 404, errors_body("NotFound", f"feed {feed_id} not found")
            feed["polls"] += 1
            if feed["status"] not in ("DONE", "FATAL"):
                if feed["polls"] > market.feed_polls_to_done:
                    self._process(feed_id, feed)
                else:
                    feed["status"] = "IN_QUEUE" if feed["polls"] == 1 else "IN_PROGRESS"
            answer = {"feedId": feed_id, "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": ["ATVPDDKIKX0DER"],
                      "createdTime": feed["created"], "processingStatus": feed["status"]}
            if feed["result"]:
                answer["resultFeedDocumentId"] = feed["result"]
            return 200, answer

    def _process(self, feed_id: str, feed: dict) -> None:
        market = self.server.market
        issues, accepted = [], 0
        if market.feed_fatal:
            feed["status"] = "FATAL"
            issues.append({"code": "100001", "severity": "ERROR", "message": "The feed could not be processed."})
        else:
            feed["status"] = "DONE"
            for message in feed["document"]["messages"]:
                problem = self._apply_message(message)
                if problem:
                    issues.append({"messageId": message["messageId"], "sku": message["sku"], "severity": "ERROR",
                                   "code": problem[0], "message": problem[1]})
                else:
                    accepted += 1
        count = len(feed["document"]["messages"])
        report = {"header": {"sellerId": market.seller_id, "version": "2.0", "feedId": feed_id}, "issues": issues,
                  "summary": {"errors": len(issues), "warnings": 0, "messagesProcessed": count,
                              "messagesAccepted": accepted, "messagesInvalid": count - accepted}}
        document = secrets.token_hex(12)
        market.documents[document] = json.dumps(report).encode()
        feed["result"] = document

    def _apply_message(self, message: dict) -> tuple[str, str] | None:
        market = self.server.market
        sku = message["sku"]
        listing = market.listing(sku)
        if listing is None:
            return "4000001", f"The SKU {sku} does not exist for this seller."
        if sku in market.listing_errors:
            return market.listing_errors[sku]["code"], market.listing_errors[sku]["message"]
        if message.get("productType") != listing["productType"]:
            return "99022", f"The product type {message.get('productType')} does not match the listing's."
        for patch in message.get("patches") or []:
            for value in patch.get("value") or []:
                if sku not in market.not_applied:
                    listing["availability"][value["fulfillment_channel_code"]] = value["quantity"]
        return None

    def _get_document(self, path: str, query: str, body: bytes):
        market = self.server.market
        document = path.split("/")[4]
        if market.documents.get(document) is None:
            return 404, errors_body("NotFound", f"document {document} not found")
        return 200, {"feedDocumentId": document, "url": f"{self.server.url}/s3/{document}?X-Amz-Signature=contract"}

    # --- Orders v2026-01-01 ---------------------------------------------------------------------------

    def _search_orders(self, path: str, query: str, body: bytes):
        market = self.server.market
        params = query_params(query)
        if ("createdAfter" in params) == ("lastUpdatedAfter" in params):
            return 400, errors_body("InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required.")
        if "createdAfter" in params:
            return 400, errors_body("InvalidInput", "The contract server answers lastUpdatedAfter searches only.")
        after, before = _time(params["lastUpdatedAfter"]), _time(params.get("lastUpdatedBefore"))
        now = market.now()
        if after is None or (before is None and "lastUpdatedBefore" in params):
            return 400, errors_body("InvalidInput", "Dates must be in ISO 8601 format.")
        if before is None:
            before = now - LAG_SECONDS
        if before > now - LAG_SECONDS:
            return 400, errors_body("InvalidInput", "lastUpdatedBefore must be at least two minutes before the "
                                                    "time of the request.")
        if before < after:
            return 400, errors_body("InvalidInput", "lastUpdatedBefore must be equal to or after lastUpdatedAfter.")
        size = int(params.get("maxResultsPerPage", "100"))
        key = ("orders",) + tuple(sorted((k, v) for k, v in params.items()
                                         if k not in ("paginationToken", "maxResultsPerPage", "includedData")))
        with market.lock:
            start = self._page_start(params.get("paginationToken"), key)
            if start is None:
                return 400, errors_body("InvalidInput", "The paginationToken is invalid, expired, or was issued "
                                                        "for other parameters.")
            cancellation = "CANCELLATION" in params.get("includedData", "").split(",")
            shown = market.visible_orders(after, before)
            page = []
            for o in shown[start:start + size]:
                out = {k: v for k, v in o.items() if not k.startswith("_")}
                if not cancellation:
                    out["orderItems"] = [{k: v for k, v in i.items() if k != "cancellation"}
                                         for i in out["orderItems"]]
                page.append(out)
            answer = {"orders": page, "lastUpdatedBefore": iso(before)}
            if start + size < len(shown):
                answer["pagination"] = {"nextToken": self._issue(key, start + size)}
            return 200, answer


class AmazonServer(ContractServer):
    """The server on 127.0.0.1 port 0; `url` is where it listens, `market` its state."""

    def __init__(self, market: AmazonMarket | None = None):
        super().__init__(_Handler, market or AmazonMarket(), "amazon",
                         SpecValidator.cached("amazon", ("listingsItems_2021-08-01.json", "orders_2026-01-01.json",
                                                         "feeds_2021-06-30.json"), openapi3))
        self.rate_header = True
        schema = self.validator.folder / "listings-feed-schema-v2.json"
        self._feed_schema = jsonschema.Draft7Validator(json.loads(schema.read_text())) if schema.is_file() else None

    @property
    def token_url(self) -> str:
        return self.url + "/auth/o2/token"

    def feed_schema_error(self, document: dict) -> str | None:
        """What the listings feed schema (v2) finds wrong in an uploaded feed, or None."""
        if self._feed_schema is None:
            return None
        error = next(iter(self._feed_schema.iter_errors(document)), None)
        return None if error is None else f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
