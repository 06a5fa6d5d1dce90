"""Sales channel adapters, the cancellation restore policy and its reason tables."""
