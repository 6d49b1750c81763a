"""Portfolio risk: vintages, roll rates, IFRS 9 / CECL, stress, concentration, backtests (polars kernels)."""
