"""Every reason of every marketplace table under `smart`, by name, by a variant and by API code."""

from datetime import datetime, timedelta, timezone

import pytest

from gateway.core.reason_tables import MARKETPLACES, REASON_TABLES, UNMAPPED_API_CODES
from gateway.core.restore_policy import match_reason, reason_verdict, restore_decision

PLACED = datetime(2024, 5, 1, 9, 30, tzinfo=timezone.utc)

# The seed's tables, verdict by verdict: the shipped data must carry exactly these rows.
SEED_TABLES = {
    "amazon": {
        "yes": ["Buyer Canceled", "Pricing Error", "Shipping Address Undeliverable", "Customer Exchange"],
        "no": ["No Inventory"],
        "ambiguous": ["General Adjustment"],
    },
    "ebay": {
        "yes": ["Buyer Address Issue", "Buyer No Longer Wants Item", "Buyer Did Not Pay For Item"],
        "no": ["Seller Ran Out Of Stock"],
        "ambiguous": [],
    },
    "walmart": {
        "yes": ["Customer Requested Seller To Cancel", "Seller Cancel — Fraud Stop Shipment",
                "Seller Cancel — Pricing Error", "Seller Cancel — Address Not Serviceable"],
        "no": ["Seller Cancel — Out of Stock"],
        "ambiguous": [],
    },
    "shopify": {
        "yes": ["Customer Wants To Cancel", "Order Is Fraudulent", "Payment Was Declined"],
        "no": ["Inventory Out Of Stock"],
        "ambiguous": ["Other Reason(s)"],
    },
    "wish": {
        "yes": ["Item Returned to Sender", "Shipping Taking Too Long", "Item Does Not Fit",
                "Received Wrong Item", "Wrong Color", "Product Listing Missing Info"],
        "no": ["Item is Damaged", "Item is Counterfeit", "Item Does Not Work as Described",
               "Item Marked Delivered but Did Not Arrive", "Merchant Out of Stock", "Empty Package"],
        "ambiguous": ["Unable to Ship", "Item Does Not Match Listing", "Merchant Sent to Wrong Address",
                      "Replacement Never Received", "Item is Poor Quality", "Incomplete Order",
                      "Item Did Not Meet Expectations", "Received Note from Merchant"],
    },
    "newegg": {
        "yes": ["Customer Requested to Cancel", "Price Error"],
        "no": ["Out of Stock"],
        "ambiguous": ["Unable to Fulfill Order"],
    },
    "reverb": {
        "yes": ["Buyer Return", "Accidental Order", "Change Shipping Address", "Shipping Adjustments"],
        "no": ["Sold Elsewhere", "Lost Shipment", "Shipping Damage"],
        "ambiguous": [],
    },
    "wayfair": {
        "yes": ["Customer Requested Cancellation"],
        "no": ["Out of Stock", "Item Discontinued"],
        "ambiguous": [],
    },
}

SEED_ROWS = [
    (marketplace, reason, verdict)
    for marketplace, by_verdict in SEED_TABLES.items()
    for verdict, reasons in by_verdict.items()
    for reason in reasons
]


def screaming_snake(reason: str) -> str:
    """'Seller Cancel — Out of Stock' -> 'SELLER_CANCEL_OUT_OF_STOCK'."""
    return "_".join(reason.replace("—", " ").replace("(", " ").replace(")", " ").upper().split())


def dashed_lower(reason: str) -> str:
    """'Item is Damaged' -> '  item – is – damaged. '"""
    return "  " + " – ".join(reason.replace("—", "-").lower().split()) + ". "


def smart(marketplace, reason):
    return restore_decision(
        marketplace=marketplace, policy="smart", reason=reason, placed_at=PLACED,
        cancelled_at=PLACED + timedelta(days=2), where="marketplace",
    )


def test_the_shipped_tables_carry_exactly_the_seed_rows_with_their_verdicts():
    shipped = sorted((m, row.reason, row.verdict) for m, rows in REASON_TABLES.items() for row in rows)

    assert shipped == sorted(SEED_ROWS)
    assert len(shipped) == 54


def test_every_marketplace_with_a_table_is_a_known_marketplace_and_only_other_has_none():
    assert set(REASON_TABLES) | {"other"} == set(MARKETPLACES)


@pytest.mark.parametrize("marketplace, reason, verdict", SEED_ROWS)
def test_smart_decides_each_reason_by_its_written_name(marketplace, reason, verdict):
    decision = smart(marketplace, reason)

    assert decision.restore is (verdict != "no")
    assert decision.rule == "smart_reason_table"
    assert decision.reason_verdict == verdict


@pytest.mark.parametrize("transform", [screaming_snake, dashed_lower], ids=["SNAKE", "dashed"])
@pytest.mark.parametrize("marketplace, reason, verdict", SEED_ROWS)
def test_smart_decides_each_reason_by_a_case_punctuation_and_dash_variant(
    marketplace, reason, verdict, transform
):
    decision = smart(marketplace, transform(reason))

    assert (decision.restore, decision.reason_verdict) == (verdict != "no", verdict)
    assert match_reason(marketplace, transform(reason)).reason == reason


API_CODE_ROWS = [
    (marketplace, code, row.reason, row.verdict)
    for marketplace, rows in REASON_TABLES.items()
    for row in rows
    for code in row.api_codes
]


@pytest.mark.parametrize("marketplace, code, reason, verdict", API_CODE_ROWS)
def test_smart_decides_each_api_code_like_its_row(marketplace, code, reason, verdict):
    decision = smart(marketplace, code)

    assert (decision.restore, decision.reason_verdict) == (verdict != "no", verdict)
    assert reason in decision.explanation


@pytest.mark.parametrize("code, verdict", [
    ("customer", "yes"), ("fraud", "yes"), ("declined", "yes"), ("inventory", "no"),
    ("other", "ambiguous"), ("INVENTORY", "no"),
])
def test_shopify_cancel_reason_codes_are_recognised(code, verdict):
    assert reason_verdict("shopify", code) == verdict


@pytest.mark.parametrize("marketplace, code", [
    (marketplace, code) for marketplace, codes in UNMAPPED_API_CODES.items() for code in codes
])
def test_api_codes_without_a_row_are_unrecognised_and_restore(marketplace, code):
    decision = smart(marketplace, code)

    assert (decision.restore, decision.reason_verdict) == (True, "unrecognised")


@pytest.mark.parametrize("marketplace, reason, verdict", SEED_ROWS[::7])
@pytest.mark.parametrize("policy, restores", [("always", True), ("never", False)])
def test_always_and_never_ignore_the_reason_table(marketplace, reason, verdict, policy, restores):
    decision = restore_decision(
        marketplace=marketplace, policy=policy, reason=reason, placed_at=PLACED,
        cancelled_at=PLACED + timedelta(days=2), where="marketplace",
    )

    assert decision.restore is restores
    assert decision.reason_verdict == "not_consulted"


def test_a_reason_from_another_marketplace_is_not_borrowed():
    assert reason_verdict("amazon", "Sold Elsewhere") == "unrecognised"


def test_marketplace_names_are_read_in_any_case():
    assert reason_verdict(" Walmart ", "SELLER_CANCEL_OUT_OF_STOCK") == "no"
