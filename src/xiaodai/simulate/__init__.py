"""Simulated applicants, behaviour and books (seeded, pure)."""
