"""Who may ask for and who may approve each sensitive operation (pure). Four eyes: the checker is never the
maker. Reason codes, not prose.

* write-off: asked by collections/risk, approved by risk or admin;
* waiver above the threshold (default 200 CNY; below it a collector or complaint officer waives directly);
* model activation: risk or admin, approved by another risk analyst or admin;
* key rotation: an admin, approved by another admin;
* back-dated repayment (booked before today's business date, within ``servicing.backdating`` limits): asked
  by a complaint officer, risk or admin, approved by risk or admin.
* unmasking a borrower past one's shift allowance: any staff role that views personal data, approved by an
  admin (not the maker).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WAIVER_THRESHOLD_FEN = 20_000


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    makers: frozenset[str]
    checkers: frozenset[str]
    params: tuple[str, ...]


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "write_off",
            frozenset({"collector", "risk", "admin"}),
            frozenset({"risk", "admin"}),
            ("loan_id", "on"),
        ),
        Operation(
            "waive",
            frozenset({"collector", "complaint_officer", "risk", "admin"}),
            frozenset({"risk", "admin"}),
            ("loan_id", "component", "amount_fen", "on", "reason"),
        ),
        Operation("model_activate", frozenset({"risk", "admin"}), frozenset({"risk", "admin"}), ("version",)),
        Operation("key_rotate", frozenset({"admin"}), frozenset({"admin"}), ("version",)),
        Operation(
            "backdated_repayment",
            frozenset({"complaint_officer", "risk", "admin"}),
            frozenset({"risk", "admin"}),
            ("loan_id", "amount", "on"),
        ),
        # unmasking past the shift allowance (privacy.access): one borrower, named fields, this shift
        Operation(
            "unmask",
            frozenset({"underwriter", "collector", "complaint_officer", "auditor", "admin"}),
            frozenset({"admin"}),
            ("user_id", "fields"),
        ),
    )
}
DIRECT_WAIVER_ROLES = frozenset({"collector", "complaint_officer", "risk", "admin"})


def may_request(operation: str, roles: Iterable[str], params: dict[str, object]) -> str:
    op = OPERATIONS.get(operation)
    if op is None:
        return "UNKNOWN_OPERATION"
    if not set(roles) & op.makers:
        return "MAKER_ROLE_NOT_PERMITTED"
    missing = [p for p in op.params if p not in params]
    if missing:
        return "PARAMS_MISSING"
    return "ALLOWED"


def may_approve(operation: str, *, maker_id: int, checker_id: int, roles: Iterable[str], status: str) -> str:
    op = OPERATIONS.get(operation)
    if op is None:
        return "UNKNOWN_OPERATION"
    if status != "pending":
        return "NOT_PENDING"
    if checker_id == maker_id:
        return "CHECKER_IS_MAKER"
    if not set(roles) & op.checkers:
        return "CHECKER_ROLE_NOT_PERMITTED"
    return "ALLOWED"


def waiver_needs_approval(amount_fen: int, threshold_fen: int = WAIVER_THRESHOLD_FEN) -> bool:
    return amount_fen > threshold_fen
