"""Matching the channel's settlement lines against our debit and payout records (pure).

Each of our records says what we booked for a ``channel_ref`` (``posted_fen``, 0 when nothing: for a debit
the repayment booked, for a payout the disbursement paid out) and whether we still wait for the outcome
(``pending``). The result classifies every reference once:

- ``matched``: both sides agree (same amount moved, or nothing moved on either side);
- ``confirm``: we were waiting (timeout) and the file gives the final outcome: the shell books it, after
  which the reference is matched;
- ``missing_ours``: the channel moved money we did not book;
- ``missing_theirs``: we booked money the channel did not settle (no line, or a failed line);
- ``amount_mismatch``: both moved money, different amounts;
- ``unresolved``: we are still waiting and the file does not mention the reference.

``suspense_fen`` of a break is what the suspense account must hold for it (their amount − ours): money that
moved but is not explained, so that cash in the ledger is the money the channel really moved. A debit's
money came in (``Dr cash / Cr suspense``); a payout's went out, so its suspense moves the other way
(``Dr suspense / Cr cash``): ``Outcome.payout`` says which, ``cash_sign`` how cash moves.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from xiaodai.payments.settlement_file import SettlementLine


class Kind(enum.Enum):
    MATCHED = "matched"
    CONFIRM = "confirm"
    MISSING_OURS = "missing_ours"
    MISSING_THEIRS = "missing_theirs"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNRESOLVED = "unresolved"


BREAKS = (Kind.MISSING_OURS, Kind.MISSING_THEIRS, Kind.AMOUNT_MISMATCH, Kind.UNRESOLVED)


@dataclass(frozen=True, slots=True)
class DebitRecord:
    channel_ref: str
    posted_fen: int
    pending: bool
    payout: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: Kind
    channel_ref: str
    ours_fen: int
    theirs_fen: int | None  # None: no line in the file
    line: SettlementLine | None = None
    payout: bool = False

    @property
    def suspense_fen(self) -> int:
        if self.kind in (Kind.MISSING_OURS, Kind.MISSING_THEIRS, Kind.AMOUNT_MISMATCH):
            return (self.theirs_fen or 0) - self.ours_fen
        return 0


def cash_sign(payout: bool) -> int:
    """How an unexplained amount moves cash: in for a debit (+1), out for a payout (−1)."""
    return -1 if payout else 1


def match(lines: Iterable[SettlementLine], records: Iterable[DebitRecord]) -> list[Outcome]:
    """One outcome per reference found on either side, in reference order."""
    theirs = {line.channel_ref: line for line in lines}
    ours = {record.channel_ref: record for record in records}
    out: list[Outcome] = []
    for ref in sorted(theirs.keys() | ours.keys()):
        line, record = theirs.get(ref), ours.get(ref)
        their_fen = line.amount_fen if line else None
        our_fen = record.posted_fen if record else 0
        if record is not None and record.pending:
            kind = Kind.CONFIRM if line is not None else Kind.UNRESOLVED
        elif line is None or line.amount_fen == 0:
            kind = Kind.MISSING_THEIRS if our_fen > 0 else Kind.MATCHED
        elif our_fen == 0:
            kind = Kind.MISSING_OURS
        elif our_fen != line.amount_fen:
            kind = Kind.AMOUNT_MISMATCH
        else:
            kind = Kind.MATCHED
        payout = record.payout if record is not None else line is not None and line.is_payout
        out.append(Outcome(kind, ref, our_fen, their_fen, line, payout))
    return out
