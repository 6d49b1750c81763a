"""The borrower journey: apply → decision → key-facts statement → sign → disburse → repay (shell)."""
