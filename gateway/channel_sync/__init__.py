"""The channel side: keep every sales channel in step with StockGate, through its adapter.

Listing sync (`listings`), order pull (`order_pull`), the push outbox (`outbox`) and its worker
(`pusher`), the three channel jobs (`jobs`) and their scheduler (`scheduler`).
"""
