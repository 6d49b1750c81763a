"""No English-only service message on a Chinese page: every message the services behind the web pages can
raise (read from their source) has a zh/en translation, by its wording or by its reason code. The ones a web
page cannot meet are listed below with the reason."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from xiaodai.web.errors_i18n import localise

SRC = Path(__file__).resolve().parents[2] / "src" / "xiaodai"
# The services whose errors the web pages render (``web.routes.HANDLED``), and the pages themselves.
SERVING_PAGES = (
    "journey/service.py",
    "servicing/service.py",
    "servicing/payoff.py",
    "servicing/repayment.py",
    "servicing/commands.py",
    "complaints/service.py",
    "complaints/extension.py",
    "complaints/handling.py",
    "approvals/service.py",
    "accounts/service.py",
    "underwriting/referrals.py",
    "money/parse.py",
    "privacy/service.py",
    "web/routes.py",
    "web/borrower_pages.py",
    "web/loan_pages.py",
    "web/staff_console_pages.py",
    "web/staff_complaint_pages.py",
    "web/staff_pages.py",
    "web/privacy_pages.py",
)
API_OR_CLI_ONLY = re.compile(
    "|".join(
        (
            r"needs a UTC offset$",  # API timestamps: the pages send the server's own time
            r"^the review request time|^the review decision time|^the feedback time|^extension times",
            r"idempotency key",  # the pages make their own keys
            r"^invalid or revoked token$|^the token has expired",  # bearer tokens: API
            r"^your own data is at /api/",
            r"journal entry|entries are not reversed|was already reversed|^only loan entries|^cannot reverse",
            r"^only a forwarded complaint reports back",  # regulator feedback: API
            r"was priced and disclosed from",  # disbursement: the journey disburses on the signing day
            r"^unknown operation |^\S+ needs: |^fields: a non-empty list|business date$|^add the key first",
            r"^amount_fen ",  # approvals filed over the API or CLI; the pages approve or reject
        )
    )
)


def _messages() -> list[tuple[str, int, str]]:
    """(file, line, message) of every ``raise …Error("…")`` in the modules above; an f-string's fields read
    as "1"."""
    found = []
    for name in SERVING_PAGES:
        tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if not called.endswith("Error"):
                continue
            for arg in node.exc.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    text = arg.value
                elif isinstance(arg, ast.JoinedStr):
                    text = "".join(v.value if isinstance(v, ast.Constant) else "1" for v in arg.values)
                else:
                    continue
                if " " in text:  # a sentence, not a reason code
                    found.append((name, node.lineno, text))
    return found


def test_the_scan_finds_the_messages() -> None:
    messages = _messages()
    assert len(messages) > 100
    assert any(text == "a repayment must be a positive amount" for _, _, text in messages)


def test_every_message_a_page_can_show_is_translated() -> None:
    untranslated = [
        f"{name}:{line}: {text}"
        for name, line, text in _messages()
        if not API_OR_CLI_ONLY.search(text) and localise(text, "zh").startswith("操作未能完成")
    ]
    assert untranslated == [], "\n".join(untranslated)


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        (
            "the amount is more than the 12345.67 that settles this loan today: pay at most 12345.67",
            "金额超过了今天结清此借款所需的 12345.67 元，最多可还 12345.67 元",
            "The amount is more than the 12345.67 that settles this loan today: pay at most 12345.67",
        ),
        (
            "the person who asked cannot approve it (CHECKER_IS_MAKER)",
            "提出人不能批准自己的申请（双人复核）",
            "The person who asked cannot approve",
        ),
        (
            "refused: LAST_ADMIN",
            "不能移除最后一位管理员的管理员角色",
            "The last admin cannot lose the admin role",
        ),
        (
            "term must be between 3 and 12 months",
            "期数须在 3 到 12 个月之间",
            "The term must be 3 to 12 months",
        ),
    ],
)
def test_wording_and_codes(message: str, zh: str, en: str) -> None:
    assert localise(message, "zh") == zh
    assert localise(message, "en") == en


def test_an_unknown_message_keeps_a_chinese_heading() -> None:
    assert localise("something nobody translated", "zh") == "操作未能完成（something nobody translated）"
    assert localise("something nobody translated", "en") == "something nobody translated"
