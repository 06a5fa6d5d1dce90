"""A Shopify Admin GraphQL contract server for tests: a real HTTP server on 127.0.0.1, port 0, serving
`POST /admin/api/{version}/graphql.json` and the client credentials grant `POST /admin/oauth/access_token`
with Shopify's headers, answers and failures (CHANNEL_APIS.md sections 1 and 10).

Shopify publishes no schema file (it is only served by introspection; none is stored in ../shared/specs),
so no published schema is validated here. Instead every GraphQL document received is parsed and validated
by graphql-core against `SDL`, a hand-written subset of the Admin API written from the documented
operations, arguments, input objects and enums of CHANNEL_APIS.md section 1 (`inventorySetQuantities`,
`productVariants`, `orders`, `orderCancel`, `location`, `nodes`, `currentAppInstallation`), and executed
over `ShopifyMarket`. A document or variables the subset refuses is answered as Shopify does (HTTP 200,
`errors`) and kept in `market.violations`. Version rules: from 2026-04 `inventorySetQuantities` without
`@idempotent` and an entry without an explicit `changeFromQuantity` are runtime errors.

The cost of a document approximates Shopify's calculated query cost: an object 1, a connection
2 + first x its node's cost, a list by ids len(ids) x the element's cost, scalars 0, a mutation 10. The
requested cost must be in the bucket; the bucket is then charged the actual cost (about one point per
object in the answer, so a short page costs little), as Shopify does; a
document over `bucket_max` is refused (MAX_COST_EXCEEDED); a bucket short of the cost answers THROTTLED
with HTTP `market.throttle_status` (200 or 429). Every answer carries `extensions.cost.throttleStatus`.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from graphql import (
    FieldNode, GraphQLObjectType, InlineFragmentNode, OperationDefinitionNode,
    build_schema, execute, get_named_type, parse, validate, value_from_ast_untyped,
)
from graphql.error import GraphQLError

from shopify_market import ShopifyMarket

VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10", "2027-01")
SCOPE_OF = {"productVariants": "read_products", "nodes": "read_inventory", "orders": "read_orders",
            "order": "read_orders", "inventorySetQuantities": "write_inventory", "orderCancel": "write_orders",
            "location": "read_locations"}

SDL = """
directive @idempotent(key: String!) on FIELD
scalar DateTime
interface Node { id: ID! }
type Query {
  shop: Shop!
  currentAppInstallation: AppInstallation!
  location(id: ID): Location
  nodes(ids: [ID!]!): [Node]!
  productVariants(first: Int, after: String, query: String, sortKey: ProductVariantSortKeys, reverse: Boolean): ProductVariantConnection!
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys, reverse: Boolean): OrderConnection!
  order(id: ID!): Order
}
type Shop { name: String! myshopifyDomain: String! }
type AppInstallation { accessScopes: [AccessScope!]! }
type AccessScope { handle: String! }
type Location implements Node { id: ID! name: String! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! endCursor: String startCursor: String }
enum ProductVariantSortKeys { ID SKU INVENTORY_QUANTITY TITLE NAME POSITION RELEVANCE FULL_TITLE INVENTORY_LEVELS_AVAILABLE INVENTORY_MANAGEMENT INVENTORY_POLICY POPULAR }
type ProductVariantConnection { nodes: [ProductVariant!]! pageInfo: PageInfo! }
type ProductVariant implements Node { id: ID! sku: String title: String! displayName: String! inventoryQuantity: Int product: Product! inventoryItem: InventoryItem! }
type Product implements Node { id: ID! title: String! }
type InventoryItem implements Node { id: ID! sku: String tracked: Boolean! inventoryLevel(locationId: ID!): InventoryLevel }
type InventoryLevel { id: ID! location: Location! quantities(names: [String!]!): [InventoryQuantity!]! }
type InventoryQuantity { name: String! quantity: Int! }
enum OrderSortKeys { CREATED_AT PROCESSED_AT UPDATED_AT ID TOTAL_PRICE ORDER_NUMBER CUSTOMER_NAME FINANCIAL_STATUS FULFILLMENT_STATUS RELEVANCE }
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum OrderDisplayFinancialStatus { AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED }
type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! }
type Order implements Node {
  id: ID! name: String! createdAt: DateTime! processedAt: DateTime! updatedAt: DateTime!
  displayFinancialStatus: OrderDisplayFinancialStatus cancelledAt: DateTime cancelReason: OrderCancelReason
  cancellation: OrderCancellation lineItems(first: Int, after: String): LineItemConnection!
}
type OrderCancellation { staffNote: String }
type LineItemConnection { nodes: [LineItem!]! pageInfo: PageInfo! }
type LineItem { id: ID! sku: String quantity: Int! currentQuantity: Int! variant: ProductVariant }
input InventorySetQuantitiesInput { name: String! reason: String! referenceDocumentUri: String quantities: [InventoryQuantityInput!]! }
input InventoryQuantityInput { inventoryItemId: ID! locationId: ID! quantity: Int! changeFromQuantity: Int }
type InventorySetQuantitiesPayload { inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventorySetQuantitiesUserError!]! }
type InventoryAdjustmentGroup { id: ID! createdAt: DateTime! reason: String! referenceDocumentUri: String }
enum InventorySetQuantitiesUserErrorCode { CHANGE_FROM_QUANTITY_STALE COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED INVALID_INVENTORY_ITEM INVALID_LOCATION INVALID_NAME INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH INVALID_QUANTITY_TOO_LOW INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR NON_MUTABLE_INVENTORY_ITEM }
type InventorySetQuantitiesUserError { code: InventorySetQuantitiesUserErrorCode field: [String!] message: String! }
input OrderCancelStoreCreditRefundInput { expiresAt: DateTime }
input OrderCancelRefundMethodInput { originalPaymentMethodsRefund: Boolean storeCreditRefund: OrderCancelStoreCreditRefundInput }
type Job { id: ID! done: Boolean! }
enum OrderCancelUserErrorCode { INVALID NOT_FOUND NO_REFUND_PERMISSION }
type OrderCancelUserError { code: OrderCancelUserErrorCode field: [String!] message: String! }
type UserError { field: [String!] message: String! }
type OrderCancelPayload { job: Job orderCancelUserErrors: [OrderCancelUserError!]! userErrors: [UserError!]! }
type Mutation {
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
  orderCancel(orderId: ID!, reason: OrderCancelReason!, refundMethod: OrderCancelRefundMethodInput, restock: Boolean!, notifyCustomer: Boolean, staffNote: String): OrderCancelPayload
}
"""
SCHEMA = build_schema(SDL)
REASONS = ("correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
           "movement_received", "movement_canceled", "other", "promotion", "quality_control", "received",
           "reservation_created", "reservation_deleted", "reservation_updated", "restock", "safety_stock",
           "shrinkage")


def _error(message: str, code: str, **extensions) -> dict:
    return {"message": message, "extensions": {"code": code, **extensions}}


def _objects(value) -> int:
    """How many objects an answer holds (Shopify charges the actual cost: about one point per object)."""
    if isinstance(value, dict):
        return 1 + sum(_objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects(v) for v in value)
    return 0


def query_cost(document, variables: dict) -> int:
    """The approximate calculated cost of the document's first operation (see the module's text)."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    if operation.operation.value == "mutation":
        return 10

    def arg(node: FieldNode, name: str):
        for a in node.arguments or ():
            if a.name.value == name:
                return value_from_ast_untyped(a.value, variables)
        return None

    def selection_cost(selection_set, parent) -> int:
        total = 0
        for sel in (selection_set.selections if selection_set else ()):
            if isinstance(sel, InlineFragmentNode):
                total += selection_cost(sel.selection_set, SCHEMA.get_type(sel.type_condition.name.value))
                continue
            if not isinstance(sel, FieldNode) or not hasattr(parent, "fields") or sel.name.value not in parent.fields:
                continue
            named = get_named_type(parent.fields[sel.name.value].type)
            if not isinstance(named, GraphQLObjectType) and not hasattr(named, "fields"):
                continue
            if named.name.endswith("Connection"):
                node_type = get_named_type(named.fields["nodes"].type)
                inner = next((s for s in sel.selection_set.selections if isinstance(s, FieldNode)
                              and s.name.value == "nodes"), None)
                each = 1 + (selection_cost(inner.selection_set, node_type) if inner else 0)
                total += 2 + int(arg(sel, "first") or 0) * each
            elif arg(sel, "ids") is not None:
                total += len(arg(sel, "ids")) * (1 + selection_cost(sel.selection_set, named))
            else:
                total += 1 + selection_cost(sel.selection_set, named)
        return total

    return selection_cost(operation.selection_set, SCHEMA.query_type)


class _Root:
    """The resolvers of Query and Mutation over the market (default resolver: attribute, called with args)."""

    def __init__(self, server: "ShopifyServer", version: str, idempotency_key: str | None, raw_variables: dict):
        self.server, self.market, self.version = server, server.market, version
        self.key, self.raw = idempotency_key, raw_variables

    # --- queries --------------------------------------------------------------------------------------

    def shop(self, info):
        return {"name": "StockGate contract shop", "myshopifyDomain": "contract.myshopify.com"}

    def currentAppInstallation(self, info):
        return {"accessScopes": [{"handle": s} for s in sorted(self.market.scopes)]}

    def location(self, info, id=None):
        location = id or "gid://shopify/Location/1"
        name = self.market.locations.get(location)
        return {"__typename": "Location", "id": location, "name": name} if name else None

    def _item(self, item: str) -> dict:
        market = self.market

        def level(info, locationId):
            quantity = market.level(item, locationId)
            if quantity is None:
                return None
            return {"id": f"{item}-{locationId}", "location": {"id": locationId, "name": market.locations.get(locationId)},
                    "quantities": lambda info, names: [{"name": n, "quantity": quantity} for n in names
                                                       if n == "available"]}

        return {"__typename": "InventoryItem", "id": item, "tracked": True, "inventoryLevel": level}

    def nodes(self, info, ids):
        if len(ids) > 250:
            raise GraphQLError("The input array size of 251 is greater than the maximum allowed of 250.")
        with self.market.lock:
            items = {v["item"] for v in self.market.variants}
        return [self._item(i) if i in items else None for i in ids]

    def _page(self, rows_of, first, after, make) -> dict:
        """One page of `rows_of()` (read after the hooks of a page after the first ran)."""
        market = self.market
        if first is None or first > 250 or first < 1:
            raise GraphQLError("first must be between 1 and 250")
        start = 0
        if after is not None:
            try:
                start = int(bytes.fromhex(after).decode().split(":")[1])
            except (ValueError, IndexError):
                raise GraphQLError(f"Invalid cursor {after!r}") from None
            hooks = list(market.on_page)
            market.on_page.clear()
            for hook in hooks:              # a hook may queue itself again
                hook()
        rows = list(rows_of())
        if start + first > market.pagination_cap and start >= market.pagination_cap:
            raise GraphQLError(f"Pagination is limited to {market.pagination_cap} objects; narrow the query")
        page = rows[start:start + first]
        end = start + len(page)
        return {"nodes": [make(r) for r in page],
                "pageInfo": {"hasNextPage": end < len(rows), "hasPreviousPage": start > 0,
                             "endCursor": f"cursor:{end}".encode().hex() if page else None,
                             "startCursor": None}}

    def productVariants(self, info, first=None, after=None, query=None, sortKey=None, reverse=False):
        market = self.market
        floor = re.fullmatch(r"id:>(\d+)", query or "")
        if query and not floor:
            raise GraphQLError(f"the contract server understands only the query id:>N, got {query!r}")

        def rows():
            with market.lock:
                found = sorted(market.variants, key=lambda v: int(v["id"].rsplit("/", 1)[1]))
            return [v for v in found if not floor or int(v["id"].rsplit("/", 1)[1]) > int(floor[1])]

        return self._page(rows, first, after,
                          lambda v: {"__typename": "ProductVariant", "id": v["id"], "sku": v["sku"],
                                     "title": v["title"], "displayName": v["title"], "product": v["product"],
                                     "inventoryItem": self._item(v["item"])})

    def _order(self, o: dict) -> dict:
        def lines(info, first=None, after=None):
            return self._page(lambda: o["lines"], first, after, lambda l: {**l, "currentQuantity": l["quantity"]})
        return {"__typename": "Order", **{k: v for k, v in o.items() if k != "lines"}, "processedAt": o["createdAt"],
                "cancellation": {"staffNote": None} if o["cancelledAt"] else None, "lineItems": lines}

    def orders(self, info, first=None, after=None, query=None, sortKey=None, reverse=False):
        since = None
        if query:
            found = re.fullmatch(r"updated_at:>=?'?([0-9T:\-.Z+]+)'?", query)
            if not found:
                raise GraphQLError(f"the contract server understands only updated_at:>=..., got {query!r}")
            since = found[1]
        if sortKey not in (None, "UPDATED_AT"):
            raise GraphQLError("the contract server sorts orders by UPDATED_AT only")
        return self._page(lambda: self.market.visible_orders(since), first, after, self._order)

    def order(self, info, id):
        versions = self.market.orders.get(id)
        return self._order(versions[-1][1]) if versions else None

    # --- mutations ------------------------------------------------------------------------------------

    def inventorySetQuantities(self, info, input):
        market = self.market
        raw = (self.raw or {}).get("input") or {}
        if self.version >= "2026-04":
            if self.key is None:
                raise GraphQLError("The @idempotent directive is required for this mutation.")
            missing = [i for i, q in enumerate(raw.get("quantities") or []) if "changeFromQuantity" not in q]
            if missing:
                raise GraphQLError(f"changeFromQuantity is required (pass null to skip the compare): "
                                   f"quantities {missing[:5]}")
        if len(input["quantities"]) > 250:
            raise GraphQLError(f"The input array size of {len(input['quantities'])} is greater than the maximum "
                               "allowed of 250.")
        fingerprint = hashlib.sha256(json.dumps(input, sort_keys=True, default=str).encode()).hexdigest()
        with market.lock:
            if self.key is not None and self.key in market.idempotency:
                seen, answer = market.idempotency[self.key]
                if seen != fingerprint:
                    return {"inventoryAdjustmentGroup": None, "userErrors": [
                        {"code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "field": None,
                         "message": "The idempotency key was used with different parameters."}]}
                return answer                               # the first attempt's result, not applied again
            hooks = list(market.before_set)
            market.before_set.clear()
            for hook in hooks:              # a hook may queue itself again
                hook()
            answer = self._apply(input)
            if self.key is not None:
                market.idempotency[self.key] = (fingerprint, answer)
            return answer

    def _apply(self, input) -> dict:
        market, errors = self.market, []
        if input["name"] not in ("available", "on_hand"):
            errors.append({"code": "INVALID_NAME", "field": ["input", "name"], "message": "name is not valid"})
        if input["reason"] not in REASONS:
            errors.append({"code": "INVALID_REASON", "field": ["input", "reason"], "message": "reason is not valid"})
        items = {v["item"] for v in market.variants}
        seen = set()
        for n, q in enumerate(input["quantities"]):
            field = ["input", "quantities", str(n)]
            key = (q["inventoryItemId"], q["locationId"])
            code = market.item_errors.get(q["inventoryItemId"])
            if code:
                errors.append({"code": code, "field": field + ["inventoryItemId"], "message": f"{code.lower()}"})
            elif q["inventoryItemId"] not in items:
                errors.append({"code": "INVALID_INVENTORY_ITEM", "field": field + ["inventoryItemId"],
                               "message": "The specified inventory item could not be found."})
            elif q["locationId"] not in market.locations:
                errors.append({"code": "INVALID_LOCATION", "field": field + ["locationId"],
                               "message": "The specified location could not be found."})
            elif key not in market.levels:
                errors.append({"code": "ITEM_NOT_STOCKED_AT_LOCATION", "field": field + ["locationId"],
                               "message": "The specified inventory item is not stocked at the location."})
            elif key in seen:
                errors.append({"code": "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", "field": field,
                               "message": "The inventory item and location pair is given twice."})
            elif q["quantity"] < 0:
                errors.append({"code": "INVALID_QUANTITY_NEGATIVE", "field": field + ["quantity"],
                               "message": "The quantity can't be negative."})
            elif q["quantity"] > 1_000_000_000:
                errors.append({"code": "INVALID_QUANTITY_TOO_HIGH", "field": field + ["quantity"],
                               "message": "The quantity can't be higher than 1,000,000,000."})
            elif q.get("changeFromQuantity") is not None and q["changeFromQuantity"] != market.levels[key]:
                errors.append({"code": "CHANGE_FROM_QUANTITY_STALE", "field": field + ["changeFromQuantity"],
                               "message": "The specified compare quantity does not match the current quantity."})
            seen.add(key)
        failed = {int(e["field"][2]) for e in errors if e["field"] and len(e["field"]) > 2}
        if errors and (market.group_rejects_all or len(failed) < len(errors)):
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        applied = [q for n, q in enumerate(input["quantities"]) if n not in failed]
        for q in applied:
            market.levels[(q["inventoryItemId"], q["locationId"])] = q["quantity"]
        market.sets.append({"input": input, "key": self.key})
        group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{len(market.sets)}", "createdAt": market.iso(),
                 "reason": input["reason"], "referenceDocumentUri": input.get("referenceDocumentUri")}
        return {"inventoryAdjustmentGroup": group, "userErrors": errors}

    def orderCancel(self, info, orderId, reason, restock, refundMethod=None, notifyCustomer=None, staffNote=None):
        market = self.market
        market.cancel_calls.append({"orderId": orderId, "reason": reason, "restock": restock,
                                    "refundMethod": refundMethod, "notifyCustomer": notifyCustomer})
        number = orderId.rsplit("/", 1)[1]
        if orderId not in market.orders:
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [
                {"code": "NOT_FOUND", "field": ["orderId"], "message": "Order does not exist"}]}
        if not market.cancel(number, reason):
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [
                {"code": "INVALID", "field": ["orderId"], "message": "Cannot cancel an order that is already cancelled"}]}
        return {"job": {"id": f"gid://shopify/Job/{len(market.cancel_calls)}", "done": False},
                "userErrors": [], "orderCancelUserErrors": []}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "ShopifyServer"

    def log_message(self, format, *args):
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.server.market.now(), usegmt=True)

    def _send(self, status: int, body, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.server.market.requests[-1]["status"] = status

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_GET

    def _handle(self) -> None:
        market = self.server.market
        path = self.path.split("?", 1)[0]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        record = {"method": self.command, "path": path, "headers": dict(self.headers.items()), "body": body,
                  "status": None, "operation": None}
        with market.lock:
            market.requests.append(record)
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
        record["operation"], record["variables"] = name, variables
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
        result = execute(SCHEMA, document, _Root(self.server, found[1], key, variables), variable_values=variables)
        answer: dict = {"data": result.data}
        if result.errors:
            messages = [e.message for e in result.errors]
            if any("Variable" in m for m in messages):
                market.violations.append(f"{name}: " + "; ".join(messages))
            answer["errors"] = [{"message": e.message, "path": e.path,
                                 "extensions": {"code": "BAD_REQUEST" if "Variable" in e.message else "INTERNAL"}}
                                for e in result.errors]
        actual = cost if name and operation.operation.value == "mutation" else min(cost, 1 + _objects(result.data))
        market.refund(cost - actual)                    # the bucket is charged what the answer actually holds
        status = {**status, "currentlyAvailable": round(market.bucket)}
        answer["extensions"] = {"cost": {"requestedQueryCost": cost, "actualQueryCost": actual,
                                         "throttleStatus": status}}
        if failure is not None and failure.kind == "drop_after_apply":
            self.close_connection = True
            record["status"] = "dropped"
            return
        if failure is not None and failure.kind == "503_after_apply":
            return self._send(503, {"errors": "Service Unavailable"}, failure.headers)
        return self._send(200, answer)

    def _token(self, body: bytes):
        market = self.server.market
        failure = market.take_failure("access_token")
        if failure is not None and failure.kind == "429":
            return self._send(429, {"errors": "Too many requests"}, failure.headers)
        if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return self._send(400, {"error": "invalid_request", "error_description": "form body expected"})
        form = dict(parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials":
            return self._send(400, {"error": "unsupported_grant_type", "error_description": "grant_type"})
        if form.get("client_id") != market.client_id or form.get("client_secret") != market.client_secret:
            return self._send(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        return self._send(200, {"access_token": market.issue_token(), "scope": ",".join(sorted(market.scopes)),
                                "expires_in": 86_399})


class ShopifyServer(ThreadingHTTPServer):
    """The server on 127.0.0.1 port 0; `url` is where it listens, `market` its state."""

    daemon_threads = True

    def __init__(self, market: ShopifyMarket | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.market = market or ShopifyMarket()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="shopify-contract", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> "ShopifyServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
