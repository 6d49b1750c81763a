"""Accounts: borrowers and staff, passwords (argon2), API tokens, roles."""
