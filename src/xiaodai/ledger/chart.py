"""The chart of accounts of a consumer lender. Debits are positive, credits negative (fen)."""

from __future__ import annotations

import enum


class AccountType(enum.Enum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    MEMO = "memo"  # off-balance-sheet: memo accounts net to zero among themselves


class Account(enum.Enum):
    LOAN_PRINCIPAL = "assets:loans:principal"
    LOAN_INTEREST = "assets:loans:interest"
    LOAN_FEES = "assets:loans:fees"
    LOAN_PENALTIES = "assets:loans:penalties"
    CASH = "assets:cash:settlement"
    LOSS_PROVISION = "assets:loans:loss-provision"  # contra-asset (credit balance)
    OVERPAYMENT = "liabilities:borrowers:overpayment"  # suspense: money owed back or to be applied
    # money the payment channel moved that reconciliation could not match to a booked debit (credit), or
    # booked debits the channel did not settle (debit); cleared by operations (payments.reconcile)
    PAYMENT_SUSPENSE = "liabilities:payments:suspense"
    INTEREST_INCOME = "income:interest"
    FEE_INCOME = "income:fees"
    PENALTY_INCOME = "income:penalties"
    RECOVERY_INCOME = "income:recoveries"
    WRITE_OFF_EXPENSE = "expenses:write-off"
    PROVISION_EXPENSE = "expenses:loss-provision"
    # Off-balance-sheet (memo) accounts: the undrawn part of credit lines, a commitment to lend. Debit =
    # the undrawn commitment; the contra account holds the opposite, so the pair nets to zero (lines).
    COMMITMENT_UNDRAWN = "memo:commitments:undrawn"
    COMMITMENT_CONTRA = "memo:commitments:contra"

    @property
    def type(self) -> AccountType:
        head = self.value.split(":", 1)[0]
        return {
            "assets": AccountType.ASSET,
            "liabilities": AccountType.LIABILITY,
            "income": AccountType.INCOME,
            "expenses": AccountType.EXPENSE,
            "memo": AccountType.MEMO,
        }[head]

    @property
    def is_loan_receivable(self) -> bool:
        return self in RECEIVABLES


RECEIVABLES = (Account.LOAN_PRINCIPAL, Account.LOAN_INTEREST, Account.LOAN_FEES, Account.LOAN_PENALTIES)
