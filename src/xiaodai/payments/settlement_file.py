"""The settlement file of the simulated channel (pure): one CSV per business date, what really moved.

Format version 2 (UTF-8, comma separated, ``\\n`` line ends, one header line, then one line per debit
(代扣, money in) or payout (代付, money out) the channel handled that day, in any order)::

    channel_ref,settled_on,status,amount,kind
    debit:17:1,2026-02-10,succeeded,902.58,debit
    debit:18:1,2026-02-10,partial,450.00,debit
    debit:19:1,2026-02-10,failed,0.00,debit
    payout:42,2026-02-10,succeeded,9850.00,payout

- ``channel_ref``: our reference (``debit:<instalment id>:<attempt>``, ``payout:<loan id>``); unique in a
  file.
- ``settled_on``: ISO date; every line of a file carries the file's business date.
- ``status``: ``succeeded`` | ``partial`` | ``failed`` (a channel's file holds final outcomes only); a
  payout is never ``partial``.
- ``amount``: CNY that moved, exactly two decimals, ``0.00`` when failed and positive otherwise (a payout's
  amount is what left for the borrower: always positive in the file, the direction is ``kind``'s).
- ``kind``: ``debit`` | ``payout``.

Version 1 files (header ``channel_ref,settled_on,status,amount``: debits only, as before payouts were
reconciled, or a channel that reports its payouts elsewhere) are still read: each line's kind is taken
from its reference (``payout:`` → payout, else debit), and reconciliation takes only the payouts such a file
names, not the day's others (``reports_payouts``). ``render`` writes version 2 unless told the file is
debits only. A file that breaks any of these rules is refused whole, with
the line number: nothing is reconciled.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from xiaodai.payments.channel import DebitStatus

HEADER = ("channel_ref", "settled_on", "status", "amount", "kind")
HEADER_V1 = HEADER[:4]  # debits only, no ``kind`` column: still read
KINDS = ("debit", "payout")
_AMOUNT = re.compile(r"^(0|[1-9][0-9]{0,9})\.([0-9]{2})$")


class SettlementFileError(ValueError):
    status = 400


@dataclass(frozen=True, slots=True)
class SettlementLine:
    channel_ref: str
    settled_on: date
    status: DebitStatus
    amount_fen: int
    kind: str = "debit"  # debit | payout

    @property
    def is_payout(self) -> bool:
        return self.kind == "payout"


def _fen(text: str) -> int:
    m = _AMOUNT.match(text)
    if m is None:
        raise ValueError(f"amount {text!r} is not CNY with two decimals")
    return int(m.group(1)) * 100 + int(m.group(2))


def kind_of_ref(ref: str) -> str:
    """A version 1 line's kind, from our reference."""
    return "payout" if ref.startswith("payout:") else "debit"


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def parse(text: str, *, on: date) -> list[SettlementLine]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(rows[0]) not in (HEADER, HEADER_V1):
        raise SettlementFileError(f"line 1: the header must be {','.join(HEADER)}")
    width = len(rows[0])
    lines: list[SettlementLine] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        try:
            if len(row) != width:
                raise ValueError(f"{len(row)} fields, {width} expected")
            ref, day, status_text, amount_text = row[:4]
            if not ref:
                raise ValueError("empty channel_ref")
            kind = row[4] if width == len(HEADER) else kind_of_ref(ref)
            if kind not in KINDS:
                raise ValueError(f"kind must be {' or '.join(KINDS)}, got {kind!r}")
            settled_on = date.fromisoformat(day)
            status = DebitStatus(status_text)
            amount = _fen(amount_text)
        except ValueError as exc:
            raise SettlementFileError(f"line {number}: {exc}") from None
        if status is DebitStatus.PENDING:
            raise SettlementFileError(f"line {number}: a settlement file holds final outcomes only")
        if kind == "payout" and status is DebitStatus.PARTIAL:
            raise SettlementFileError(f"line {number}: a payout is never partial")
        if status.moved_money != (amount > 0):
            raise SettlementFileError(f"line {number}: amount must be positive exactly when money moved")
        if settled_on != on:
            raise SettlementFileError(f"line {number}: settled_on {settled_on} is not the file's date {on}")
        if ref in seen:
            raise SettlementFileError(f"line {number}: channel_ref {ref} appears twice")
        seen.add(ref)
        lines.append(SettlementLine(ref, settled_on, status, amount, kind))
    return lines


def render(lines: Iterable[SettlementLine], *, payouts: bool = True) -> str:
    """The file; ``payouts=False`` writes version 1 (no ``kind`` column): the file of a channel that reports
    debits only, so that reconciliation does not take the day's payouts as unsettled."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER if payouts else HEADER_V1)
    for line in lines:
        if line.is_payout and not payouts:
            raise ValueError(f"{line.channel_ref}: a debits-only file cannot hold a payout")
        row = [line.channel_ref, line.settled_on.isoformat(), line.status.value, _yuan(line.amount_fen)]
        writer.writerow([*row, line.kind] if payouts else row)
    return out.getvalue()


def reports_payouts(text: str | bytes) -> bool:
    """Whether the file reports the day's payouts (version 2) or debits only (version 1): only a version 2
    file can say that a payout we posted was never settled."""
    head = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    return tuple(head.split("\n", 1)[0].rstrip("\r").split(",")) == HEADER
