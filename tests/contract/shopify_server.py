"""A Shopify Admin GraphQL contract server for tests: a real HTTP server on 127.0.0.1, port 0, serving
`POST /admin/api/{version}/graphql.json` and the client credentials grant `POST /admin/oauth/access_token`
with Shopify's headers, answers and failures (CHANNEL_APIS.md sections 1 and 10).
The request plumbing (each request recorded, JSON answers, a write applied whose answer is lost) is
`base_server`'s.

Shopify publishes no schema file (it is only served by introspection; none is stored in ../shared/specs),
so no published schema is validated here. Instead every GraphQL document received is parsed and validated
by graphql-core against `shopify_schema.SDL`, a hand-written subset of the Admin API written from the documented
operations, arguments, input objects and enums of CHANNEL_APIS.md section 1 (`inventorySetQuantities`,
`productVariants`, `orders`, `orderCancel`, `location`, `nodes`, `currentAppInstallation`), and executed
over `ShopifyMarket` (`shopify_resolvers`). A document or variables the subset refuses is answered as Shopify does (HTTP 200,
`errors`) and kept in `market.violations`. Version rules: from 2026-04 `inventorySetQuantities` without
`@idempotent` and an entry without an explicit `changeFromQuantity` are runtime errors. Locations: levels are
kept per inventory item and location; a location id that is not a gid (`location(id:)`,
`inventoryLevel(locationId:)`, an entry's `locationId`) is refused as Shopify does (`Invalid global id`)
and kept in `market.violations`.

The cost of a document approximates Shopify's calculated query cost: an object 1, a connection
2 + first x its node's cost, a list by ids len(ids) x the element's cost, scalars 0, a mutation 10. The
requested cost must be in the bucket; the bucket is then charged the actual cost (about one point per
object in the answer, so a short page costs little), as Shopify does; a
document over `bucket_max` is refused (MAX_COST_EXCEEDED); a bucket short of the cost answers THROTTLED
with HTTP `market.throttle_status` (200 or 429). Every answer carries `extensions.cost.throttleStatus`.
"""

from __future__ import annotations

import json
import re

from graphql import FieldNode, OperationDefinitionNode, execute, parse, validate, value_from_ast_untyped
from graphql.error import GraphQLError

from base_server import ContractServer, JsonHandler, canned_failure
from shopify_market import ShopifyMarket
from shopify_resolvers import Root
from shopify_schema import SCHEMA, objects, query_cost

VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10", "2027-01")
SCOPE_OF = {"productVariants": "read_products", "nodes": "read_inventory", "orders": "read_orders",
            "order": "read_orders", "inventorySetQuantities": "write_inventory", "orderCancel": "write_orders",
            "location": "read_locations"}

def _error(message: str, code: str, **extensions) -> dict:
    return {"message": message, "extensions": {"code": code, **extensions}}


class _Handler(JsonHandler):
    server: "ShopifyServer"

    do_POST = do_PUT = JsonHandler.do_GET

    def handle_request(self) -> None:
        market = self.server.market
        path, _, body, _ = self.read_request(operation=None)
        if path == "/admin/oauth/access_token" and self.command == "POST":
            return self._token(body)
        found = re.fullmatch(r"/admin/api/([^/]+)/graphql\.json", path)
        if not found or self.command != "POST":
            return self._send(404, {"errors": "Not Found"})
        if found[1] not in VERSIONS:
            return self._send(404, {"errors": f"API version {found[1]} is not supported"})
        if not market.token_valid(self.headers.get("X-Shopify-Access-Token")):
            return self._send(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                                              "password)"})
        try:
            request = json.loads(body)
            source, variables = request["query"], request.get("variables") or {}
            document = parse(source)
        except (ValueError, KeyError, TypeError, GraphQLError) as exc:
            market.violations.append(f"unparsable request: {exc}")
            return self._send(200, {"errors": [_error(f"Parse error: {exc}", "PARSE_ERROR")]})
        operation = next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None)
        name = operation.name.value if operation is not None and operation.name else ""
        self.record["operation"], self.record["variables"] = name, variables
        problems = validate(SCHEMA, document)
        if problems:
            market.violations.append(f"{name}: " + "; ".join(p.message for p in problems))
            return self._send(200, {"errors": [_error(p.message, "GRAPHQL_VALIDATION_FAILED") for p in problems]})
        failure = market.take_failure(name)
        if failure is not None and failure.kind == "401":
            return self._send(401, {"errors": "[API] Invalid API key or access token"})
        cost = query_cost(document, variables)
        if cost > market.bucket_max:
            return self._send(200, {"errors": [_error(f"Query cost is {cost}, which exceeds the single query max "
                                                      f"cost limit ({market.bucket_max:.0f}).", "MAX_COST_EXCEEDED")],
                                    "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None}}})
        if failure is not None and failure.kind in ("429", "429_throttled", "throttled_200"):
            allowed, status = False, {"maximumAvailable": market.bucket_max, "currentlyAvailable": 0,
                                      "restoreRate": market.restore_rate}
        else:
            allowed, status = market.take_cost(cost)
        if not allowed:
            throttled = {"errors": [_error("Throttled", "THROTTLED",
                                           documentation="https://shopify.dev/api/usage/rate-limits")],
                         "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                                 "throttleStatus": status}}}
            http = 429 if (failure is not None and failure.kind.startswith("429")) or market.throttle_status == 429 \
                else 200
            if failure is not None and failure.kind == "429":
                return self._send(429, {"errors": "Exceeded 2 calls per second for api client."}, failure.headers)
            return self._send(http, throttled, failure.headers if failure is not None else None)
        granted = market.scopes | {"read_" + s[6:] for s in market.scopes if s.startswith("write_")}
        for field in operation.selection_set.selections:
            if isinstance(field, FieldNode) and SCOPE_OF.get(field.name.value) not in (None, *granted):
                needed = SCOPE_OF[field.name.value]
                return self._send(200, {"data": None, "errors": [_error(
                    f"Access denied for {field.name.value} field. Required access: `{needed}` access scope.",
                    "ACCESS_DENIED", requiredAccess=f"`{needed}` access scope.")],
                    "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost,
                                            "throttleStatus": status}}})
        key = None
        for field in operation.selection_set.selections:
            for directive in getattr(field, "directives", ()) or ():
                if directive.name.value == "idempotent":
                    key = value_from_ast_untyped(directive.arguments[0].value, variables)
        if failure is not None and failure.kind == "concurrent":
            data = {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": [
                {"code": "IDEMPOTENCY_CONCURRENT_REQUEST", "field": None,
                 "message": "A request with this idempotency key is already in progress."}]}}
            return self._send(200, {"data": data, "extensions": {"cost": {"requestedQueryCost": cost,
                                                                          "throttleStatus": status}}})
        result = execute(SCHEMA, document, Root(self.server, found[1], key, variables), variable_values=variables)
        answer: dict = {"data": result.data}
        if result.errors:
            messages = [e.message for e in result.errors]
            if any("Variable" in m for m in messages):
                market.violations.append(f"{name}: " + "; ".join(messages))
            answer["errors"] = [{"message": e.message, "path": e.path,
                                 "extensions": {"code": "BAD_REQUEST" if "Variable" in e.message else "INTERNAL"}}
                                for e in result.errors]
        actual = cost if name and operation.operation.value == "mutation" else min(cost, 1 + objects(result.data))
        market.refund(cost - actual)                    # the bucket is charged what the answer actually holds
        status = {**status, "currentlyAvailable": round(market.bucket)}
        answer["extensions"] = {"cost": {"requestedQueryCost": cost, "actualQueryCost": actual,
                                         "throttleStatus": status}}
        return self.answer_applied(failure, 200, answer, {"errors": "Service Unavailable"})

    def _token(self, body: bytes):
        market = self.server.market
        canned = canned_failure(market.take_failure("access_token"), {429: {"errors": "Too many requests"}})
        if canned:
            return self._send(*canned)
        form = self.form(body)
        if form is None:
            return self._send(400, {"error": "invalid_request", "error_description": "form body expected"})
        if form.get("grant_type") != "client_credentials":
            return self._send(400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        if form.get("client_id") != market.client_id or form.get("client_secret") != market.client_secret:
            return self._send(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        return self._send(200, {"access_token": market.issue_token(), "scope": ",".join(sorted(market.scopes)),
                                "expires_in": 86_399})


class ShopifyServer(ContractServer):
    """The server on 127.0.0.1 port 0; `url` is where it listens, `market` its state. No published schema
    to validate against (`validator` None): the handler validates each document with graphql-core."""

    def __init__(self, market: ShopifyMarket | None = None):
        super().__init__(_Handler, market or ShopifyMarket(), "shopify")
