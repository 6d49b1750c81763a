"""Synthetic data with a known truth (pure, seeded): ``population`` (applicants with a true PD)."""
