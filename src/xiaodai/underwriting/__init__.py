"""Credit decisioning: features, knock-out policy, compiled scorecard, reasons, price and limit (pure) plus training and decision records (shell)."""
