"""The cancellation restore rules: 14-day window, operator choice, channel policy, legacy setting."""

from datetime import datetime, timedelta, timezone

import pytest

from gateway.core.restore_policy import (
    CancelledBeforePlacedError,
    ChoiceRequiredError,
    RestorePolicy,
    normalise_reason,
    operator_choice_required,
    parse_policy,
    policy_from_legacy,
    restore_decision,
)

PLACED = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
FOURTEEN_DAYS = timedelta(days=14)
SECOND = timedelta(seconds=1)


def decide(*, policy="smart", where="marketplace", after=timedelta(days=1), reason="No Inventory",
           marketplace="amazon", choice=None, placed_at=PLACED):
    return restore_decision(
        marketplace=marketplace, policy=policy, reason=reason, placed_at=placed_at,
        cancelled_at=placed_at + after, where=where, choice=choice,
    )


# What each policy does inside the window for an Amazon "Buyer Canceled" (a Yes reason).
INSIDE_WINDOW = [
    ("always", "marketplace", None, True, "policy_always"),
    ("never", "marketplace", None, False, "policy_never"),
    ("smart", "marketplace", None, True, "smart_reason_table"),
    ("always", "stockgate", "restore", True, "operator_choice"),
    ("never", "stockgate", "restore", True, "operator_choice"),
    ("smart", "stockgate", "keep", False, "operator_choice"),
]


@pytest.mark.parametrize("policy, where, choice, restores, rule", INSIDE_WINDOW)
@pytest.mark.parametrize("after", [FOURTEEN_DAYS - SECOND, FOURTEEN_DAYS], ids=["14d-1s", "14d"])
def test_up_to_exactly_14_days_the_later_rules_decide(policy, where, choice, restores, rule, after):
    decision = decide(policy=policy, where=where, choice=choice, after=after, reason="Buyer Canceled")

    assert (decision.restore, decision.rule) == (restores, rule)


@pytest.mark.parametrize("policy", ["always", "never", "smart"])
@pytest.mark.parametrize("where, choice", [("marketplace", None), ("stockgate", "restore")])
def test_one_second_past_14_days_nothing_is_restored_whatever_the_policy_or_place(policy, where, choice):
    decision = decide(policy=policy, where=where, choice=choice, after=FOURTEEN_DAYS + SECOND,
                      reason="Buyer Canceled")

    assert decision.restore is False
    assert decision.rule == "older_than_14_days"
    assert decision.reason_verdict == "not_consulted"
    assert "more than 14 days" in decision.explanation


def test_a_late_stockgate_cancellation_needs_no_operator_choice():
    decision = decide(where="stockgate", choice=None, after=timedelta(days=20))

    assert (decision.restore, decision.rule) == (False, "older_than_14_days")
    assert operator_choice_required(placed_at=PLACED, cancelled_at=PLACED + timedelta(days=20),
                                    where="stockgate") is False


def test_a_stockgate_cancellation_restores_when_the_operator_chooses_restore():
    decision = decide(where="stockgate", choice="restore", policy="never")

    assert decision.restore is True
    assert decision.rule == "operator_choice"
    assert decision.reason_verdict == "not_consulted"
    assert "operator chose" in decision.explanation


def test_a_stockgate_cancellation_keeps_stock_when_the_operator_chooses_keep():
    decision = decide(where="stockgate", choice="keep", policy="always")

    assert (decision.restore, decision.rule) == (False, "operator_choice")


def test_a_stockgate_cancellation_without_a_choice_is_refused_not_assumed():
    with pytest.raises(ChoiceRequiredError, match="restore' or 'keep'"):
        decide(where="stockgate", choice=None)
    assert operator_choice_required(placed_at=PLACED, cancelled_at=PLACED + SECOND, where="stockgate")


def test_choice_required_error_is_a_value_error():
    assert issubclass(ChoiceRequiredError, ValueError)


def test_policy_always_restores_even_an_out_of_stock_reason():
    decision = decide(policy="always", reason="No Inventory")

    assert (decision.restore, decision.rule, decision.reason_verdict) == (
        True, "policy_always", "not_consulted")


def test_policy_never_keeps_stock_even_for_a_buyer_cancellation():
    decision = decide(policy="never", reason="Buyer Canceled")

    assert (decision.restore, decision.rule, decision.reason_verdict) == (
        False, "policy_never", "not_consulted")


@pytest.mark.parametrize("reason", [None, "", "   ", "—"])
def test_smart_restores_when_the_marketplace_gives_no_reason(reason):
    decision = decide(reason=reason)

    assert (decision.restore, decision.rule, decision.reason_verdict) == (
        True, "smart_missing_reason", "missing")


@pytest.mark.parametrize("marketplace", ["other", "etsy"])
def test_smart_restores_for_a_marketplace_without_a_reason_table(marketplace):
    decision = decide(marketplace=marketplace, reason="Out of Stock")

    assert (decision.restore, decision.rule, decision.reason_verdict) == (
        True, "smart_unknown_marketplace", "unknown_marketplace")
    assert "no reason table" in decision.explanation


def test_smart_treats_an_unrecognised_reason_as_ambiguous_restores_and_says_so():
    decision = decide(marketplace="shopify", reason="staff")

    assert (decision.restore, decision.rule, decision.reason_verdict) == (
        True, "smart_unrecognised_reason", "unrecognised")
    assert "'staff' is not in the shopify reason table" in decision.explanation
    assert "treated as Ambiguous" in decision.explanation


def test_naive_datetimes_are_read_as_utc():
    naive_placed = datetime(2024, 3, 1, 12, 0)
    late = restore_decision(
        marketplace="amazon", policy="always", reason=None, where="marketplace",
        placed_at=naive_placed, cancelled_at=PLACED + FOURTEEN_DAYS + SECOND,
    )
    on_time = restore_decision(
        marketplace="amazon", policy="always", reason=None, where="marketplace",
        placed_at=naive_placed, cancelled_at=PLACED + FOURTEEN_DAYS,
    )

    assert (late.restore, on_time.restore) == (False, True)


def test_the_window_is_measured_across_time_zones():
    placed_in_new_york = datetime(2024, 3, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5)))

    def restores(cancelled_at_utc):
        return restore_decision(
            marketplace="amazon", policy="always", reason=None, where="marketplace",
            placed_at=placed_in_new_york, cancelled_at=cancelled_at_utc,
        ).restore

    assert restores(PLACED + FOURTEEN_DAYS) is True
    assert restores(PLACED + FOURTEEN_DAYS + SECOND) is False


@pytest.mark.parametrize("value, expected", [
    ("always", RestorePolicy.ALWAYS), ("Never", RestorePolicy.NEVER), (" smart ", RestorePolicy.SMART),
])
def test_restore_policy_names_are_read_in_any_case(value, expected):
    assert parse_policy(value) is expected


def test_an_unknown_restore_policy_is_refused_naming_the_value_and_the_choices():
    with pytest.raises(ValueError, match="always, never, smart; got 'sometimes'"):
        parse_policy("sometimes")


def test_an_unknown_place_of_cancellation_is_refused():
    with pytest.raises(ValueError, match="'warehouse'"):
        decide(where="warehouse")


def test_an_unknown_operator_choice_is_refused():
    with pytest.raises(ValueError, match="'maybe'"):
        decide(where="stockgate", choice="maybe")


def test_the_old_restore_on_cancel_switch_on_reads_as_always_with_a_deprecation_warning():
    policy, warning = policy_from_legacy(True)

    assert policy is RestorePolicy.ALWAYS
    assert "restore_qty_on_cancel" in warning and "deprecated" in warning
    assert 'restore_policy = "always"' in warning


def test_the_old_restore_on_cancel_switch_off_reads_as_never_with_a_deprecation_warning():
    policy, warning = policy_from_legacy(False)

    assert policy is RestorePolicy.NEVER
    assert "deprecated" in warning


def test_the_old_switch_must_be_a_boolean():
    with pytest.raises(ValueError, match="'yes'"):
        policy_from_legacy("yes")


@pytest.mark.parametrize("variant", [
    "Seller Cancel — Out of Stock", "seller cancel - out of stock", "SELLER_CANCEL_OUT_OF_STOCK",
    "Seller Cancel – Out of Stock", "Seller Cancel ‒ Out of Stock", "Seller Cancel ― Out of Stock",
    "  seller   CANCEL: out-of-stock. ",
])
def test_reason_names_compare_ignoring_case_spaces_punctuation_and_dashes(variant):
    assert normalise_reason(variant) == "sellercanceloutofstock"


@pytest.mark.parametrize("where, choice", [("marketplace", None), ("stockgate", "restore"), ("stockgate", None)])
def test_a_cancellation_dated_before_the_order_is_refused_wherever_it_was_made(where, choice):
    with pytest.raises(CancelledBeforePlacedError, match="before the order was placed at 2024-03-01T12:00:00"):
        decide(where=where, choice=choice, after=-SECOND)
    assert decide(where="marketplace", after=timedelta(0)).rule == "smart_reason_table"
