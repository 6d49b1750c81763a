"""All tables, imported so that ``Base.metadata`` knows them."""

from xiaodai.db.tables.accounts import ApiTokenRow, ConsentRow, LoginBackoffRow, UserRow
from xiaodai.db.tables.audit import AuditEventRow
from xiaodai.db.tables.collections import (
    AgencyRow,
    CollectionCaseRow,
    ContactAttemptRow,
    CreditReportEventRow,
    PromiseRow,
)
from xiaodai.db.tables.complaints import ComplaintEventRow, ComplaintRow
from xiaodai.db.tables.features import BlocklistRow, BureauPullRow
from xiaodai.db.tables.jobs import JobClaimRow, JobDefinitionRow, JobRunRow
from xiaodai.db.tables.journey import ApplicationRow, DisclosureRow
from xiaodai.db.tables.ledger import JournalEntryRow, PostingRow
from xiaodai.db.tables.lines import CreditLineEventRow, CreditLineRow, DrawdownRow, LineNoticeRow
from xiaodai.db.tables.loans import InstallmentRow, LoanRow
from xiaodai.db.tables.notify import NoticeOutboxRow, NoticePreferenceRow, NoticeRow
from xiaodai.db.tables.operations import CommandRow, EodStepRow, LoanEventRow
from xiaodai.db.tables.payments import (
    DebitAttemptRow,
    DisbursementRow,
    PaymentCallbackRow,
    PaymentCardRow,
)
from xiaodai.db.tables.privacy import ApprovalRow, DataRequestRow, PersonalDataRow
from xiaodai.db.tables.underwriting import DecisionRow, ModelRow, PolicyVersionRow

__all__ = [
    "AgencyRow",
    "ApiTokenRow",
    "ApplicationRow",
    "ApprovalRow",
    "AuditEventRow",
    "BlocklistRow",
    "BureauPullRow",
    "CollectionCaseRow",
    "CommandRow",
    "ComplaintEventRow",
    "ComplaintRow",
    "ConsentRow",
    "ContactAttemptRow",
    "CreditLineEventRow",
    "CreditLineRow",
    "CreditReportEventRow",
    "DataRequestRow",
    "DebitAttemptRow",
    "DecisionRow",
    "DisbursementRow",
    "DisclosureRow",
    "DrawdownRow",
    "EodStepRow",
    "InstallmentRow",
    "JobClaimRow",
    "JobDefinitionRow",
    "JobRunRow",
    "JournalEntryRow",
    "LineNoticeRow",
    "LoanEventRow",
    "LoanRow",
    "LoginBackoffRow",
    "ModelRow",
    "NoticeOutboxRow",
    "NoticePreferenceRow",
    "NoticeRow",
    "PaymentCallbackRow",
    "PaymentCardRow",
    "PersonalDataRow",
    "PolicyVersionRow",
    "PostingRow",
    "PromiseRow",
    "UserRow",
]
