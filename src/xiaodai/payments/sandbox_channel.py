"""A simulated payment channel for the demo and tests: deterministic per (seed, card, reference).

Each debit draws one scenario: success, partial (the card held part of the amount), insufficient funds,
card frozen, or a timeout whose final outcome (success or failure) arrives later as a callback and in the
settlement file. ``scripted`` fixes the scenario for a card (by its last four digits) so that a test or
a demo can ask for exactly the case it shows. The sandbox remembers what it did (in memory) so that it can
produce the late callbacks and the day's settlement file.

Payouts (代付, disbursements): every payout succeeds unless ``payout_scripted`` (by the whole destination,
e.g. ``account:7``, or its last four characters) says otherwise: ``frozen`` (card frozen), ``insufficient``
(the bank refuses the account: ACCOUNT_INVALID), ``timeout-success`` / ``timeout-fail`` (answered pending,
the outcome owed as a callback, ``payout_callbacks``, or given by ``payout_status``). Payouts are in the
day's settlement file too (``kind`` payout).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate

from xiaodai.payments.channel import (
    Callback,
    DebitRequest,
    DebitResponse,
    DebitStatus,
    FailureReason,
    PayoutReason,
    PayoutRequest,
)
from xiaodai.payments.settlement_file import SettlementLine


class Scenario(enum.Enum):
    SUCCESS = "success"
    PARTIAL = "partial"
    INSUFFICIENT = "insufficient"
    FROZEN = "frozen"
    TIMEOUT_SUCCESS = "timeout-success"
    TIMEOUT_FAIL = "timeout-fail"


# the draw when a card is not scripted: mostly success, every failure mode present
WEIGHTS: tuple[tuple[Scenario, int], ...] = (
    (Scenario.SUCCESS, 70),
    (Scenario.PARTIAL, 5),
    (Scenario.INSUFFICIENT, 12),
    (Scenario.FROZEN, 3),
    (Scenario.TIMEOUT_SUCCESS, 7),
    (Scenario.TIMEOUT_FAIL, 3),
)


_TOTAL = sum(w for _, w in WEIGHTS)
_BOUNDS = tuple(accumulate(w for _, w in WEIGHTS))  # a draw below _BOUNDS[k] (and not below k-1) → k
_DRAWS = tuple(s for s, _ in WEIGHTS)
_ORDER = (  # ``debit_batch`` branches on these indices
    Scenario.SUCCESS,
    Scenario.PARTIAL,
    Scenario.INSUFFICIENT,
    Scenario.FROZEN,
    Scenario.TIMEOUT_SUCCESS,
    Scenario.TIMEOUT_FAIL,
)
_DRAW_INDEX = tuple(_ORDER.index(_DRAWS[bisect_right(_BOUNDS, d)]) for d in range(_TOTAL))  # draw → index


@dataclass
class SandboxChannel:
    seed: int = 0
    secret: bytes = b"sandbox-channel-secret"
    scripted: dict[str, Scenario] = field(default_factory=dict)  # card last 4 digits → scenario
    name: str = "sandbox"
    # what the channel did: reference → (date, final status, amount moved)
    outcomes: dict[str, tuple[date, DebitStatus, int]] = field(default_factory=dict)
    late: list[str] = field(default_factory=list)  # references answered "pending" (callbacks owed)
    payout_scripted: dict[str, Scenario] = field(default_factory=dict)  # destination last 4 → scenario
    payouts: dict[str, tuple[date, DebitStatus, int]] = field(default_factory=dict)
    late_payouts: list[str] = field(default_factory=list)
    payouts_processing: set[str] = field(default_factory=set)  # references the status query answers pending
    _late_refs: set[str] = field(default_factory=set)  # the same, for membership (a list scan per debit
    # made a 1,000,000-debit day quadratic: 100,000 timeouts scanned per timed-out debit)
    _verifications: int = 0

    def _digest(self, *parts: str) -> bytes:
        return hashlib.sha256("|".join((str(self.seed), *parts)).encode()).digest()

    def scenario(self, card_number: str, channel_ref: str) -> Scenario:
        fixed = self.scripted.get(card_number[-4:]) if self.scripted else None
        if fixed is not None:
            return fixed
        # = _digest(card_number, channel_ref) in one call (hashing the short key from scratch is cheaper than
        # copying a hash of the seed's prefix)
        digest = hashlib.sha256(f"{self.seed}|{card_number}|{channel_ref}".encode()).digest()
        draw = int.from_bytes(digest[:4], "big") % _TOTAL
        return _DRAWS[bisect_right(_BOUNDS, draw)]

    def send_verification(self, *, card_number: str, phone_hint: str) -> str:
        self._verifications += 1
        return "v" + self._digest("verify", card_number, phone_hint, str(self._verifications)).hex()[:15]

    def code_for(self, verify_ref: str) -> str:
        """The code the sandbox "sent" by SMS (a real channel never reveals it)."""
        return f"{int.from_bytes(self._digest('code', verify_ref)[:4], 'big') % 1_000_000:06d}"

    def confirm_verification(self, *, verify_ref: str, code: str) -> bool:
        return hmac.compare_digest(self.code_for(verify_ref), code)

    def debit(self, request: DebitRequest) -> DebitResponse:
        known = self.outcomes.get(request.channel_ref)
        if known is not None and request.channel_ref not in self._late_refs:  # the channel is idempotent too
            return DebitResponse(request.channel_ref, known[1], known[2])
        scenario = self.scenario(request.card_number, request.channel_ref)
        if scenario is Scenario.SUCCESS:
            final, moved, reason = DebitStatus.SUCCEEDED, request.amount_fen, None
        elif scenario is Scenario.PARTIAL and request.amount_fen > 1:
            final, moved, reason = (
                DebitStatus.PARTIAL,
                request.amount_fen // 2,
                FailureReason.INSUFFICIENT_FUNDS,
            )
        elif scenario in (Scenario.PARTIAL, Scenario.INSUFFICIENT):
            final, moved, reason = DebitStatus.FAILED, 0, FailureReason.INSUFFICIENT_FUNDS
        elif scenario is Scenario.FROZEN:
            final, moved, reason = DebitStatus.FAILED, 0, FailureReason.CARD_FROZEN
        elif scenario is Scenario.TIMEOUT_SUCCESS:
            final, moved, reason = DebitStatus.SUCCEEDED, request.amount_fen, None
        else:
            final, moved, reason = DebitStatus.FAILED, 0, FailureReason.INSUFFICIENT_FUNDS
        self.outcomes[request.channel_ref] = (request.on, final, moved)
        if scenario in (Scenario.TIMEOUT_SUCCESS, Scenario.TIMEOUT_FAIL):
            if request.channel_ref not in self._late_refs:
                self._late_refs.add(request.channel_ref)
                self.late.append(request.channel_ref)
            return DebitResponse(request.channel_ref, DebitStatus.PENDING, 0, FailureReason.TIMEOUT.value)
        return DebitResponse(request.channel_ref, final, moved, reason.value if reason else None)

    def debit_batch(self, requests: Sequence[DebitRequest]) -> list[DebitResponse]:
        """The batch interface: each request answered as ``debit`` would, in order (the same draw and the
        same record, in one loop: a scripted card, or a reference seen before, goes through ``debit``)."""
        seed, sha256, from_bytes = self.seed, hashlib.sha256, int.from_bytes
        outcomes, late_refs, late = self.outcomes, self._late_refs, self.late
        scripted, debit = self.scripted, self.debit
        succeeded, failed, pending = DebitStatus.SUCCEEDED, DebitStatus.FAILED, DebitStatus.PENDING
        insufficient, frozen = FailureReason.INSUFFICIENT_FUNDS.value, FailureReason.CARD_FROZEN.value
        timeout = FailureReason.TIMEOUT.value
        out: list[DebitResponse] = []
        append = out.append
        for request in requests:
            ref, amount = request.channel_ref, request.amount_fen
            if ref in outcomes or (scripted and request.card_number[-4:] in scripted):
                append(debit(request))
                continue
            digest = sha256(f"{seed}|{request.card_number}|{ref}".encode()).digest()
            k = _DRAW_INDEX[from_bytes(digest[:4], "big") % _TOTAL]
            if k == 0:  # success
                outcomes[ref] = (request.on, succeeded, amount)
                append(DebitResponse(ref, succeeded, amount, None))
            elif k == 1 and amount > 1:  # partial
                outcomes[ref] = (request.on, DebitStatus.PARTIAL, amount // 2)
                append(DebitResponse(ref, DebitStatus.PARTIAL, amount // 2, insufficient))
            elif k <= 2:  # insufficient (or a partial of 1 fen)
                outcomes[ref] = (request.on, failed, 0)
                append(DebitResponse(ref, failed, 0, insufficient))
            elif k == 3:  # frozen
                outcomes[ref] = (request.on, failed, 0)
                append(DebitResponse(ref, failed, 0, frozen))
            else:  # a timeout: its outcome later
                outcomes[ref] = (request.on, succeeded, amount) if k == 4 else (request.on, failed, 0)
                if ref not in late_refs:
                    late_refs.add(ref)
                    late.append(ref)
                append(DebitResponse(ref, pending, 0, timeout))
        return out

    def callback_for(self, channel_ref: str, *, event_suffix: str = "") -> Callback:
        _, status, moved = self.outcomes[channel_ref]
        return Callback(f"evt:{channel_ref}{event_suffix}", channel_ref, status, moved)

    def late_callbacks(self) -> list[Callback]:
        """The callbacks owed for timed-out debits (deliver them in any order, as often as you like)."""
        return [self.callback_for(ref) for ref in self.late]

    @property
    def reports_payouts(self) -> bool:
        """Whether this sandbox's file reports payouts: only if it was asked to pay anything out (a sandbox
        in another process, e.g. the job worker's, knows none and writes a debits-only file)."""
        return bool(self.payouts)

    def settlement_lines(self, on: date) -> list[SettlementLine]:
        """The day's file: the debits, then the payouts, each in reference order."""
        debits = [
            SettlementLine(ref, day, status, moved)
            for ref, (day, status, moved) in sorted(self.outcomes.items())
            if day == on
        ]
        payouts = [
            SettlementLine(ref, day, status, moved, "payout")
            for ref, (day, status, moved) in sorted(self.payouts.items())
            if day == on
        ]
        return debits + payouts

    def pay_out(self, request: PayoutRequest) -> DebitResponse:
        """A payout: idempotent per ``channel_ref`` (a re-sent payout answers what the first one did, and
        moves nothing again)."""
        known = self.payouts.get(request.channel_ref)
        if known is not None and request.channel_ref not in self.late_payouts:
            return DebitResponse(request.channel_ref, known[1], known[2])
        scripted = self.payout_scripted
        scenario = scripted.get(request.destination) or scripted.get(
            request.destination[-4:], Scenario.SUCCESS
        )
        reason: PayoutReason | None = None
        if scenario in (Scenario.SUCCESS, Scenario.TIMEOUT_SUCCESS, Scenario.PARTIAL):
            final, moved = DebitStatus.SUCCEEDED, request.amount_fen  # a payout is never partial
        else:
            final, moved = DebitStatus.FAILED, 0
            reason = PayoutReason.CARD_FROZEN if scenario is Scenario.FROZEN else PayoutReason.ACCOUNT_INVALID
        self.payouts[request.channel_ref] = (request.on, final, moved)
        if scenario in (Scenario.TIMEOUT_SUCCESS, Scenario.TIMEOUT_FAIL):
            if request.channel_ref not in self.late_payouts:
                self.late_payouts.append(request.channel_ref)
            return DebitResponse(request.channel_ref, DebitStatus.PENDING, 0, PayoutReason.TIMEOUT.value)
        return DebitResponse(request.channel_ref, final, moved, reason.value if reason else None)

    def query_payout(self, channel_ref: str) -> DebitResponse | None:
        """The status query: what the sandbox did with the payout (a timed-out one has its outcome, only the
        callback is late), ``pending`` for a reference in ``payouts_processing``, None for a reference it
        never received (a fresh sandbox, e.g. another process's, knows none)."""
        known = self.payouts.get(channel_ref)
        if known is None:
            return None
        if channel_ref in self.payouts_processing:
            return DebitResponse(channel_ref, DebitStatus.PENDING, 0, PayoutReason.TIMEOUT.value)
        return DebitResponse(channel_ref, known[1], known[2])

    def payout_callbacks(self) -> list[Callback]:
        """The callbacks owed for timed-out payouts (deliver them late, in any order, as often as wanted)."""
        out = []
        for ref in self.late_payouts:
            _, status, moved = self.payouts[ref]
            out.append(Callback(f"evt:{ref}", ref, status, moved))
        return out
