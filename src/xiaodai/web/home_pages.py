"""A signed-in borrower's home page: what they owe next and when (every open loan and drawdown together,
overdue first), their credit line's available amount and what a draw costs (APR first), loans being paid
out, and the way to each page. The figures are the services' (``servicing.views``, ``lines.views``) and the
loan page's (credit held counted as on ``/loans/N``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from xiaodai.db.tables import UserRow
from xiaodai.journey import service as journey
from xiaodai.lines.store import LineNotFoundError, own_line
from xiaodai.lines.views import summary as line_summary
from xiaodai.servicing.views import loan_view
from xiaodai.web.loan_pages import with_credit

OPEN = ("active", "overdue")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def borrower_home(session: Session, *, user: UserRow, today: date) -> dict[str, Any]:
    loans = journey.my_loans(session, user=user)
    dues: list[dict[str, Any]] = []
    outstanding = Decimal(0)
    for loan in loans:
        if loan["state"] not in OPEN:
            continue
        view = loan_view(session, loan_id=loan["id"], as_of=today)
        outstanding += Decimal(view["balances"]["principal"])
        for row in with_credit(view["schedule"], view["balances"]["overpayment"]):
            if Decimal(row["to_pay"]) > 0:
                dues.append(
                    {
                        "loan_id": loan["id"],
                        "period": row["period"],
                        "due_date": row["due_date"],
                        "amount": Decimal(row["to_pay"]),
                        "overdue": date.fromisoformat(row["due_date"]) < today,
                    }
                )
    overdue = [d for d in dues if d["overdue"]]
    upcoming = sorted((d for d in dues if not d["overdue"]), key=lambda d: (d["due_date"], d["loan_id"]))
    next_items = [d for d in upcoming if upcoming and d["due_date"] == upcoming[0]["due_date"]]
    try:
        line: dict[str, Any] | None = line_summary(session, own_line(session, user), today=today)
    except LineNotFoundError:
        line = None
    return {
        "overdue": {
            "total": _money(sum((d["amount"] for d in overdue), Decimal(0))),
            "items": [{**d, "amount": _money(d["amount"])} for d in overdue],
        }
        if overdue
        else None,
        "next": {
            "due_date": next_items[0]["due_date"],
            "days": (date.fromisoformat(next_items[0]["due_date"]) - today).days,
            "total": _money(sum((d["amount"] for d in next_items), Decimal(0))),
            "items": [{**d, "amount": _money(d["amount"])} for d in next_items],
        }
        if next_items
        else None,
        "open_loans": sum(1 for loan in loans if loan["state"] in OPEN),
        "paying_out": [f"#{loan['id']}" for loan in loans if loan["state"] == "signed"],
        "principal_outstanding": _money(outstanding),
        "line": line,
    }
