"""What a deletion request may erase now, and what must be kept — with the reason and the date (pure).

PIPL Art. 47: personal information is deleted on request once its purpose is served, unless a law sets a
retention period — then it is kept, and processing other than storage and security stops. Floors encoded
(RULES.md §3-4):

* AML (反洗钱法 Art. 40; 金融机构客户身份识别和客户身份资料及交易记录保存管理办法): customer identity data and
  transaction records — 10 years after the business relationship ends (last loan settled, written off or
  cancelled). While a loan is in force, the data is needed to perform the contract (PIPL Art. 13(2)).
* Complaint files: at least 3 years after the complaint is closed; an open complaint keeps its file.
* Collection contact records: 3 years after the last attempt.
* Credit reports pulled for an application (``bureau_pulls``): the purpose is the application decision, and
  the decision record must stay answerable while it can be disputed or complained about. Floor: 3 years
  after the pull (``BUREAU_REPORT_YEARS``), the same span as the complaint files (RULES.md §3: files kept
  ≥ 3 years) and the collection records; PIPL Art. 19 (kept no longer than the purpose needs) and Art. 47
  (then deleted on request). Past the floor the report itself is erased; the pull record (who, when, under
  which consent) stays for the audit trail. A report never holds the account open: it is kept with
  processing restricted, and only a decision dispute reads it.
  A complaint the person filed on or after the pull may be about that decision, so the report is part of
  the complaint's evidence: an open complaint holds it (``COMPLAINT_OPEN``), and a closed one keeps it as
  long as the complaint file (closed + ``COMPLAINT_YEARS``, reason ``COMPLAINT_FILE``) when that is later
  than the report's own floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

AML_YEARS = 10
COMPLAINT_YEARS = 3
CONTACT_LOG_YEARS = 3
BUREAU_REPORT_YEARS = 3

IDENTITY = ("name", "id_number", "phone", "address")


@dataclass(frozen=True, slots=True)
class Subject:
    as_of: date
    loans_in_force: int  # signed, active or overdue
    relationship_ended_on: date | None  # last loan closed; None if never disbursed or still in force
    had_relationship: bool  # any loan was ever disbursed
    complaints: tuple[tuple[int, date | None], ...] = ()  # (id, closed_on or None)
    last_contact_attempt_on: date | None = None
    has_emergency_contacts: bool = False
    has_bank_card: bool = False
    declined_applications: int = 0
    bureau_reports: tuple[tuple[int, date], ...] = ()  # (pull id, pulled on) of reports not erased yet
    complaint_periods: tuple[tuple[date, date | None], ...] = ()  # (received on, closed on or None)


@dataclass(frozen=True, slots=True)
class Item:
    category: str
    action: str  # delete | retain
    reason: str  # DELETABLE | CONTRACT_IN_FORCE | AML_RETENTION | COMPLAINT_FILE | COMPLAINT_OPEN | ...
    until: date | None = None  # the first day it can be deleted, when known

    def to_json(self) -> dict[str, str | None]:
        return {
            "category": self.category,
            "action": self.action,
            "reason": self.reason,
            "deletable_from": self.until.isoformat() if self.until else None,
        }


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _held(category: str, reason: str, until: date | None, as_of: date) -> Item:
    if until is not None and until <= as_of:
        return Item(category, "delete", "DELETABLE")
    return Item(category, "retain", reason, until)


def _report(
    category: str, pulled_on: date, complaints: tuple[tuple[date, date | None], ...], as_of: date
) -> Item:
    """A credit report: its own floor, held longer as evidence of a complaint filed since the pull."""
    reason, until = "DECISION_RECORDS", add_years(pulled_on, BUREAU_REPORT_YEARS)
    for received_on, closed_on in complaints:
        if received_on < pulled_on:
            continue  # filed before this report existed: not about the decision it informed
        if closed_on is None:
            return Item(category, "retain", "COMPLAINT_OPEN")
        file_until = add_years(closed_on, COMPLAINT_YEARS)
        if file_until > until:
            reason, until = "COMPLAINT_FILE", file_until
    return _held(category, reason, until, as_of)


def plan(subject: Subject) -> list[Item]:
    """One item per category of this person's data, in a stable order."""
    as_of = subject.as_of
    items: list[Item] = []

    def kyc(category: str) -> Item:
        if subject.loans_in_force:
            return Item(category, "retain", "CONTRACT_IN_FORCE")
        if subject.had_relationship and subject.relationship_ended_on is not None:
            return _held(
                category, "AML_RETENTION", add_years(subject.relationship_ended_on, AML_YEARS), as_of
            )
        return Item(category, "delete", "DELETABLE")

    items.extend(kyc(field) for field in IDENTITY)
    if subject.has_bank_card:
        items.append(kyc("bank_card"))
    items.append(kyc("loans_and_ledger"))
    if subject.has_emergency_contacts:
        items.append(
            Item("emergency_contacts", "retain", "CONTRACT_IN_FORCE")
            if subject.loans_in_force
            else Item("emergency_contacts", "delete", "DELETABLE")
        )
    if subject.declined_applications:
        items.append(Item("declined_applications", "delete", "DELETABLE"))
    for complaint_id, closed_on in subject.complaints:
        category = f"complaint:{complaint_id}"
        if closed_on is None:
            items.append(Item(category, "retain", "COMPLAINT_OPEN"))
        else:
            items.append(_held(category, "COMPLAINT_FILE", add_years(closed_on, COMPLAINT_YEARS), as_of))
    if subject.last_contact_attempt_on is not None:
        until = add_years(subject.last_contact_attempt_on, CONTACT_LOG_YEARS)
        items.append(_held("contact_records", "COLLECTION_RECORDS", until, as_of))
    kept = [i for i in items if i.action == "retain"]
    for pull_id, pulled_on in subject.bureau_reports:
        items.append(_report(f"bureau_report:{pull_id}", pulled_on, subject.complaint_periods, as_of))
    if kept:
        dates = [i.until for i in kept]
        last = None if any(d is None for d in dates) else max(d for d in dates if d is not None)
        items.append(Item("account", "retain", "RECORDS_RETAINED", last))
    else:
        items.append(Item("account", "delete", "DELETABLE"))
    return items
