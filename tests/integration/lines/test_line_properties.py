"""Property (both databases): for random sequences of drawdowns (instalment and daily plans) and repayments
of random amounts on random later days, the ledger balances (``ledger check`` clean, memo accounts net to
zero) and every line's available limit equals its limit less its drawdowns' outstanding principal — also
in the journal's commitment accounts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from integration.lines.conftest import TODAY, user
from xiaodai.db.tables import LoanRow
from xiaodai.journey.service import payoff_fen
from xiaodai.ledger import service as ledger
from xiaodai.lines import service as lines
from xiaodai.lines.limit import LineError

DRAW = st.tuples(st.just("draw"), st.integers(1, 60), st.sampled_from([None, 3, 6, 12, 24]), st.just(0))
REPAY = st.tuples(st.just("repay"), st.integers(1, 100), st.integers(0, 5), st.integers(0, 45))
OPS = st.lists(st.one_of(DRAW, REPAY), min_size=2, max_size=7)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_draws_and_repayments_keep_the_books(
    factory: sessionmaker[Session],
    approved: Callable[[str], tuple[int, str]],
    ops: list[tuple[str, int, int | None, int]],
) -> None:
    user_id, app_id = approved(f"p{uuid.uuid4().hex[:10]}@example.com")
    with factory() as s, s.begin():
        line_id = lines.grant_line(s, user=user(s, user_id), application_id=app_id, on=TODAY, actor="t")[
            "line_id"
        ]
    day, drawn = TODAY, []
    for n, (kind, share, choice, gap) in enumerate(ops):
        day += timedelta(days=gap)
        with factory() as s, s.begin():
            me = user(s, user_id)
            view = lines.line_view(s, user=me, today=day)
            available = round(float(view["available"]) * 100)
            if kind == "draw":
                amount = max(50_000, available * share // 100 // 100 * 100)
                request = lines.DrawRequest(amount, "daily" if choice is None else "instalment", choice)
                if amount > available:  # refused with its reason, nothing posted
                    with pytest.raises(LineError, match="more than the available limit"):
                        lines.quote_draw(s, user=me, request=request, today=day)
                    continue
                quote = lines.quote_draw(s, user=me, request=request, today=day)
                drawn.append(
                    lines.draw(
                        s,
                        user=me,
                        request=request,
                        seen_sha256=quote["sha256"],
                        ip="t",
                        lang="zh",
                        today=day,
                        key=f"d{n}",
                    )["loan_id"]
                )
            elif drawn:
                loan_id = drawn[choice % len(drawn)]
                payoff = payoff_fen(s, loan_id=loan_id, on=day)
                if payoff:
                    amount = max(1, payoff * share // 100)
                    lines.repay_drawdown(s, user=me, loan_id=loan_id, amount_fen=amount, on=day, key=f"r{n}")
        with factory() as s:
            assert ledger.check(s) == []
            assert lines.check_commitments(s) == []
            view = lines.line_view(s, user=user(s, user_id), today=day)
            outstanding = s.execute(
                select(func.coalesce(func.sum(LoanRow.principal_outstanding_fen), 0)).where(
                    LoanRow.line_id == line_id
                )
            ).scalar_one()
            limit = round(float(view["limit"]) * 100)
            assert round(float(view["available"]) * 100) == limit - outstanding
            assert round(float(view["outstanding_principal"]) * 100) == outstanding
            undrawn = ledger.trial_balance(s).get("memo:commitments:undrawn", 0)
            assert undrawn >= limit - outstanding  # this line's part; other examples' lines add theirs
