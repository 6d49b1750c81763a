"""Page strings, zh-CN and en."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "brand": {"zh": "小贷", "en": "xiaodai"},
    "tagline": {"zh": "先看真实年化利率，再决定借不借", "en": "See the true annual rate first, then decide"},
    "apply": {"zh": "申请借款", "en": "Apply"},
    "my_loans": {"zh": "我的借款", "en": "My loans"},
    "complaints": {"zh": "投诉与建议", "en": "Complaints"},
    "export": {"zh": "导出我的数据", "en": "Export my data"},
    "login": {"zh": "登录", "en": "Sign in"},
    "logout": {"zh": "退出", "en": "Sign out"},
    "signup": {"zh": "注册", "en": "Sign up"},
    "email": {"zh": "邮箱", "en": "Email"},
    "name": {"zh": "姓名", "en": "Name"},
    "password": {"zh": "密码（至少10位）", "en": "Password (10+ characters)"},
    "submit": {"zh": "提交", "en": "Submit"},
    "age": {"zh": "年龄", "en": "Age"},
    "monthly_income": {"zh": "月收入（元）", "en": "Monthly income (CNY)"},
    "monthly_debt_payments": {"zh": "现有月还款（元）", "en": "Existing monthly debt payments (CNY)"},
    "amount": {"zh": "借款金额（元）", "en": "Amount (CNY)"},
    "term": {"zh": "期数（月）", "en": "Term (months)"},
    "method": {"zh": "还款方式", "en": "Repayment method"},
    "consent_credit": {
        "zh": "我单独同意贵司为本次申请查询我的信用信息（征信授权）",
        "en": "I separately consent to a credit check for this application",
    },
    "decision": {"zh": "审批结果", "en": "Decision"},
    "approve": {"zh": "已批准", "en": "Approved"},
    "decline": {"zh": "未获批准", "en": "Declined"},
    "refer": {"zh": "需人工复核", "en": "Referred to an underwriter"},
    "reasons": {"zh": "主要原因", "en": "Main reasons"},
    "offer": {"zh": "借款要约", "en": "Your offer"},
    "recompute": {"zh": "重新计算", "en": "Recalculate"},
    "sign": {"zh": "我已阅读上述关键信息并签署", "en": "I have read the key facts above and sign"},
    "pdf_zh": {"zh": "下载PDF（中文）", "en": "PDF (Chinese)"},
    "pdf_en": {"zh": "下载PDF（英文）", "en": "PDF (English)"},
    "state": {"zh": "状态", "en": "State"},
    "schedule": {"zh": "还款计划", "en": "Schedule"},
    "bill": {"zh": "当前账单（每一项注明合同条款）", "en": "Current bill (each line cites its clause)"},
    "clause": {"zh": "条款", "en": "Clause"},
    "repay": {"zh": "还款", "en": "Repay"},
    "payoff": {"zh": "提前还款试算", "en": "Payoff quote"},
    "prepay": {"zh": "全部提前还款", "en": "Pay off in full"},
    "cancel": {"zh": "冷静期内取消（仅归还本金）", "en": "Cancel in the cooling-off window (principal only)"},
    "statement": {"zh": "下载对账单（PDF）", "en": "Statement (PDF)"},
    "no_loans": {"zh": "暂无借款", "en": "No loans yet"},
    "error": {"zh": "出错了", "en": "Something went wrong"},
    "period": {"zh": "期", "en": "Period"},
    "due_date": {"zh": "到期日", "en": "Due date"},
    "payment": {"zh": "应还", "en": "Payment"},
    "paid": {"zh": "已还", "en": "Paid"},
    "outstanding": {"zh": "未还", "en": "Outstanding"},
    "status": {"zh": "状态", "en": "Status"},
    "item": {"zh": "项目", "en": "Item"},
    "complaint_text": {
        "zh": "如对我们的服务有异议，可通过App“我的-投诉与建议”或客服热线400-000-0000投诉；"
        "我们将在收到之日起15日内作出处理决定并告知您。",
        "en": "To complain, use Me → Complaints in the app or call 400-000-0000; we decide and "
        "tell you within 15 days of receipt.",
    },
}


def translator(lang: str) -> dict[str, str]:
    return {key: value.get(lang, value["en"]) for key, value in STRINGS.items()}
