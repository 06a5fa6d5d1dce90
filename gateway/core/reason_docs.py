"""Render docs/cancellations.md from the restore rules and the shipped reason tables.

Regenerate with `python -m gateway.core.reason_docs > docs/cancellations.md`; a unit test keeps them equal.
"""

from __future__ import annotations

import sys

from gateway.core.reason_tables import MARKETPLACES, REASON_TABLES, UNMAPPED_API_CODES

_VERDICT_LABELS = {"yes": "Yes", "no": "No", "ambiguous": "Ambiguous (Yes)"}

_RULES = """\
# Cancellations: when stock goes back

An order takes its stock once, when it is accepted. When that order (or one of its lines) is
cancelled, StockGate either gives back exactly the units it allocated, to the warehouses they came
from, or leaves stock as it is. It never gives the same units back twice.

## Which rule decides

A cancellation dated before the order was placed is not judged at all: it is refused, from a channel's
order pull as by `stockgate restore-decision`. The order is kept as it was (its stock stays taken, its
lines open), the refusal is logged, named in the pull's outcome and shown by `stockgate orders explain`
(`refused_cancellations`); a later cancellation with a sound time is judged as usual.

The rules are tried in this order and the first that applies decides:

1. **Too late.** If the cancellation comes more than 14 days after the order was placed, nothing is
   given back, wherever the order was cancelled and whatever the channel's policy. A cancellation
   exactly 14 days after placement is still inside the window. (Rule `older_than_14_days`.)
2. **Cancelled in StockGate** (CLI or web page). The operator says, every time, whether to restore
   the stock (`restore`) or leave it (`keep`). StockGate never guesses: a cancellation without that
   choice is refused. (Rule `operator_choice`.)
3. **Cancelled on the marketplace** (by the seller or the buyer). The channel's `restore_policy`
   decides:
   - `always`: stock goes back (rule `policy_always`);
   - `never`: stock stays as it is (rule `policy_never`);
   - `smart`: the marketplace's cancellation reason is looked up in the table below. A reason marked
     No keeps the stock; every other case gives it back: Yes, Ambiguous, no reason at all
     (`smart_missing_reason`), a reason the table does not know, which counts as Ambiguous
     (`smart_unrecognised_reason`), and a marketplace that has no table (`smart_unknown_marketplace`).
     A listed reason decides by rule `smart_reason_table`.

Times without a time zone are read as UTC.

Every decision is recorded with its rule, what the reason table said (`yes`, `no`, `ambiguous`,
`missing`, `unrecognised`, `unknown_marketplace`, or `not_consulted` when the reason did not matter)
and a sentence explaining it.

## How reasons are matched

A reason matches a row by its written name or by one of the API codes listed for it. Both sides are
compared with case, spaces, punctuation and dashes (`-`, `–`, `—`, `‒`, `―`, `_`) ignored, so
`Seller Cancel — Out of Stock`, `seller cancel - out of stock` and `SELLER_CANCEL_OUT_OF_STOCK` are
the same reason.

## The old `restore_qty_on_cancel` setting

A channel configured with the retired switch still loads, with a deprecation warning:
`restore_qty_on_cancel = true` is read as `restore_policy = "always"`, and
`restore_qty_on_cancel = false` as `restore_policy = "never"`, which is what each used to do.
Beside an explicit `restore_policy` the two must agree: `restore_policy = "always"` with
`restore_qty_on_cancel = true` loads with the same warning (remove the old key), while a conflict
(`restore_policy = "smart"` with `restore_qty_on_cancel = true`, say) stops start-up with one line naming
both keys (`channels[1].restore_qty_on_cancel: true ... conflicts with channels[1].restore_policy =
"smart"`): neither reading is guessed, since the wrong one would give stock back, or keep it, by mistake.
"""


def _table_rows() -> list[str]:
    lines = [
        "| marketplace | reason | API codes | verdict | restores under `smart` |",
        "| --- | --- | --- | --- | --- |",
    ]
    for marketplace, rows in REASON_TABLES.items():
        for row in rows:
            codes = ", ".join(f"`{code}`" for code in row.api_codes) or "none known"
            restores = "yes" if row.restores else "no"
            label = _VERDICT_LABELS[row.verdict]
            lines.append(f"| {marketplace} | {row.reason} | {codes} | {label} | {restores} |")
    return lines


def render_cancellations_markdown() -> str:
    """The whole of docs/cancellations.md: the rules, then every row of every reason table."""
    without_table = ", ".join(f"`{name}`" for name in MARKETPLACES if name not in REASON_TABLES)
    parts = [
        _RULES,
        "## Reason tables",
        "",
        "API codes are the marketplaces' own values from their public API documentation; a row",
        "without codes is matched by its name only. Marketplaces with no table "
        f"({without_table}) restore under `smart`.",
        "",
        *_table_rows(),
        "",
        "### Codes the APIs send that no row covers",
        "",
        "These are unrecognised reasons: `smart` treats them as Ambiguous and restores.",
        "",
    ]
    for marketplace, codes in UNMAPPED_API_CODES.items():
        parts.append(f"- {marketplace}: " + ", ".join(f"`{code}`" for code in codes))
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_cancellations_markdown())
