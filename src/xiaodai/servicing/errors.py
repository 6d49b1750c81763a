"""Domain errors of servicing. Each carries the HTTP status the API will map it to."""

from __future__ import annotations


class ServicingError(ValueError):
    status = 400


class LoanNotFoundError(ServicingError):
    status = 404


class IdempotencyConflictError(ServicingError):
    """The key was used before for a different request, or the same request is still in flight."""

    status = 409
