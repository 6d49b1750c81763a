"""Bank cards, auto-debit through a payment channel, callbacks and settlement reconciliation."""
