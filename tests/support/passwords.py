"""Password hashing in tests.

Argon2 at the application's production cost (argon2id, t=3, m=64 MiB, p=4: ~0.25 s of CPU per hash or
verify) is most of the CPU of a suite that signs up and signs in thousands of times. In-process tests hash at
the lowest cost instead (``tests/conftest.py`` swaps ``accounts.HASHER`` for the session): the same algorithm
and the same code paths (sign-up, sign-in, the dummy hash for an unknown e-mail); a hash records its own
parameters, so either hasher verifies either's hashes. The production parameters are checked on their own
(``tests/unit/accounts/test_password_cost.py``); CLI and server subprocesses keep them unchanged.
"""

from __future__ import annotations

from argon2 import PasswordHasher

from xiaodai.accounts import service as accounts

PRODUCTION_HASHER = accounts.HASHER
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
