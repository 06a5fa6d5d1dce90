"""Sales channel adapters: the adapter protocol, its data types, and one module per marketplace."""
