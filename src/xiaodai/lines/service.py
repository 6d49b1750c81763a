"""Credit lines (shell): grant from a decision, draw (a loan through the journey's pricing, KFS, signing and
disbursement through the payment channel), repay, freeze/unfreeze/close, periodic review, increase offers,
re-decision. This module is the one door callers use (``from xiaodai.lines import service as lines``); the
work is in files named for what they hold:

- ``store``: the line rows, the borrower's open line, the outstanding (and reserved) principal;
- ``events``: a limit or state change with its memo-ledger entry and the borrower's notice;
- ``granting``: grant from a decision, staff state and limit changes;
- ``drawing``: quote, draw and repay a drawdown;
- ``views``: my line, due this month, drawdowns, notices, staff's view with events;
- ``reviews``: periodic review, increase offers, re-decision;
- ``commitments``: the ledger check of every line's undrawn commitment.

Each drawdown is an ordinary loan with ``loans.line_id`` set; its principal moves the line's off-balance-
sheet commitment in the same journal entry (``ledger.journal.with_commitment``). Limit changes post the
commitment's change themselves, one entry per line event.
"""

from __future__ import annotations

from xiaodai.lines.commitments import check_commitments
from xiaodai.lines.drawing import DrawRequest, draw, owed_today_fen, quote_draw, repay_drawdown
from xiaodai.lines.granting import grant_line, set_limit, set_state
from xiaodai.lines.reviews import (
    REVIEW_EVERY_DAYS,
    accept_increase,
    fresh_bureau,
    redecide,
    review_due,
    review_facts,
    review_line,
)
from xiaodai.lines.store import OFFER_DAYS, PLANS, LineNotFoundError, open_line_of, outstanding_fen
from xiaodai.lines.views import disclosure_of, line_of_borrower, line_view, notices, summary

__all__ = [
    "OFFER_DAYS",
    "PLANS",
    "REVIEW_EVERY_DAYS",
    "DrawRequest",
    "LineNotFoundError",
    "accept_increase",
    "check_commitments",
    "disclosure_of",
    "draw",
    "fresh_bureau",
    "grant_line",
    "line_of_borrower",
    "line_view",
    "notices",
    "open_line_of",
    "outstanding_fen",
    "owed_today_fen",
    "quote_draw",
    "redecide",
    "repay_drawdown",
    "review_due",
    "review_facts",
    "review_line",
    "set_limit",
    "set_state",
    "summary",
]
