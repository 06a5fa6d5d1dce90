"""Cancellation reason tables per marketplace: does a cancellation with this reason give stock back?

Used by the `smart` restore policy (see `gateway.core.restore_policy` and docs/cancellations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, Mapping

Verdict = Literal["yes", "no", "ambiguous"]
VERDICTS: tuple[str, ...] = ("yes", "no", "ambiguous")

# Every marketplace a channel may name; the ones without a table below restore under `smart`.
MARKETPLACES: tuple[str, ...] = (
    "amazon", "ebay", "walmart", "shopify", "wish", "newegg", "reverb", "wayfair", "other",
)


@dataclass(frozen=True)
class ReasonRow:
    """One reason as the marketplace names it, its verdict, and the API's own codes for it."""

    reason: str
    verdict: Verdict
    api_codes: tuple[str, ...] = ()

    @property
    def restores(self) -> bool:
        """Whether `smart` gives the stock back: Yes and Ambiguous do, No does not."""
        return self.verdict != "no"


def _row(reason: str, verdict: Verdict, *api_codes: str) -> ReasonRow:
    return ReasonRow(reason=reason, verdict=verdict, api_codes=api_codes)


# API codes come from the marketplaces' public API documentation: Amazon MWS / SP-API order
# acknowledgement CancelReason, eBay Post-Order API CancelReasonEnum and Trading API
# CancelReasonCodeType, Walmart Orders API cancellationReason, Shopify Order cancel_reason (REST) /
# OrderCancelReason (GraphQL). A code is attached to a row only where it clearly means that row; Wish,
# Newegg, Reverb and Wayfair rows carry none because no public code could be matched with confidence.
REASON_TABLES: Mapping[str, tuple[ReasonRow, ...]] = MappingProxyType({
    "amazon": (
        _row("Buyer Canceled", "yes", "BuyerCanceled",
             # SP-API Orders free texts (cancelReason, BuyerCancelReason) in the models' examples
             "Buyer requested cancellation", "Changed mind about purchase", "Found cheaper somewhere else."),
        _row("Pricing Error", "yes", "PricingError"),
        _row("Shipping Address Undeliverable", "yes", "ShippingAddressUndeliverable"),
        _row("Customer Exchange", "yes", "CustomerExchange"),
        _row("No Inventory", "no", "NoInventory"),
        _row("General Adjustment", "ambiguous", "GeneralAdjustment"),
    ),
    "ebay": (
        _row("Buyer Address Issue", "yes", "ADDRESS_ISSUES", "AddressIssues", "WRONG_SHIPPING_ADDRESS"),
        _row(
            "Buyer No Longer Wants Item", "yes",
            "BUYER_ASKED_CANCEL", "BuyerCancelOrder", "FOUND_CHEAPER_PRICE", "FoundCheaperPrice",
            "ORDER_MISTAKE", "OrderPlacedByMistake", "PRICE_TOO_HIGH", "PriceTooHigh",
            "WONT_ARRIVE_IN_TIME", "WontArriveInTime",
        ),
        _row("Buyer Did Not Pay For Item", "yes", "ORDER_UNPAID"),
        _row(
            "Seller Ran Out Of Stock", "no",
            "OUT_OF_STOCK_OR_CANNOT_FULFILL", "OutOfStockOrCannotFulfill", "OutOfStock",
        ),
    ),
    "walmart": (
        _row("Customer Requested Seller To Cancel", "yes", "CUSTOMER_REQUESTED_SELLER_TO_CANCEL"),
        _row("Seller Cancel — Fraud Stop Shipment", "yes", "SELLER_CANCEL_FRAUD_STOP_SHIPMENT"),
        _row("Seller Cancel — Pricing Error", "yes", "SELLER_CANCEL_PRICING_ERROR"),
        _row(
            "Seller Cancel — Address Not Serviceable", "yes", "SELLER_CANCEL_ADDRESS_NOT_SERVICEABLE",
        ),
        _row("Seller Cancel — Out of Stock", "no", "SELLER_CANCEL_OUT_OF_STOCK"),
    ),
    "shopify": (
        _row("Customer Wants To Cancel", "yes", "customer"),
        _row("Order Is Fraudulent", "yes", "fraud"),
        _row("Payment Was Declined", "yes", "declined"),
        _row("Inventory Out Of Stock", "no", "inventory"),
        _row("Other Reason(s)", "ambiguous", "other"),
    ),
    "wish": (
        _row("Item Returned to Sender", "yes"),
        _row("Shipping Taking Too Long", "yes"),
        _row("Item Does Not Fit", "yes"),
        _row("Received Wrong Item", "yes"),
        _row("Wrong Color", "yes"),
        _row("Product Listing Missing Info", "yes"),
        _row("Item is Damaged", "no"),
        _row("Item is Counterfeit", "no"),
        _row("Item Does Not Work as Described", "no"),
        _row("Item Marked Delivered but Did Not Arrive", "no"),
        _row("Merchant Out of Stock", "no"),
        _row("Empty Package", "no"),
        _row("Unable to Ship", "ambiguous"),
        _row("Item Does Not Match Listing", "ambiguous"),
        _row("Merchant Sent to Wrong Address", "ambiguous"),
        _row("Replacement Never Received", "ambiguous"),
        _row("Item is Poor Quality", "ambiguous"),
        _row("Incomplete Order", "ambiguous"),
        _row("Item Did Not Meet Expectations", "ambiguous"),
        _row("Received Note from Merchant", "ambiguous"),
    ),
    "newegg": (
        _row("Customer Requested to Cancel", "yes"),
        _row("Price Error", "yes"),
        _row("Out of Stock", "no"),
        _row("Unable to Fulfill Order", "ambiguous"),
    ),
    "reverb": (
        _row("Buyer Return", "yes"),
        _row("Accidental Order", "yes"),
        _row("Change Shipping Address", "yes"),
        _row("Shipping Adjustments", "yes"),
        _row("Sold Elsewhere", "no"),
        _row("Lost Shipment", "no"),
        _row("Shipping Damage", "no"),
    ),
    "wayfair": (
        _row("Customer Requested Cancellation", "yes"),
        _row("Out of Stock", "no"),
        _row("Item Discontinued", "no"),
    ),
})

# Codes the same APIs document that have no row above (or could mean more than one row). They are
# unrecognised reasons: `smart` treats them as Ambiguous and restores. Listed so the docs can say so.
UNMAPPED_API_CODES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "amazon": (
        "CarrierCreditDecision", "RiskAssessmentInformationNotValid", "CarrierCoverageFailure",
        "CustomerReturn", "MerchandiseNotReceived",
    ),
    "ebay": (
        "BUYER_CANCEL_OR_ADDRESS_ISSUE", "BuyerCancelOrAddressIssue", "BUYER_NO_SHOW", "BuyerNoShow",
        "OTHER", "UNKNOWN", "WRONG_PAYMENT_METHOD", "WRONG_SHIPPING_METHOD",
    ),
    "shopify": ("staff",),
})
