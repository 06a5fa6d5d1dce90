"""Orders take stock, cancellations give it back by the rules (DESIGN "Orders and cancellations").

Services run inside the caller's write transaction (`with db.write() as conn:`):
`record_order`, `record_cancellation`; views: `list_orders`, `explain_order`. They take what a channel
hands over (`OrderData`, `CancellationData`: `channels.model`).
"""

from channels.model import CancellationData, OrderData, OrderLineData
from gateway.orders.accept import record_order
from gateway.orders.cancel import record_cancellation
from gateway.orders.model import CancelOutcome, MovedUnits, OrderOutcome
from gateway.orders.views import explain_order, list_orders

__all__ = [
    "CancelOutcome", "CancellationData", "MovedUnits", "OrderData", "OrderLineData", "OrderOutcome",
    "explain_order", "list_orders", "record_cancellation", "record_order",
]
