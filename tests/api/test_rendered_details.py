"""A loan's detail on the event-loop path (PostgreSQL, ``api.async_reads``) is rendered once per distinct
input and its JSON bytes served again only while a new read returns exactly the same row: never stale.
Every read still runs the statement; whatever changes a value the answer shows — an instalment billed or
paid by another path, a payout's outcome, the business date — is rendered afresh, and equals the full
stack's answer byte for byte. The one-row statement's instalments (a JSON array) read back as the
per-instalment rows of ``loan_reads.DETAIL`` do."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from support.answers import same_answer
from support.journey import borrower, signed_loan
from xiaodai.api import async_reads
from xiaodai.api.async_reads import RenderedDetails
from xiaodai.journey import loan_reads
from xiaodai.servicing.loans import INSTALLMENT_FIELDS

pytestmark = pytest.mark.usefixtures("tokens_remembered_long")  # the hot path answers remembered tokens


def _renders(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the detail answers rendered (``loan_reads.loan_answer`` calls) from now on."""
    calls: list[int] = []
    render = loan_reads.loan_answer

    def counted(loan: Any, parts: Any, **kw: Any) -> dict[str, Any]:
        calls.append(loan[0])
        return render(loan, parts, **kw)

    monkeypatch.setattr(loan_reads, "loan_answer", counted)
    return calls


def _change(client: TestClient, sql: str, **params: Any) -> None:
    with client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text(sql), params).rowcount >= 1


def test_a_detail_is_rendered_again_whenever_what_it_shows_changes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    if client.app.state.async_reads is None:  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL only: SQLite reads run in the request's worker thread, nothing remembered")
    me = borrower(client, "rendered@example.com")
    loan_id = signed_loan(client, me)
    client.cookies.clear()
    path, full = f"/api/loans/{loan_id}", f"/api/loans/{loan_id}?via=full"  # a query string: the full stack
    renders = _renders(monkeypatch)

    def hot_equals_full(rendered: bool) -> bytes:
        before = len(renders)
        hot = client.get(path, headers=me)
        assert hot.status_code == 200, hot.text
        assert len(renders) == before + rendered, "rendered" if rendered else "served again"
        same_answer(hot, client.get(full, headers=me))
        return hot.content

    first = hot_equals_full(rendered=True)
    assert hot_equals_full(rendered=False) == first  # the same row: the same bytes, not rendered again

    # end of day bills the first instalment without touching the loan row (nor its version)
    _change(client, "UPDATE installments SET billed = true WHERE loan_id = :id AND period = 1", id=loan_id)
    billed = hot_equals_full(rendered=True)
    assert billed != first
    assert hot_equals_full(rendered=False) == billed

    # another path pays it in full (amounts and the paid date, an ISO date inside the JSON array)
    _change(
        client,
        "UPDATE installments SET paid_principal_fen = principal_fen, paid_interest_fen = interest_fen,"
        " paid_fee_fen = fee_fen, paid_on = :on WHERE loan_id = :id AND period = 1",
        id=loan_id,
        on=date(2026, 2, 3),
    )
    paid = hot_equals_full(rendered=True)
    assert b'"paid_on":"2026-02-03"' in paid

    # the payout's outcome, in its own table
    _change(client, "UPDATE disbursements SET reason = 'late' WHERE loan_id = :id", id=loan_id)
    assert b'"reason":"late"' in hot_equals_full(rendered=True)

    # the business date: the same rows, another day (the second instalment falls overdue once billed)
    _change(client, "UPDATE installments SET billed = true WHERE loan_id = :id AND period = 2", id=loan_id)
    today = hot_equals_full(rendered=True)
    state = client.app.state  # type: ignore[attr-defined]
    state.settings = dataclasses.replace(state.settings, business_date=date(2026, 6, 1))
    later = hot_equals_full(rendered=True)
    assert later != today
    assert b'"status":"overdue"' in later


def _row(**values: Any) -> tuple[Any, ...]:
    return tuple(values.get(name) for name in loan_reads.DETAIL_COLUMNS)


def test_the_same_instant_at_another_utc_offset_is_another_input() -> None:
    """Two timestamps of one instant compare equal, but their text differs: the offset is part of the key."""
    at_utc = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
    at_beijing = at_utc.astimezone(timezone(timedelta(hours=8)))
    assert at_utc == at_beijing
    assert at_utc.isoformat() != at_beijing.isoformat()
    rendered = RenderedDetails()
    today = date(2026, 1, 10)
    utc_inputs = rendered.inputs(_row(id=1, kfs_signed_at=at_utc), None, today)
    rendered.put(1, utc_inputs, b"utc")
    assert rendered.get(1, rendered.inputs(_row(id=1, kfs_signed_at=at_utc), None, today)) == b"utc"
    assert rendered.get(1, rendered.inputs(_row(id=1, kfs_signed_at=at_beijing), None, today)) is None
    assert rendered.get(1, rendered.inputs(_row(id=1, kfs_signed_at=at_utc), None, date(2026, 1, 11))) is None
    terms = loan_reads.KfsTerms({"fees": [], "headline": {"apr_percent": "1"}})
    assert rendered.get(1, rendered.inputs(_row(id=1, kfs_signed_at=at_utc), terms, today)) is None


def test_only_columns_compared_exactly_are_selected() -> None:
    """int, str, bool and date compare equal only when they render the same; the timestamp is keyed with
    its offset. A Decimal (``1.0 == 1.00``) or a float column would be refused at import."""
    kinds = {column.type.python_type for column in loan_reads.DETAIL_ONE_ROW.selected_columns}
    assert kinds <= {int, str, bool, date, datetime}
    assert [loan_reads.DETAIL_COLUMNS[i] for i in async_reads._INSTANTS] == ["kfs_signed_at"]


def test_the_least_recently_shown_loans_are_dropped_beyond_the_size() -> None:
    rendered = RenderedDetails(size=2)
    today = date(2026, 1, 10)
    inputs = {n: rendered.inputs(_row(id=n), None, today) for n in (1, 2, 3)}
    rendered.put(1, inputs[1], b"1")
    rendered.put(2, inputs[2], b"2")
    assert rendered.get(1, inputs[1]) == b"1"  # 1 shown last: 2 goes first
    rendered.put(3, inputs[3], b"3")
    assert (rendered.get(1, inputs[1]), rendered.get(2, inputs[2]), rendered.get(3, inputs[3])) == (
        b"1",
        None,
        b"3",
    )


def test_the_json_instalments_read_back_as_the_rows_give_them(client: TestClient) -> None:
    if client.app.state.async_reads is None:  # type: ignore[attr-defined]
        pytest.skip("PostgreSQL only: the one-row statement aggregates with json_agg")
    me = borrower(client, "parts@example.com")
    loan_id = signed_loan(client, me)
    _change(
        client,
        "UPDATE installments SET billed = true, paid_principal_fen = 1, paid_on = :on"
        " WHERE loan_id = :id AND period = 1",
        id=loan_id,
        on=date(2026, 1, 31),
    )
    with client.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        params = {"loan_id": loan_id, "user_id": _borrower_id(conn, loan_id)}
        rows = list(conn.execute(loan_reads.DETAIL, params))
        one = conn.execute(loan_reads.DETAIL_ONE_ROW, params).one()
    first_part = len(loan_reads.DETAIL_COLUMNS) - 1
    assert tuple(one[:first_part]) == tuple(rows[0][:first_part])
    parts = loan_reads.detail_parts(one.parts_json)
    fields = INSTALLMENT_FIELDS
    assert [tuple(getattr(p, f) for f in fields) for p in parts] == [tuple(r[first_part:]) for r in rows]
    assert (parts[0].paid_on, parts[0].billed, parts[1].paid_on) == (date(2026, 1, 31), True, None)
    assert loan_reads.detail_parts(None) == []


def _borrower_id(conn: Any, loan_id: int) -> int:
    found = conn.execute(text("SELECT borrower_id FROM loans WHERE id = :id"), {"id": loan_id})
    return int(found.scalar_one())
