"""Reading what a person typed into a form: numbers as people write them, checked against the product's
limits, with a message per field in the page's language. Nothing is ever clamped or rounded silently: a
value outside its range is an error shown next to the field, with the form as it was typed.

Pure: no request, no database. ``Form.errors`` maps a field name to its message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

MIN_AMOUNT = Decimal(500)
MAX_AMOUNT = Decimal(30000)
MIN_TERM = 3
MAX_TERM = 24

MESSAGES: dict[str, dict[str, str]] = {
    "required": {"zh": "请填写此项", "en": "Please fill this in"},
    "not_amount": {
        "zh": "请输入金额数字，例如 10000 或 10,000.50（最多两位小数）",
        "en": "Enter an amount in figures, e.g. 10000 or 10,000.50 (at most two decimals)",
    },
    "not_whole": {"zh": "请输入整数，例如 {example}", "en": "Enter a whole number, e.g. {example}"},
    "range_amount": {
        "zh": "金额须在 {low} 元至 {high} 元之间（您填写的是 {value} 元）",
        "en": "The amount must be between {low} and {high} CNY (you entered {value})",
    },
    "range_whole": {
        "zh": "须在 {low} 至 {high} 之间（您填写的是 {value}）",
        "en": "Must be between {low} and {high} (you entered {value})",
    },
    "positive": {"zh": "金额须大于 0", "en": "The amount must be more than 0"},
    "not_negative": {"zh": "金额不能为负数", "en": "The amount cannot be negative"},
    "consent": {
        "zh": "须单独勾选同意征信查询，才能审批您的申请",
        "en": "Tick the separate credit-check consent so that we can decide your application",
    },
    "choice": {"zh": "请从列表中选择", "en": "Choose one of the listed options"},
    "too_long": {"zh": "内容过长（最多 {high} 字）", "en": "Too long (at most {high} characters)"},
    "over_payoff": {
        "zh": "还款金额不能超过今日结清全部借款所需的 {payoff} 元；如要结清，请使用“全部提前还款”",
        "en": "You can pay at most {payoff} CNY, what settles the whole loan today; to settle it, use "
        "“Pay off in full”",
    },
    "form_has_errors": {
        "zh": "表单有需要修改的地方，请查看标红的项目。您填写的内容已保留。",
        "en": "Some fields need another look (marked in red). What you typed has been kept.",
    },
}

_AMOUNT = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]{1,2})?|[0-9]+(\.[0-9]{1,2})?", re.ASCII)


def message(code: str, lang: str, **values: object) -> str:
    text = MESSAGES[code].get(lang, MESSAGES[code]["en"])
    return text.format(**values)


def _money_text(value: Decimal) -> str:
    return f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"


@dataclass
class Form:
    """The values as typed, the parsed values, and one message per field in error."""

    lang: str
    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str:
        return self.typed.get(name, "").strip()

    def fail(self, name: str, code: str, **values: object) -> None:
        self.errors.setdefault(name, message(code, self.lang, **values))

    def amount(
        self,
        name: str,
        *,
        low: Decimal | None = None,
        high: Decimal | None = None,
        required: bool = True,
        positive: bool = False,
    ) -> Decimal | None:
        """An amount in CNY as people write it: ``10000``, ``10,000``, ``10，000.5``, ``¥10000``, ``1万``."""
        raw = self.text(name)
        if not raw:
            if required:
                self.fail(name, "required")
            return None
        value = parse_amount(raw)
        if value is None:
            if raw.lstrip().startswith("-"):
                self.fail(name, "not_negative")
            else:
                self.fail(name, "not_amount")
            return None
        if positive and value <= 0:
            self.fail(name, "positive")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(
                name,
                "range_amount",
                low=_money_text(low if low is not None else Decimal(0)),
                high=_money_text(high) if high is not None else "∞",
                value=_money_text(value),
            )
            return None
        return value

    def whole(self, name: str, *, low: int, high: int, example: int, required: bool = True) -> int | None:
        raw = self.text(name).replace(",", "").replace("，", "")
        if not raw:
            if required:
                self.fail(name, "required")
            return None
        if not re.fullmatch(r"[+]?\d{1,6}", raw):
            self.fail(name, "not_whole", example=example)
            return None
        value = int(raw)
        if not low <= value <= high:
            self.fail(name, "range_whole", low=low, high=high, value=value)
            return None
        return value

    def choice(self, name: str, allowed: set[str], *, required: bool = True) -> str | None:
        raw = self.text(name)
        if not raw:
            if required:
                self.fail(name, "required")
            return None
        if raw not in allowed:
            self.fail(name, "choice")
            return None
        return raw


def parse_amount(raw: str) -> Decimal | None:
    """``"10,000"`` → 10000; ``"1.5万"`` → 15000; letters, full-width digits, more than two decimals or a
    sign → None. What people add around a number (``¥``, ``元``, spaces, well-placed thousands commas, ``万``)
    is taken off here; the number itself is read by the one amount parser (``money.parse``)."""
    from xiaodai.money.money import MoneyError
    from xiaodai.money.parse import parse_amount_fen

    text = raw.strip().replace("，", ",").replace("¥", "").replace("￥", "").replace("元", "").strip()
    text = text.replace(" ", "")
    multiplier = Decimal(1)
    if text.endswith("万"):
        text, multiplier = text[:-1], Decimal(10000)
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        fen = parse_amount_fen(text.replace(",", ""), allow_zero=True)
    except MoneyError:
        return None
    value = Decimal(fen) / 100 * multiplier
    if value != value.quantize(Decimal("0.01")):
        return None
    return value.quantize(Decimal("0.01"))
