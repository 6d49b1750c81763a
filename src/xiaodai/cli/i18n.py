"""User-facing strings for the CLI, zh-CN and en."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "quote_title": {"zh": "借款报价（关键信息）", "en": "Loan quote (key facts)"},
    "apr_headline": {
        "zh": "年化利率（IRR，含全部费用）",
        "en": "Annual percentage rate (IRR, all fees included)",
    },
    "apr_note": {
        "zh": "按中国人民银行2021年第3号公告，以借款人实际可用本金为基础、采用内部收益率法计算",
        "en": "IRR on the money actually received, per PBOC announcement 2021 No. 3",
    },
    "ear": {"zh": "复利年化（参考）", "en": "Compound annual rate (reference)"},
    "monthly_irr": {"zh": "月利率（IRR）", "en": "Monthly rate (IRR)"},
    "principal": {"zh": "借款本金", "en": "Principal"},
    "net_disbursed": {"zh": "实际到手金额", "en": "Amount you receive"},
    "method": {"zh": "还款方式", "en": "Repayment method"},
    "term": {"zh": "期数（月）", "en": "Term (months)"},
    "payment": {"zh": "每期应还", "en": "Regular payment"},
    "total_interest": {"zh": "利息合计", "en": "Total interest"},
    "total_fees": {"zh": "费用合计", "en": "Total fees"},
    "upfront_fee": {"zh": "前置服务费", "en": "Up-front fee"},
    "finance_charge": {"zh": "借款总成本", "en": "Total cost of credit"},
    "total_repayment": {"zh": "还款总额", "en": "Total to repay"},
    "nominal_rate": {"zh": "名义年利率", "en": "Nominal annual rate"},
    "naive_flat": {"zh": "“月费率×12”（不是真实年化）", "en": "'Monthly fee x 12' (NOT the true rate)"},
    "odd_days": {"zh": "首期天数（非整月）", "en": "First period days (odd period)"},
    "regz": {"zh": "美国Reg Z APR", "en": "US Reg Z APR"},
    "eu": {"zh": "欧盟APRC", "en": "EU APRC"},
    "cap": {"zh": "利率上限检查", "en": "Rate cap check"},
    "cap_none": {"zh": "未检查利率上限（使用 --cap）", "en": "No rate cap checked (use --cap)"},
    "cap_ok": {"zh": "通过", "en": "within cap"},
    "schedule": {"zh": "还款计划", "en": "Repayment schedule"},
    "period": {"zh": "期", "en": "#"},
    "due_date": {"zh": "到期日", "en": "Due date"},
    "principal_col": {"zh": "本金", "en": "Principal"},
    "interest_col": {"zh": "利息", "en": "Interest"},
    "fee_col": {"zh": "费用", "en": "Fee"},
    "payment_col": {"zh": "应还", "en": "Payment"},
    "balance_col": {"zh": "剩余本金", "en": "Balance"},
    "provisional": {
        "zh": "* 该年度法定节假日尚未公布，工作日按周末推算",
        "en": "* holidays for that year are not published yet: business days assume weekends only",
    },
    "refused": {"zh": "无法出具报价：超过利率上限", "en": "No offer: the rate is over its cap"},
    "error": {"zh": "错误", "en": "error"},
}


def t(key: str, lang: str) -> str:
    entry = MESSAGES[key]
    return entry.get(lang) or entry["en"]
