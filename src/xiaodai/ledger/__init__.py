"""Double-entry ledger: chart of accounts and immutable journal entries (pure) plus posting (shell)."""
