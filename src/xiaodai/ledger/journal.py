"""Journal entries: a value that cannot exist unless its postings net to zero (as in beancount)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from xiaodai.ledger.chart import Account


class UnbalancedEntryError(ValueError):
    """Postings of an entry do not net to zero."""


@dataclass(frozen=True, slots=True)
class Posting:
    account: Account
    amount_fen: int  # debit > 0, credit < 0
    loan_id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.amount_fen, int) or isinstance(self.amount_fen, bool):
            raise TypeError("posting amounts are integer fen")


@dataclass(frozen=True, slots=True)
class JournalEntry:
    business_date: date
    event: str  # the source event: disbursement, repayment, billing, penalty, write-off, reversal, ...
    idempotency_key: str
    postings: tuple[Posting, ...]
    loan_id: int | None = None
    reverses: int | None = None  # id of the entry this one reverses
    memo: str = ""

    def __post_init__(self) -> None:
        if not self.postings:
            raise UnbalancedEntryError("an entry needs postings")
        if sum(p.amount_fen for p in self.postings) != 0:
            raise UnbalancedEntryError(
                f"{self.event} entry does not net to zero: {sum(p.amount_fen for p in self.postings)} fen"
            )
        if not self.idempotency_key:
            raise ValueError("an entry needs an idempotency key")


def entry(
    business_date: date,
    event: str,
    key: str,
    legs: Iterable[tuple[Account, int]],
    *,
    loan_id: int | None = None,
    reverses: int | None = None,
    memo: str = "",
) -> JournalEntry:
    """Build an entry from (account, fen) legs, dropping zero legs."""
    postings = tuple(Posting(acc, amt, loan_id) for acc, amt in legs if amt != 0)
    return JournalEntry(business_date, event, key, postings, loan_id, reverses, memo)


def with_commitment(item: JournalEntry, loan_id: int) -> JournalEntry:
    """For a loan drawn on a credit line: the line's undrawn commitment moves opposite to the loan's
    principal (a drawdown uses it, principal repaid or written off restores it), as memo legs on the same
    entry. The memo legs net to zero themselves, so the entry still does."""
    moved = sum(
        p.amount_fen for p in item.postings if p.account is Account.LOAN_PRINCIPAL and p.loan_id == loan_id
    )
    present = sum(  # a reversal mirrors the original's memo legs already
        p.amount_fen
        for p in item.postings
        if p.account is Account.COMMITMENT_UNDRAWN and p.loan_id == loan_id
    )
    missing = -moved - present
    if not missing:
        return item
    memo = (
        Posting(Account.COMMITMENT_UNDRAWN, missing, loan_id),
        Posting(Account.COMMITMENT_CONTRA, -missing, loan_id),
    )
    return JournalEntry(
        item.business_date,
        item.event,
        item.idempotency_key,
        item.postings + memo,
        item.loan_id,
        item.reverses,
        item.memo,
    )


def reversal_legs(postings: Iterable[Posting]) -> list[tuple[Account, int]]:
    return [(p.account, -p.amount_fen) for p in postings]


def balances(postings: Iterable[Posting]) -> dict[Account, int]:
    totals: dict[Account, int] = defaultdict(int)
    for p in postings:
        totals[p.account] += p.amount_fen
    return dict(totals)
