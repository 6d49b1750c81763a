"""Loan servicing: lifecycle, allocation, accrual, delinquency, prepayment (pure) and the posting shell."""
