"""The web forms parse amounts with the same parser as the API and the CLI: a bad amount re-renders the
page with a message (400) and posts nothing. Both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from web.test_pages import apply, csrf, hidden, sign_up
from xiaodai.db.tables import JournalEntryRow

BAD = ["１２", "1_0", "1,000", "1e2", "+1", "", "NaN", "1.234", "1" * 30, "1e308"]


def _entries(client: TestClient) -> int:
    factory = client.app.state.session_factory  # type: ignore[attr-defined]
    with factory() as s:
        return int(s.execute(select(func.count()).select_from(JournalEntryRow)).scalar_one())


def test_bad_amounts_in_the_repay_form_post_nothing(client: TestClient) -> None:
    sign_up(client, "f@example.com")
    offer_url = apply(client)
    offer = client.get(offer_url).text
    for amount in ("1e4", "１２"):
        assert client.get(offer_url, params={"amount": amount}).status_code == 400
    fields = ("kfs_sha256", "amount", "term", "method")
    signed = client.post(
        offer_url + "/sign", data={"csrf": csrf(offer), **{f: hidden(offer, f) for f in fields}}
    )
    loan_page, loan_url = signed.text, str(signed.url)
    before = _entries(client)
    for n, amount in enumerate(BAD):
        form = {"csrf": csrf(loan_page), "amount": amount, "idempotency_key": f"bad-{n}"}
        refused = client.post(loan_url + "/repay", data=form)
        assert refused.status_code in (400, 422), (amount, refused.status_code)  # 422: an empty field
    assert _entries(client) == before
    form = {"csrf": csrf(loan_page), "amount": "0.01", "idempotency_key": "good"}
    assert client.post(loan_url + "/repay", data=form).status_code == 200
    assert _entries(client) == before + 1
