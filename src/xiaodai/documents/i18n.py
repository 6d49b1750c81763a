"""Labels for the borrower documents (KFS, loan statement) in Chinese and English.

Plain words, short sentences: the reader is a borrower, not a lawyer. Chinese is the platform's default
language. A label may hold ``{name}`` placeholders, filled by ``str.format``-style substitution in the
templates (values are HTML-escaped there). Codes that come from the data (repayment methods, fee types,
loan states, reason codes) are looked up as ``"<group>.<code>"``; an unknown code is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

DEFAULT_LANG = "zh"
SUPPORTED_LANGS: tuple[str, ...] = ("zh", "en")
HTML_LANG: Mapping[str, str] = MappingProxyType({"zh": "zh-CN", "en": "en"})

_ZH: dict[str, str] = {
    # shared
    "doc.lender": "出借人",
    "doc.version": "版本",
    "doc.clause": "条款",
    "doc.currency_suffix": "元",
    "doc.months": "{n} 个月",
    "doc.days": "{n} 天",
    "doc.none": "无",
    # KFS
    "kfs.title": "借款关键信息说明书",
    "kfs.intro": "请在签约前仔细阅读。每一节标题前的编号（如 R1、F1）是条款编号；"
    "以后每一张账单上的每一笔款项，都会注明允许收取它的条款编号。",
    "kfs.r1.title": "年化利率（已包含全部费用）",
    "kfs.r1.explain": "这是您这笔借款每年的真实成本：按您实际到手的金额计算（内部收益率 IRR 法），"
    "利息和所有费用都已算在里面。比较不同借款时，请比较这个数字。",
    "kfs.r1.cap_within": "这个利率在利率上限之内，上限为",
    "kfs.r1.cap_not_within": "注意：这个利率没有通过利率上限检查",
    "kfs.l1.title": "借款金额和到手金额",
    "kfs.l1.principal": "借款本金",
    "kfs.l1.amount_received": "您实际到手的金额",
    "kfs.l1.received_note": "到手金额已经扣除了放款时收取的费用（见 {clauses}）。",
    "kfs.l1.received_note_at_signing": "到手金额是借款本金减去您签约时支付的费用（见 {clauses}）。",
    "kfs.l1.term": "借款期限",
    "kfs.l1.method": "还款方式",
    "kfs.l1.start_date": "起息日",
    "kfs.costs.title": "借款总共要花多少钱",
    "kfs.costs.total_interest": "利息合计",
    "kfs.costs.no_fees": "这笔借款不收取任何费用。",
    "kfs.costs.total_fees": "费用合计",
    "kfs.costs.finance_charge": "借款总成本（利息 + 费用）",
    "kfs.costs.total_repayable": "您总共要还",
    "kfs.rates.title": "其他利率口径（仅供参考）",
    "kfs.rates.explain": "下面这些数字不能代替上面的年化利率。合同名义利率没有把费用算进去，"
    "所以看起来比实际成本低。",
    "kfs.rates.monthly_irr": "月利率（内部收益率法）",
    "kfs.rates.ear": "年化复利利率（EAR）",
    "kfs.rates.nominal": "合同名义年利率（不含费用）",
    "kfs.s1.title": "还款计划",
    "kfs.s1.period": "期数",
    "kfs.s1.due_date": "还款日",
    "kfs.s1.principal": "本金",
    "kfs.s1.interest": "利息",
    "kfs.s1.fee": "费用",
    "kfs.s1.payment": "应还金额",
    "kfs.s1.balance": "还款后剩余本金",
    "kfs.p1.title": "逾期罚息",
    "kfs.p1.rule": "如果某一期没有按时还款，只对逾期未还的本金收取罚息，年利率为 {rate}，"
    "按天计算（日利率 = 年利率 ÷ 360），直到还清为止。",
    "kfs.p1.none": "这笔借款逾期不收取罚息。",
    "kfs.p1.cap": "上限：借款年化利率加上罚息年利率，合计不超过 {limit}（上限规则：{profile}）。",
    "kfs.p1.no_cap": "这笔借款没有适用的利率上限规则。",
    "kfs.e1.title": "提前还款",
    "kfs.e1.allowed": "您可以随时提前还款，可以还清全部，也可以只还一部分。",
    "kfs.e1.interest": "利息只按您实际使用借款的天数计算（《民法典》第六百七十七条）。",
    "kfs.e1.no_fee": "提前还款不收取任何手续费或违约金。",
    "kfs.e1.fee": "提前还款费用：{fee}",
    "kfs.c1.title": "冷静期",
    "kfs.c1.text": "签约后 {days} 天内，您可以取消这笔借款：只需归还本金，不收取任何利息或费用。",
    "kfs.k1.title": "投诉渠道",
    "kfs.k1.channel": "投诉方式：{channel}",
    "kfs.k1.deadline": "我们会在收到投诉后 {days} 天内作出处理决定并告诉您结果。",
    # statement
    "stmt.title": "借款对账单",
    "stmt.borrower": "借款人",
    "stmt.loan_id": "借款编号",
    "stmt.generated_on": "出具日期",
    "stmt.kfs_sha256": "本借款依据的关键信息说明书（SHA-256 指纹）",
    "stmt.kfs_note": "账单上每一笔款项旁边的编号，是这份关键信息说明书中允许收取该款项的条款。",
    "stmt.summary.title": "借款概况",
    "stmt.state": "借款状态",
    "stmt.principal": "借款本金",
    "stmt.term": "借款期限",
    "stmt.method": "还款方式",
    "stmt.apr": "年化利率（已包含全部费用）",
    "stmt.start_date": "起息日",
    "stmt.disbursed_on": "放款日",
    "stmt.closed_on": "结清日",
    "stmt.disclosed_repayment": "签约时告知的还款总额",
    "stmt.paid_total": "已还总额",
    "stmt.days_past_due": "逾期天数",
    "stmt.balances.title": "您现在还欠多少",
    "stmt.balances.principal": "未还本金",
    "stmt.balances.interest": "未还利息",
    "stmt.balances.fees": "未还费用",
    "stmt.balances.penalties": "未还罚息",
    "stmt.balances.total": "合计",
    "stmt.balances.overpayment": "您多还的金额（由我们为您保管）",
    "stmt.schedule.title": "还款计划和还款情况",
    "stmt.schedule.paid": "已还",
    "stmt.schedule.outstanding": "未还",
    "stmt.schedule.status": "状态",
    "stmt.schedule.paid_on": "还清日期",
    "stmt.lines.title": "账单明细及允许收取的条款",
    "stmt.lines.item": "项目",
    "stmt.lines.amount": "金额",
    "stmt.lines.none": "目前还没有出过账单。",
    "stmt.lines.penalty": "逾期罚息（累计收取）",
    "stmt.penalty.rule": "罚息只对逾期本金按天计算，日利率 {daily}（约合年利率 {annual}，一年按 360 天计）。",
    "stmt.penalty.cap": "上限规则：{profile}。",
    "stmt.complaints": "对本对账单有疑问？请通过{channel}联系我们。"
    "我们会在 {days} 天内作出处理决定并告诉您结果。",
    # codes
    "method.equal-installment": "等额本息（每期还款额相同）",
    "method.equal-principal": "等额本金（每期还相同的本金，利息逐期减少）",
    "method.interest-first": "先息后本（每期只还利息，最后一期还本金）",
    "method.bullet": "到期一次还本付息",
    "method.flat-fee": "分期手续费（每期按原始本金收取手续费，不收利息）",
    "fee.upfront_fee": "一次性服务费",
    "fee.monthly_fee": "每期固定服务费",
    "fee.instalment_fee": "分期手续费",
    "fee.timing.deducted": "放款时从借款中直接扣除",
    "fee.timing.at-signing": "签约时支付",
    "fee.fixed_per_instalment": "每期收取 {amount}",
    "fee.rate_per_instalment": "每期按原始借款本金的 {rate} 收取，即每期 {amount}",
    "penalty.PENALTY_CAPPED_BY_PROFILE": "为了不超过上限，罚息利率已被调低到这个水平。",
    "penalty.PENALTY_AS_DISCLOSED": "罚息利率按产品约定执行，没有超过上限。",
    "penalty.PENALTY_NONE": "不收取罚息。",
    "cap.CAP_WITHIN_LIMIT": "在上限之内",
    "cap.CAP_EXCEEDED": "超过上限",
    "cap.CAP_LPR_UNAVAILABLE": "无法取得合同成立日的贷款市场报价利率（LPR）",
    "cap.CAP_LPR_STALE": "贷款市场报价利率（LPR）数据已过期",
    "cap.CAP_CONTRACT_DATE_REQUIRED": "缺少合同成立日期",
    "state.approved": "已批准",
    "state.signed": "已签约",
    "state.active": "还款中",
    "state.overdue": "已逾期",
    "state.settled": "已结清",
    "state.written-off": "已核销",
    "state.cancelled": "已取消",
    "status.paid": "已还清",
    "status.overdue": "已逾期",
    "status.due": "待还款",
    "status.scheduled": "未到期",
}

_EN: dict[str, str] = {
    # shared
    "doc.lender": "Lender",
    "doc.version": "Version",
    "doc.clause": "Clause",
    "doc.currency_suffix": "",
    "doc.months": "{n} months",
    "doc.days": "{n} days",
    "doc.none": "none",
    # KFS
    "kfs.title": "Key facts statement",
    "kfs.intro": "Please read this carefully before you sign. The code before each heading (R1, F1 …) is the "
    "clause number. Every amount on every future bill will name the clause that allows it.",
    "kfs.r1.title": "Annual rate (all fees included)",
    "kfs.r1.explain": "This is what the loan really costs you each year, worked out on the money you "
    "actually receive (IRR method), with interest and every fee included. Use this number to compare loans.",
    "kfs.r1.cap_within": "This rate is within the legal rate cap of",
    "kfs.r1.cap_not_within": "Warning: this rate did not pass the rate-cap check",
    "kfs.l1.title": "How much you borrow and how much you receive",
    "kfs.l1.principal": "Amount borrowed (principal)",
    "kfs.l1.amount_received": "Amount you actually receive",
    "kfs.l1.received_note": "The fee charged when the loan is paid out ({clauses}) has already been "
    "taken off.",
    "kfs.l1.received_note_at_signing": "This is the amount borrowed less the fee you pay when you sign "
    "({clauses}).",
    "kfs.l1.term": "Length of the loan",
    "kfs.l1.method": "How you repay",
    "kfs.l1.start_date": "Interest starts on",
    "kfs.costs.title": "What the loan costs in total",
    "kfs.costs.total_interest": "Total interest",
    "kfs.costs.no_fees": "This loan has no fees.",
    "kfs.costs.total_fees": "Total fees",
    "kfs.costs.finance_charge": "Total cost of borrowing (interest + fees)",
    "kfs.costs.total_repayable": "Total you repay",
    "kfs.rates.title": "Other ways of stating the rate (for reference only)",
    "kfs.rates.explain": "These figures do not replace the annual rate above. The nominal rate leaves the "
    "fees out, so it looks lower than what the loan really costs.",
    "kfs.rates.monthly_irr": "Monthly rate (IRR method)",
    "kfs.rates.ear": "Compound annual rate (EAR)",
    "kfs.rates.nominal": "Nominal annual rate in the contract (fees not included)",
    "kfs.s1.title": "Repayment schedule",
    "kfs.s1.period": "No.",
    "kfs.s1.due_date": "Due date",
    "kfs.s1.principal": "Principal",
    "kfs.s1.interest": "Interest",
    "kfs.s1.fee": "Fee",
    "kfs.s1.payment": "Payment",
    "kfs.s1.balance": "Principal left after payment",
    "kfs.p1.title": "Penalty interest if you pay late",
    "kfs.p1.rule": "If a payment is late, penalty interest is charged only on the overdue principal, at "
    "{rate} a year, counted day by day (daily rate = annual rate ÷ 360) until it is paid.",
    "kfs.p1.none": "This loan charges no penalty interest for late payment.",
    "kfs.p1.cap": "Cap: the annual rate of the loan plus the penalty rate together never exceed {limit} "
    "a year (cap rule: {profile}).",
    "kfs.p1.no_cap": "No rate-cap rule applies to this loan.",
    "kfs.e1.title": "Repaying early",
    "kfs.e1.allowed": "You can repay early at any time, all of the loan or only part of it.",
    "kfs.e1.interest": "You pay interest only for the days you actually had the money "
    "(Civil Code, Art. 677).",
    "kfs.e1.no_fee": "There is no fee or charge for repaying early.",
    "kfs.e1.fee": "Fee for repaying early: {fee}",
    "kfs.c1.title": "Cooling-off period",
    "kfs.c1.text": "Within {days} days of signing you can cancel the loan: you repay only the principal, "
    "with no interest and no fees.",
    "kfs.k1.title": "How to complain",
    "kfs.k1.channel": "Where to complain: {channel}",
    "kfs.k1.deadline": "We will decide on your complaint and tell you the result within {days} days "
    "of receiving it.",
    # statement
    "stmt.title": "Loan statement",
    "stmt.borrower": "Borrower",
    "stmt.loan_id": "Loan number",
    "stmt.generated_on": "Statement date",
    "stmt.kfs_sha256": "Key facts statement this loan follows (SHA-256 fingerprint)",
    "stmt.kfs_note": "The code next to each amount is the clause of that key facts statement that allows it.",
    "stmt.summary.title": "Your loan",
    "stmt.state": "Loan status",
    "stmt.principal": "Amount borrowed",
    "stmt.term": "Length of the loan",
    "stmt.method": "How you repay",
    "stmt.apr": "Annual rate (all fees included)",
    "stmt.start_date": "Interest started on",
    "stmt.disbursed_on": "Paid out on",
    "stmt.closed_on": "Closed on",
    "stmt.disclosed_repayment": "Total repayable as told to you at signing",
    "stmt.paid_total": "Paid so far",
    "stmt.days_past_due": "Days overdue",
    "stmt.balances.title": "What you owe now",
    "stmt.balances.principal": "Principal",
    "stmt.balances.interest": "Interest",
    "stmt.balances.fees": "Fees",
    "stmt.balances.penalties": "Penalty interest",
    "stmt.balances.total": "Total",
    "stmt.balances.overpayment": "You paid more than you owed (we hold this for you)",
    "stmt.schedule.title": "Repayment schedule and payments",
    "stmt.schedule.paid": "Paid",
    "stmt.schedule.outstanding": "Still owed",
    "stmt.schedule.status": "Status",
    "stmt.schedule.paid_on": "Paid off on",
    "stmt.lines.title": "Bill lines and the clause that allows each",
    "stmt.lines.item": "Item",
    "stmt.lines.amount": "Amount",
    "stmt.lines.none": "No bills have been issued yet.",
    "stmt.lines.penalty": "Penalty interest (charged to date)",
    "stmt.penalty.rule": "Penalty interest is charged on overdue principal only, day by day, at {daily} "
    "a day (about {annual} a year, counting 360 days in a year).",
    "stmt.penalty.cap": "Cap rule: {profile}.",
    "stmt.complaints": "Questions about this statement? {channel}. We will decide and tell you the result "
    "within {days} days.",
    # codes
    "method.equal-installment": "Equal payments every month (principal and interest)",
    "method.equal-principal": "Equal principal every month, interest going down",
    "method.interest-first": "Interest only every month, all principal at the end",
    "method.bullet": "Everything repaid in one payment at the end",
    "method.flat-fee": "A monthly fee on the original amount, no interest",
    "fee.upfront_fee": "One-off service fee",
    "fee.monthly_fee": "Fixed fee every month",
    "fee.instalment_fee": "Instalment fee",
    "fee.timing.deducted": "kept back from the loan when it is paid out",
    "fee.timing.at-signing": "paid when you sign",
    "fee.fixed_per_instalment": "{amount} with every monthly payment",
    "fee.rate_per_instalment": "{rate} of the original amount borrowed with every monthly payment, "
    "that is {amount} each month",
    "penalty.PENALTY_CAPPED_BY_PROFILE": "The penalty rate has been lowered to this level to stay within "
    "the cap.",
    "penalty.PENALTY_AS_DISCLOSED": "The penalty rate is the product's rate and is within the cap.",
    "penalty.PENALTY_NONE": "No penalty interest is charged.",
    "cap.CAP_WITHIN_LIMIT": "within the cap",
    "cap.CAP_EXCEEDED": "above the cap",
    "cap.CAP_LPR_UNAVAILABLE": "the loan prime rate (LPR) for the contract date is not available",
    "cap.CAP_LPR_STALE": "the loan prime rate (LPR) table is out of date",
    "cap.CAP_CONTRACT_DATE_REQUIRED": "the contract date is missing",
    "state.approved": "approved",
    "state.signed": "signed",
    "state.active": "being repaid",
    "state.overdue": "overdue",
    "state.settled": "repaid in full",
    "state.written-off": "written off",
    "state.cancelled": "cancelled",
    "status.paid": "paid",
    "status.overdue": "overdue",
    "status.due": "due",
    "status.scheduled": "not yet due",
}

LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"zh": MappingProxyType(_ZH), "en": MappingProxyType(_EN)}
)


def check_lang(lang: str) -> str:
    """``lang`` itself if supported, else ``ValueError`` naming the supported languages."""
    if lang not in SUPPORTED_LANGS:
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(SUPPORTED_LANGS)}")
    return lang


def labels(lang: str) -> Mapping[str, str]:
    """The label table of ``lang`` (``ValueError`` for an unsupported language)."""
    return LABELS[check_lang(lang)]


def code_label(lang: str, group: str, code: str | None) -> str:
    """The label of a data code (``method``, ``fee``, ``state`` …); the code itself if it has none."""
    if code is None:
        return labels(lang)["doc.none"]
    return labels(lang).get(f"{group}.{code}", code)
