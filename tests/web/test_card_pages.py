"""The bank-card page, zh and en, both databases: bind with the code, masked list, default, unbind; a
refusal shows its reason in the page's language; another borrower's card is not found."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from support.journey import borrower
from support.payment_books import card_number

PASSWORD = "correct horse 1"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "form without CSRF token"
    return match.group(1)


def login(client: TestClient, email: str) -> None:
    client.cookies.clear()
    page = client.get("/login").text
    done = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf(page)}, follow_redirects=False
    )
    assert done.status_code == 303


def bind(client: TestClient, last4: str) -> str:
    page = client.get("/me/cards").text
    started = client.post("/me/cards", data={"number": card_number(last4), "csrf": csrf(page)})
    assert started.status_code == 200
    code = re.search(r'id="sandbox-code">(\d+)<', started.text)
    assert code, started.text
    action = re.search(r'action="(/me/cards/\d+/confirm)"', started.text)
    assert action
    done = client.post(action.group(1), data={"code": code.group(1), "csrf": csrf(started.text)})
    assert done.status_code == 200
    return done.text


def test_bind_list_default_unbind_in_both_languages(client: TestClient) -> None:
    borrower(client, "web.cards@example.com")
    login(client, "web.cards@example.com")
    page = client.get("/me/cards?lang=en").text
    assert "No card bound yet" in page
    refused = client.post("/me/cards", data={"number": "6222020000000001", "csrf": csrf(page)})
    assert refused.status_code == 400
    assert "check digit does not match" in refused.text
    zh = client.get("/me/cards?lang=zh").text
    wrong = client.post("/me/cards", data={"number": card_number("1357"), "csrf": csrf(zh)})
    action = re.search(r'action="(/me/cards/\d+/confirm)"', wrong.text)
    assert action
    bad_code = client.post(action.group(1), data={"code": "x", "csrf": csrf(zh)})
    assert bad_code.status_code == 400
    assert "验证码不正确" in bad_code.text
    first = bind(client, "2468")
    assert "银行卡已绑定" in first
    assert "622202******2468" in first
    assert card_number("2468") not in first  # never the whole number
    second = bind(client, "9753")
    rows = re.findall(r'id="card-(\d+)"', second)
    assert len(rows) == 3  # the one awaiting its code, and two bound
    default_button = re.search(r'id="default-(\d+)"', second)
    assert default_button
    switched = client.post(f"/me/cards/{default_button.group(1)}/default", data={"csrf": csrf(second)})
    assert "默认卡已更换" in switched.text
    unbound = client.post(f"/me/cards/{default_button.group(1)}/unbind", data={"csrf": csrf(second)})
    assert "银行卡已解绑" in unbound.text
    assert "622202******9753" not in unbound.text
    borrower(client, "web.other@example.com")
    login(client, "web.other@example.com")
    other = client.get("/me/cards").text
    stolen = client.post(f"/me/cards/{rows[1]}/unbind", data={"csrf": csrf(other)})
    assert stolen.status_code == 404
    assert "找不到这张卡" in stolen.text
