"""Orders take stock, cancellations give it back by the rules (DESIGN "Orders and cancellations").

Services run inside the caller's write transaction (`with db.write() as conn:`):
`record_order`, `record_cancellation` (`cancel_in_stockgate` for an operator's); views: `list_orders`,
`count_orders`, `explain_order`. They take what a channel
hands over (`OrderData`, `CancellationData`: `channels.model`).
"""

from channels.model import CancellationData, OrderData, OrderLineData
from gateway.orders.accept import record_order
from gateway.orders.cancel import cancel_in_stockgate, record_cancellation
from gateway.orders.model import CancelOutcome, MovedUnits, OrderOutcome
from gateway.orders.views import count_orders, explain_order, list_orders

__all__ = [
    "CancelOutcome", "CancellationData", "MovedUnits", "OrderData", "OrderLineData", "OrderOutcome",
    "cancel_in_stockgate", "count_orders", "explain_order", "list_orders", "record_cancellation", "record_order",
]
