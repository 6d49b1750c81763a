"""Loan servicing: lifecycle, allocation, accrual, delinquency, prepayment (pure) and the shell that posts them."""
