"""Demonstration data: a trained model, borrowers and staff, and a few hundred loans in various states."""
