"""The hand-written subset of Shopify's Admin GraphQL schema the contract server validates and executes
documents against, and its approximation of the calculated query cost.

Shopify publishes no schema file (only introspection): this SDL is written from the documented
operations, arguments, input objects and enums of CHANNEL_APIS.md section 1 and Shopify's reference
pages (`inventorySetQuantities`, `productVariants`, `orders`, `order`, `orderCancel`, `location`,
`nodes`, `currentAppInstallation`), so it is not a published schema.
"""

from __future__ import annotations

from graphql import FieldNode, GraphQLObjectType, InlineFragmentNode, OperationDefinitionNode, build_schema, \
    get_named_type, value_from_ast_untyped

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


def objects(value) -> int:
    """How many objects an answer holds (Shopify charges the actual cost: about one point per object)."""
    if isinstance(value, dict):
        return 1 + sum(objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(objects(v) for v in value)
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


