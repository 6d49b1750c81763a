"""All tables, imported so that ``Base.metadata`` knows them."""

from xiaodai.db.tables.ledger import JournalEntryRow, PostingRow
from xiaodai.db.tables.loans import InstallmentRow, LoanRow
from xiaodai.db.tables.operations import CommandRow, EodStepRow, LoanEventRow

__all__ = [
    "CommandRow",
    "EodStepRow",
    "InstallmentRow",
    "JournalEntryRow",
    "LoanEventRow",
    "LoanRow",
    "PostingRow",
]
