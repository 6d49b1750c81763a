"""Credit-report providers: the interface, a deterministic sandbox and a file provider.

A report is shaped after the summary page of a PBOC personal credit report (个人信用报告 · 信息概要): credit
cards and loans (accounts, open, limits, balances), overdue counts by window, the longest run of overdue
months, and lender inquiries for loan or card approval in the last 1/3/6/12 months. ``CreditReport.features``
turns it into the catalogue's ``bureau_*`` values.

The sandbox derives every figure from SHA-256 of the subject reference (the ID-number blind index, or
``user:<id>``), so a subject always gets the same report. It never invents a current overdue or a serious
delinquency: those come only from a report file (``XIAODAI_BUREAU_FILE``, a JSON object keyed by subject
reference), which is how operators and tests stage a specific credit history.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol


class BureauError(ValueError):
    """The provider could not return a report (HTTP 503: try again later)."""

    status = 503


@dataclass(frozen=True, slots=True)
class CreditReport:
    subject_ref: str
    report_on: str  # ISO date
    found: bool
    card_accounts: int = 0
    card_accounts_open: int = 0
    card_limit_total: str = "0"  # CNY
    card_used_total: str = "0"  # CNY
    loan_accounts: int = 0
    loan_accounts_open: int = 0
    loan_balance: str = "0"  # CNY
    overdue_accounts_now: int = 0
    overdue_months_12m: int = 0
    overdue_months_24m: int = 0
    max_overdue_months: int = 0
    inquiries_1m: int = 0
    inquiries_3m: int = 0
    inquiries_6m: int = 0
    inquiries_12m: int = 0

    def to_json(self) -> dict[str, Any]:
        # every field is a str, int or bool: no deep copy needed (``dataclasses.asdict`` makes one)
        return {name: getattr(self, name) for name in _REPORT_FIELDS}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> CreditReport:
        try:
            return cls(**raw)
        except TypeError as exc:
            raise BureauError(f"malformed credit report: {exc}") from exc

    def features(self) -> dict[str, Any]:
        """The catalogue's ``bureau_*`` values (money as text, ratios as text rounded to 4 places)."""
        limit = Decimal(self.card_limit_total)
        utilisation = None if limit <= 0 else str(round(Decimal(self.card_used_total) / limit, 4))
        return {
            "bureau_report_found": self.found,
            "bureau_accounts_open": self.card_accounts_open + self.loan_accounts_open,
            "bureau_overdue_accounts_now": self.overdue_accounts_now,
            "bureau_overdue_months_12m": self.overdue_months_12m,
            "bureau_overdue_months_24m": self.overdue_months_24m,
            "bureau_max_overdue_months": self.max_overdue_months,
            "bureau_inquiries_1m": self.inquiries_1m,
            "bureau_inquiries_3m": self.inquiries_3m,
            "bureau_inquiries_6m": self.inquiries_6m,
            "bureau_inquiries_12m": self.inquiries_12m,
            "bureau_utilisation": utilisation,
            "bureau_balance_outstanding": f"{Decimal(self.loan_balance):.2f}",
        }


_REPORT_FIELDS = tuple(f.name for f in fields(CreditReport))


class BureauProvider(Protocol):
    name: str

    def pull(self, *, subject_ref: str, as_of: date) -> CreditReport: ...


class SandboxBureau:
    """Deterministic per subject: the same reference always gets the same clean-to-average report."""

    name = "sandbox"

    def pull(self, *, subject_ref: str, as_of: date) -> CreditReport:
        digest = hashlib.sha256(f"xiaodai-bureau-sandbox:{subject_ref}".encode()).digest()
        if digest[0] < 26:  # about 10%: no credit history at the bureau (a thin file)
            return CreditReport(subject_ref, as_of.isoformat(), found=False)
        cards = digest[1] % 5
        cards_open = min(cards, digest[2] % 4)
        limit = cards_open * (5000 + (digest[3] % 16) * 2500)
        used = limit * (digest[4] % 90) // 100
        loans = digest[5] % 4
        loans_open = min(loans, digest[6] % 3)
        balance = loans_open * (2000 + (digest[7] % 40) * 1000)
        inquiries_12m = digest[8] % 9
        inquiries_6m = min(inquiries_12m, digest[9] % 6)
        inquiries_3m = min(inquiries_6m, digest[10] % 4)
        inquiries_1m = min(inquiries_3m, digest[11] % 3)
        overdue_24m = 1 if digest[12] < 40 else 0  # about 15% had one late month, long since cured
        return CreditReport(
            subject_ref,
            as_of.isoformat(),
            found=True,
            card_accounts=cards,
            card_accounts_open=cards_open,
            card_limit_total=str(limit),
            card_used_total=str(used),
            loan_accounts=loans,
            loan_accounts_open=loans_open,
            loan_balance=str(balance),
            overdue_accounts_now=0,
            overdue_months_12m=0,
            overdue_months_24m=overdue_24m,
            max_overdue_months=overdue_24m,
            inquiries_1m=inquiries_1m,
            inquiries_3m=inquiries_3m,
            inquiries_6m=inquiries_6m,
            inquiries_12m=inquiries_12m,
        )


class FileBureau:
    """Reports staged in a JSON file keyed by subject reference; other subjects go to ``fallback``."""

    name = "file"

    def __init__(self, path: Path, fallback: BureauProvider | None = None) -> None:
        self.path = path
        self.fallback = fallback or SandboxBureau()

    def pull(self, *, subject_ref: str, as_of: date) -> CreditReport:
        try:
            staged = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BureauError(f"the credit-report file {self.path} cannot be read: {exc}") from exc
        raw = staged.get(subject_ref) if isinstance(staged, dict) else None
        if raw is None:
            return self.fallback.pull(subject_ref=subject_ref, as_of=as_of)
        return CreditReport.from_json(
            {"found": True, **raw, "subject_ref": subject_ref, "report_on": as_of.isoformat()}
        )
