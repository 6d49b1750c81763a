"""The payment rail behind an interface (the borrower's self-service repayments; disbursements go out
through the payment channel's payout side, ``payments.payout``). A real bank/payment-institution adapter
implements ``PaymentRail``; the simulated rail (demo and tests) succeeds deterministically and remembers
what it moved. The rail is called before the ledger posts, with the same idempotency reference, so a
retried request never moves money twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class RailError(RuntimeError):
    status = 502


@dataclass(frozen=True)
class RailReceipt:
    reference: str
    amount_fen: int
    direction: str  # "out" (disbursement) | "in" (collection)


class PaymentRail(Protocol):
    """``blocking``: True when ``collect`` may wait on anything (a bank's API over the network): the API's
    hot path then runs a repayment in a worker thread instead of on the event loop (``api.loop_work``),
    where a wait would stall every request of the worker. An adapter that does not say is taken to block."""

    def pay_out(self, *, reference: str, amount_fen: int, account: str) -> RailReceipt: ...

    def collect(self, *, reference: str, amount_fen: int, account: str) -> RailReceipt: ...


@dataclass
class SimulatedRail:
    moved: dict[str, RailReceipt] = field(default_factory=dict)
    blocking = False  # in memory: never waits

    def _move(self, reference: str, amount_fen: int, direction: str) -> RailReceipt:
        if amount_fen <= 0:
            raise RailError("the rail moves positive amounts only")
        previous = self.moved.get(reference)
        if previous is not None:
            return previous  # idempotent by reference
        receipt = RailReceipt(reference, amount_fen, direction)
        self.moved[reference] = receipt
        return receipt

    def pay_out(self, *, reference: str, amount_fen: int, account: str) -> RailReceipt:
        return self._move(reference, amount_fen, "out")

    def collect(self, *, reference: str, amount_fen: int, account: str) -> RailReceipt:
        return self._move(reference, amount_fen, "in")


RAIL: PaymentRail = SimulatedRail()


def blocks(rail: PaymentRail) -> bool:
    """Whether ``rail`` may wait (see ``PaymentRail``); True unless it says otherwise."""
    return bool(getattr(rail, "blocking", True))
