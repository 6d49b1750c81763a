"""zh-CN and en strings of the bank-card page (merged into ``web.i18n``)."""

from __future__ import annotations

PAYMENT_STRINGS: dict[str, dict[str, str]] = {
    "my_cards": {"zh": "我的银行卡", "en": "My bank cards"},
    "cards_intro": {
        "zh": "到期日将从默认卡自动扣款。卡号加密保存，只显示前 6 位和后 4 位。",
        "en": "Instalments are debited from the default card on their due date. Card numbers are stored "
        "encrypted; only the first 6 and last 4 digits are ever shown.",
    },
    "cards_none": {"zh": "尚未绑定银行卡", "en": "No card bound yet"},
    "card_masked": {"zh": "卡号", "en": "Card"},
    "card_bank": {"zh": "银行", "en": "Bank"},
    "card_status": {"zh": "状态", "en": "Status"},
    "card_status_bound": {"zh": "已绑定", "en": "Bound"},
    "card_status_pending": {"zh": "待验证", "en": "Awaiting code"},
    "card_default": {"zh": "默认卡", "en": "Default"},
    "card_make_default": {"zh": "设为默认", "en": "Make default"},
    "card_unbind": {"zh": "解绑", "en": "Unbind"},
    "card_bind": {"zh": "绑定新卡", "en": "Bind a card"},
    "card_number": {"zh": "银行卡号", "en": "Card number"},
    "card_send_code": {"zh": "发送验证码", "en": "Send the code"},
    "card_code": {"zh": "短信验证码", "en": "Verification code"},
    "card_code_sent": {
        "zh": "银行已向预留手机号发送验证码，请输入以完成绑定",
        "en": "Your bank sent a code to the phone it has on file: type it to finish binding",
    },
    "card_sandbox_code": {"zh": "沙箱通道发送的验证码", "en": "Code sent by the sandbox channel"},
    "card_confirm": {"zh": "确认绑定", "en": "Confirm"},
    "card_ack_bound": {"zh": "银行卡已绑定", "en": "The card is bound"},
    "card_ack_default": {"zh": "默认卡已更换", "en": "Default card changed"},
    "card_ack_unbound": {"zh": "银行卡已解绑", "en": "The card is unbound"},
    "card_reason_CARD_NOT_DIGITS": {"zh": "卡号只能包含数字", "en": "A card number has digits only"},
    "card_reason_CARD_LENGTH": {"zh": "卡号应为 16 至 19 位", "en": "A card number has 16 to 19 digits"},
    "card_reason_CARD_LUHN": {
        "zh": "卡号校验位不对，可能输错了一位",
        "en": "The check digit does not match: a digit is probably mistyped",
    },
    "card_reason_CARD_BIN_UNKNOWN": {"zh": "暂不支持该发卡行", "en": "This issuing bank is not supported"},
    "card_reason_CARD_LENGTH_FOR_BIN": {
        "zh": "卡号位数与发卡行不符",
        "en": "The number's length does not match its bank",
    },
    "card_reason_CARD_ALREADY_BOUND": {"zh": "这张卡已经绑定", "en": "This card is already bound"},
    "card_reason_CARD_CODE_WRONG": {"zh": "验证码不正确", "en": "The verification code is wrong"},
    "card_reason_CARD_NOT_PENDING": {"zh": "这张卡不在待验证状态", "en": "This card is not awaiting a code"},
    "card_reason_CARD_NOT_BOUND": {"zh": "只有已绑定的卡可以操作", "en": "Only a bound card can do that"},
    "card_reason_CARD_UNKNOWN": {"zh": "找不到这张卡", "en": "No such card"},
    "card_reason_CARD_DEBIT_IN_FLIGHT": {
        "zh": "这张卡有扣款正在处理，处理完成后才能解绑",
        "en": "A debit on this card is still in flight: it can be unbound once it settles",
    },
    # disbursement through the payment channel (payments.payout)
    "payout_status_pending": {
        "zh": "放款处理中：已提交银行，等待结果（{amount} 元 → {dest}）",
        "en": "Being paid out: sent to the bank, waiting for its answer ({amount} CNY → {dest})",
    },
    "payout_redated": {
        "zh": "放款于 {paid_out_on} 到账，比签约日 {signed_on} 晚 {days} 天：借款自到账日起算，"
        "还款日随之顺延，到账前的日子不计利息；每期金额不超过签约时的还款计划，年化利率（IRR）不变。",
        "en": "The money reached you on {paid_out_on}, {days} days after you signed on {signed_on}: the "
        "loan runs from that day and every due date moved with it; no interest for the days before; no "
        "instalment is more than in the schedule you signed, and the annual rate (IRR) is unchanged.",
    },
    "payout_status_succeeded": {
        "zh": "已放款 {amount} 元至 {dest}",
        "en": "{amount} CNY paid out to {dest}",
    },
    "payout_status_failed": {
        "zh": "放款失败，未发生资金划转，本笔借款已取消（{amount} 元 → {dest}）",
        "en": "The payout failed: no money moved and this loan is cancelled ({amount} CNY → {dest})",
    },
    "payout_short_pending": {"zh": "放款中", "en": "paying out"},
    "payout_short_failed": {"zh": "放款失败", "en": "payout failed"},
    "payout_reason_CARD_FROZEN": {"zh": "收款卡已冻结", "en": "the receiving card is frozen"},
    "payout_reason_ACCOUNT_INVALID": {
        "zh": "收款账户无效或已销户",
        "en": "the receiving account is invalid or closed",
    },
    "payout_reason_TIMEOUT": {"zh": "银行暂未返回结果", "en": "the bank has not answered yet"},
}
