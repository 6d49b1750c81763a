"""Page strings, zh-CN and en."""

from __future__ import annotations

from functools import cache

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
    "positive_factors": {"zh": "对评分有利的因素", "en": "What helped your score"},
    "score_lowered": {"zh": "使评分降低的因素", "en": "What lowered your score"},
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
    "repay_amount": {"zh": "还款金额（元）", "en": "Amount to pay (CNY)"},
    "bal_principal": {"zh": "本金", "en": "principal"},
    "bal_interest": {"zh": "利息", "en": "interest"},
    "bal_fees": {"zh": "费用", "en": "fees"},
    "bal_penalties": {"zh": "罚息", "en": "penalties"},
    "bal_overpayment": {"zh": "多还款（将自动抵扣或退还）", "en": "overpayment (applied or refunded)"},
    "item_principal": {"zh": "本金", "en": "principal"},
    "item_interest": {"zh": "利息", "en": "interest"},
    "item_fee": {"zh": "费用", "en": "fee"},
    "item_penalty": {"zh": "罚息", "en": "penalty interest"},
    "status_paid": {"zh": "已还清", "en": "paid"},
    "status_due": {"zh": "待还", "en": "due"},
    "status_overdue": {"zh": "逾期", "en": "overdue"},
    "status_scheduled": {"zh": "未到期", "en": "scheduled"},
    "state_active": {"zh": "还款中", "en": "active"},
    "state_overdue": {"zh": "逾期", "en": "overdue"},
    "state_settled": {"zh": "已结清", "en": "settled"},
    "state_written-off": {"zh": "已核销", "en": "written off"},
    "state_signed": {"zh": "已签约", "en": "signed"},
    "state_approved": {"zh": "已批准", "en": "approved"},
    "state_cancelled": {"zh": "已取消", "en": "cancelled"},
    "method_equal-installment": {"zh": "等额本息", "en": "equal instalments"},
    "method_equal-principal": {"zh": "等额本金", "en": "equal principal"},
    "method_interest-first": {"zh": "先息后本", "en": "interest first"},
    "worklist": {"zh": "催收工作台（仅显示分配给我的账户）", "en": "Collector worklist (my accounts only)"},
    "violations": {"zh": "被拦截的联系（违规预防报告）", "en": "Blocked contacts (violations prevented)"},
    "bucket": {"zh": "逾期分档", "en": "Bucket"},
    "call_now": {"zh": "此刻可否致电", "en": "Call allowed now"},
    "next_allowed": {"zh": "下次可联系时间", "en": "Next allowed contact"},
    "collection_history": {"zh": "联系记录", "en": "Contact history"},
    "time": {"zh": "时间", "en": "Time"},
    "channel": {"zh": "渠道", "en": "Channel"},
    "outcome": {"zh": "结果", "en": "Outcome"},
    "actor": {"zh": "操作人", "en": "By"},
    "message": {"zh": "内容（短信/话术）", "en": "Message / script"},
    "attempt_contact": {"zh": "发起联系（先经合规引擎）", "en": "Contact (policy engine first)"},
    "complaint_ack": {"zh": "已受理，编号", "en": "Received, reference"},
    "deadline": {"zh": "处理时限", "en": "decision due by"},
    "complaint_narrative": {"zh": "请描述您遇到的问题", "en": "What happened?"},
    "my_complaints": {"zh": "我的投诉", "en": "My complaints"},
    "request_review": {
        "zh": "申请核查（处理决定告知后30日内）",
        "en": "Ask for a review (within 30 days of the decision)",
    },
    "review_ack": {"zh": "已受理核查申请，编号", "en": "Review requested, reference"},
    "review_deadline": {"zh": "核查结论告知时限", "en": "review decided by"},
    "complaint_queue": {"zh": "投诉处理队列（按处理时限排序）", "en": "Complaint queue (by deadline)"},
    "category": {"zh": "类别", "en": "Category"},
    "escalation": {"zh": "预警", "en": "Escalation"},
    "evidence": {"zh": "已附证据", "en": "Evidence attached"},
    "kpis": {"zh": "投诉指标", "en": "Complaint KPIs"},
    "on_time_rate": {"zh": "按时办结率", "en": "On-time rate"},
    "median_days": {"zh": "办结天数中位数", "en": "Median days to resolve"},
    "escalated": {"zh": "监管转办", "en": "Regulator-forwarded"},
    "root_causes": {"zh": "主要根因（溯源整改）", "en": "Top root causes"},
    "sla_mix": {"zh": "时限状态分布", "en": "Clock status"},
    "login_failed": {
        "zh": "邮箱或密码错误。同一地址连续输错5次后，该地址对该账户的登录将暂停"
        "（30秒起，逐次加倍，最长15分钟），暂停期间即使密码正确也无法登录。",
        "en": "Wrong email or password. After 5 failed attempts from one address, sign-in to that account "
        "from that address is paused (30 seconds, doubling up to 15 minutes), during which even the right "
        "password is refused.",
    },
    "login_rate_limited": {
        "zh": "此网络地址的登录尝试过于频繁，请在 {seconds} 秒后重试。",
        "en": "Too many sign-in attempts from this address; try again in {seconds} seconds.",
    },
    "signed_up": {
        "zh": "如果该邮箱此前没有账户，现在已经创建：请用该邮箱和密码登录。",
        "en": "If this email had no account, it has one now: sign in with it and your password.",
    },
    "session_expired": {
        "zh": "登录已过期（闲置30分钟或登录超过8小时），请重新登录。",
        "en": "Your session has expired (30 minutes idle or 8 hours since sign-in); please sign in again.",
    },
    "internal_error": {
        "zh": "系统内部出错，已记录在案，请稍后重试；如需联系我们，请提供参考编号。",
        "en": "Something went wrong on our side. It has been logged; please try again later, and quote "
        "the reference if you contact us.",
    },
    "reference": {"zh": "参考编号", "en": "Reference"},
    "complaint_text": {
        "zh": "如对我们的服务有异议，可通过App“我的-投诉与建议”或客服热线400-000-0000投诉；"
        "我们将在收到之日起15日内作出处理决定并告知您。",
        "en": "To complain, use Me → Complaints in the app or call 400-000-0000; we decide and "
        "tell you within 15 days of receipt.",
    },
    # navigation, landing page, forms, money actions
    "skip_to_content": {"zh": "跳到正文", "en": "Skip to content"},
    "navigation": {"zh": "主导航", "en": "Main navigation"},
    "staff_home": {"zh": "员工工作台", "en": "Staff console"},
    "sign_in_first": {
        "zh": "请先登录，登录后将回到您刚才要访问的页面。",
        "en": "Please sign in; you will be taken back to the page you asked for.",
    },
    "cny": {"zh": "元", "en": "CNY"},
    "calc_title": {"zh": "借款计算器", "en": "Loan calculator"},
    "calc_hint": {
        "zh": "示例计算，不是报价：实际利率以审批后的借款要约为准。",
        "en": "An example, not an offer: your rate is the one in the offer after your application is "
        "decided.",
    },
    "calc_rate": {"zh": "示例名义年利率", "en": "Example nominal annual rate"},
    "calc_button": {"zh": "计算", "en": "Calculate"},
    "calc_apr": {"zh": "年化利率（内部收益率法，含全部费用）", "en": "Annual rate (IRR, all fees included)"},
    "calc_first_payment": {"zh": "首期应还", "en": "First payment"},
    "calc_total_interest": {"zh": "利息合计", "en": "Total interest"},
    "calc_total_repayable": {"zh": "还款总额", "en": "Total to repay"},
    "calc_disclaimer": {
        "zh": "按今天放款、每月同日还款计算；不含任何费用。",
        "en": "Computed as if paid out today with monthly payments on the same day; no fees.",
    },
    "amount_range": {"zh": "（500 至 30,000 元）", "en": "(500 to 30,000 CNY)"},
    "term_range": {"zh": "（3 至 24 个月）", "en": "(3 to 24 months)"},
    "offer_amount_range": {
        "zh": "（500 元至您的额度 {limit} 元）",
        "en": "(500 CNY up to your limit, {limit} CNY)",
    },
    "offer_term_range": {"zh": "（{low} 至 {high} 个月）", "en": "({low} to {high} months)"},
    "offer_differs": {
        "zh": "您申请的是 {asked} 元、{term} 期；根据您的收入和负债，我们可以提供的额度为 {limit} 元，"
        "下方要约为 {offered} 元、{offered_term} 期。您可以在额度内修改金额和期数后重新计算。",
        "en": "You asked for {asked} CNY over {term} months; from your income and debts we can lend up to "
        "{limit} CNY, so the offer below is {offered} CNY over {offered_term} months. You can change the "
        "amount and term within your limit and recalculate.",
    },
    "change_offer": {"zh": "修改金额、期数或还款方式", "en": "Change the amount, term or repayment method"},
    "sign_what": {
        "zh": "签署的是上方显示的 {amount} 元、{term} 期要约。",
        "en": "You sign the offer shown above: {amount} CNY over {term} months.",
    },
    "loan_no": {"zh": "借款", "en": "Loan"},
    "apr_short": {"zh": "年化利率", "en": "Annual rate (APR)"},
    "start_date": {"zh": "起息日", "en": "Start date"},
    "signed_kfs": {"zh": "已签署的关键信息表", "en": "Signed key-facts statement"},
    "credit_held": {"zh": "预存抵扣", "en": "Covered by credit held"},
    "credit_note": {
        "zh": "您提前支付的 {amount} 元已预存，将在对应期到期日自动抵扣，下表“预存抵扣”列显示将抵扣的期次。",
        "en": "{amount} CNY you paid in advance is held as a credit and applied on each due date; the "
        "“Covered by credit held” column shows which instalments it will pay.",
    },
    "status_covered": {"zh": "已预存，到期自动抵扣", "en": "covered, applied on the due date"},
    "repay_at_most": {"zh": "（最多 {payoff} 元）", "en": "(at most {payoff} CNY)"},
    "repay_continue": {"zh": "还款（下一步确认）", "en": "Repay (confirm next)"},
    "cooling_off_title": {"zh": "冷静期", "en": "Cooling-off"},
    "cooling_off_text": {
        "zh": "{until} 前（含当日）可取消借款：只需归还收到的本金，不收利息和费用。",
        "en": "Until {until} (inclusive) you can cancel: you return only the principal received, with no "
        "interest or fees.",
    },
    "cancelled_note": {
        "zh": "已于 {on} 在冷静期内取消，本金已归还，不再有任何应还款项。",
        "en": "Cancelled within the cooling-off window on {on}; the principal was returned and nothing more "
        "is owed.",
    },
    "confirm_repay": {"zh": "确认还款", "en": "Confirm the repayment"},
    "confirm_prepay": {"zh": "确认全部提前还款", "en": "Confirm paying off in full"},
    "confirm_cancel": {"zh": "确认冷静期取消", "en": "Confirm the cooling-off cancellation"},
    "confirm_repay_text": {
        "zh": "将先偿还已到期的款项（罚息、利息、本金，按合同约定顺序）；尚未到期的部分预存，到期自动抵扣。"
        "今日结清全部借款需 {payoff} 元。",
        "en": "It pays what is due first (penalty, interest, principal, in the contract's order); any part "
        "not yet due is held as a credit and applied on the due date. Settling the whole loan today "
        "takes {payoff} CNY.",
    },
    "confirm_prepay_text": {
        "zh": "结清全部借款：利息只计算到今天，不收提前还款违约金。",
        "en": "Settles the whole loan: interest only up to today, no prepayment fee.",
    },
    "confirm_cancel_text": {
        "zh": "取消借款：归还收到的本金，不收利息和费用；取消后借款结清。",
        "en": "Cancels the loan: you return the principal received, with no interest or fees; the loan is "
        "then settled.",
    },
    "confirm_button": {"zh": "确认并付款", "en": "Confirm and pay"},
    "back_to_loan": {"zh": "返回借款页面", "en": "Back to the loan"},
    "receipt": {"zh": "回单", "en": "Receipt"},
    "receipt_repay": {"zh": "还款", "en": "repayment"},
    "receipt_prepay": {"zh": "全部提前还款", "en": "payoff in full"},
    "receipt_cancel": {"zh": "冷静期取消", "en": "cooling-off cancellation"},
    "receipt_date": {"zh": "日期", "en": "Date"},
    "receipt_where": {"zh": "这笔钱用在了哪里", "en": "Where the money went"},
    "receipt_credit": {"zh": "预存（到期自动抵扣）", "en": "held as credit (applied on the due date)"},
    "receipt_cancel_text": {
        "zh": "已归还收到的本金；借款已结清，不再有应还款项。",
        "en": "The principal received was returned; the loan is settled and nothing more is owed.",
    },
    "payoff_now": {"zh": "今日结清金额", "en": "Payoff today"},
    "complaint_loan": {"zh": "涉及的借款（可不选）", "en": "Which loan (optional)"},
    "complaint_no_loan": {"zh": "不涉及具体借款", "en": "Not about one loan"},
    "complaint_sign_in": {"zh": "登录后在线投诉", "en": "Sign in to complain online"},
    "no_disclosure": {
        "zh": "此笔借款没有已签署的关键信息表（非经在线申请发放），因此无法生成引用条款的对账单。",
        "en": "This loan has no signed key-facts statement (it was not made through the online journey), "
        "so no statement citing its clauses can be produced.",
    },
    "owed_now": {"zh": "当前余额", "en": "Balances"},
    "forbidden_title": {"zh": "无权访问", "en": "Not allowed"},
    "forbidden_text": {
        "zh": "您的账户角色无权查看此页面。如认为需要此权限，请联系管理员。",
        "en": "Your account's role does not allow this page. If you need it, ask an administrator.",
    },
    "reason": {"zh": "原因", "en": "Reason"},
    "back_home": {"zh": "返回我的首页", "en": "Back to my home page"},
    "state_written_off": {"zh": "已核销", "en": "written off"},
    "method_flat-fee": {"zh": "固定费率", "en": "flat fee"},
    "cstatus_open": {"zh": "处理中", "en": "open"},
    "cstatus_triage": {"zh": "待分类", "en": "awaiting classification"},
    "cstatus_closed": {"zh": "已办结", "en": "closed"},
    "cstatus_merged": {"zh": "已合并到同一投诉", "en": "merged into an earlier complaint"},
    # personal data (/me/data, /staff/people/{id})
    "my_data": {"zh": "我的个人信息", "en": "My personal data"},
    "field_name": {"zh": "姓名", "en": "Name"},
    "field_id_number": {"zh": "身份证号", "en": "ID number"},
    "field_phone": {"zh": "手机号", "en": "Mobile"},
    "field_bank_card": {"zh": "银行卡号", "en": "Bank card"},
    "field_address": {"zh": "地址", "en": "Address"},
    "field_emergency_contacts": {"zh": "紧急联系人", "en": "Emergency contacts"},
    "pd_profile": {"zh": "我们持有的您的信息（脱敏显示）", "en": "What we hold about you (masked)"},
    "pd_none": {"zh": "未填写", "en": "not given"},
    "pd_form_set": {"zh": "填写个人资料", "en": "Set my personal data"},
    "pd_form_correct": {
        "zh": "更正个人资料（将记录为一项更正申请）",
        "en": "Correct my personal data (recorded as a correction request)",
    },
    "pd_form_hint": {
        "zh": "留空的项保持不变。为保护您的信息，输入框不会预填我们已保存的内容。",
        "en": "Leave a field empty to keep it unchanged. To protect you, the inputs are never prefilled "
        "with what we hold.",
    },
    "pd_contacts_hint": {
        "zh": "紧急联系人须由您本人逐一填写（最多3位），我们从不读取手机通讯录；填写后将替换原有联系人，"
        "且仅在催收规则允许的范围内使用。",
        "en": "Type in up to 3 emergency contacts yourself (we never read your phone's address book); "
        "the ones you enter replace the current list and are used only as the collection rules allow.",
    },
    "pd_contact": {"zh": "联系人", "en": "Contact"},
    "pd_relation": {"zh": "关系", "en": "Relation"},
    "pd_choose": {"zh": "请选择", "en": "choose"},
    "rel_spouse": {"zh": "配偶", "en": "spouse"},
    "rel_parent": {"zh": "父母", "en": "parent"},
    "rel_child": {"zh": "子女", "en": "child"},
    "rel_sibling": {"zh": "兄弟姐妹", "en": "sibling"},
    "rel_relative": {"zh": "其他亲属", "en": "relative"},
    "rel_friend": {"zh": "朋友", "en": "friend"},
    "rel_colleague": {"zh": "同事", "en": "colleague"},
    "rel_other": {"zh": "其他", "en": "other"},
    "pd_sensitive_consent": {
        "zh": "我单独同意贵司处理我的身份证号和银行卡号（敏感个人信息）",
        "en": "I separately consent to the processing of my ID number and bank card "
        "(sensitive personal information)",
    },
    "pd_sensitive_explain": {
        "zh": "依《个人信息保护法》第29条，处理敏感个人信息须取得您的单独同意；仅用于核验身份及放款、还款，"
        "可随时撤回。",
        "en": "PIPL Art. 29: sensitive personal information needs your separate consent; it is used only "
        "to verify your identity and to pay out and collect the loan, and you can withdraw it at any time.",
    },
    "pd_save": {"zh": "保存", "en": "Save"},
    "pd_saved": {"zh": "已保存", "en": "Saved"},
    "pd_correction_recorded": {"zh": "已记录更正申请，编号", "en": "Correction recorded, request"},
    "pd_consents": {"zh": "我的授权", "en": "My consents"},
    "pd_consent": {"zh": "授权事项", "en": "Consent"},
    "pd_text_version": {"zh": "文本版本", "en": "Text version"},
    "pd_granted": {"zh": "授权时间（北京时间）", "en": "Granted (Beijing time)"},
    "pd_withdrawn": {"zh": "撤回时间（北京时间）", "en": "Withdrawn (Beijing time)"},
    "pd_withdraw": {"zh": "撤回", "en": "Withdraw"},
    "pd_grant": {"zh": "授权", "en": "Grant"},
    "pd_withdraw_hint": {
        "zh": "撤回即时生效，不影响撤回前基于授权已进行的处理；"
        "借款合同条款由已签署的合同约束，不能在此撤回。",
        "en": "A withdrawal takes effect at once; what was done before stays lawful. The loan terms are "
        "governed by the signed contract and cannot be withdrawn here.",
    },
    "pd_consent_withdrawn": {"zh": "已撤回授权", "en": "Consent withdrawn"},
    "pd_fields_erased": {"zh": "已删除", "en": "erased"},
    "pd_fields_kept": {"zh": "依法保留", "en": "kept by law or contract"},
    "pd_consent_granted": {"zh": "已授权", "en": "Consent granted"},
    "consent_credit_check": {"zh": "征信查询", "en": "Credit check"},
    "consent_terms": {"zh": "借款合同条款", "en": "Loan terms"},
    "consent_sensitive_data": {"zh": "处理敏感个人信息", "en": "Sensitive personal information"},
    "consent_agency_sharing": {"zh": "向委外催收机构提供信息", "en": "Sharing with a collection agency"},
    "pd_requests": {"zh": "我的数据权利", "en": "My data rights"},
    "pd_export_hint": {
        "zh": "以JSON文件下载我们持有的您的全部信息（明文，仅限本人）。",
        "en": "Download everything we hold about you as a JSON file (in clear, for you only).",
    },
    "pd_plan": {"zh": "如现在申请删除，将如此处理", "en": "If you ask for deletion now"},
    "pd_category": {"zh": "数据类别", "en": "Data"},
    "pd_action": {"zh": "处理", "en": "Action"},
    "pd_action_delete": {"zh": "删除", "en": "delete"},
    "pd_action_retain": {"zh": "保留", "en": "keep"},
    "pd_reason": {"zh": "原因", "en": "Reason"},
    "pd_deletable_from": {"zh": "可删除日期", "en": "Can be deleted from"},
    "cat_loans_and_ledger": {"zh": "借款与账务记录", "en": "Loans and ledger"},
    "cat_declined_applications": {"zh": "未获批准的申请", "en": "Declined applications"},
    "cat_complaint": {"zh": "投诉档案", "en": "Complaint file"},
    "cat_contact_records": {"zh": "催收联系记录", "en": "Collection contact records"},
    "cat_bureau_report": {"zh": "征信报告", "en": "Credit report"},
    "cat_account": {"zh": "账户", "en": "Account"},
    "retention_DELETABLE": {"zh": "无法律要求保留，可删除", "en": "No law requires us to keep it"},
    "retention_CONTRACT_IN_FORCE": {
        "zh": "借款合同仍在履行，履行合同所必需（《个人信息保护法》第13条）；结清后适用反洗钱保存期",
        "en": "A loan is in force: needed to perform the contract (PIPL Art. 13); once it is closed the "
        "anti-money-laundering period applies",
    },
    "retention_AML_RETENTION": {
        "zh": "反洗钱法要求自业务关系结束起保存10年",
        "en": "Anti-money-laundering law: kept 10 years after the relationship ends",
    },
    "retention_COMPLAINT_FILE": {
        "zh": "投诉档案自办结起至少保存3年",
        "en": "Complaint files are kept at least 3 years after closing",
    },
    "retention_COMPLAINT_OPEN": {"zh": "投诉尚未办结", "en": "The complaint is still open"},
    "retention_COLLECTION_RECORDS": {
        "zh": "催收联系记录自最后一次联系起保存3年",
        "en": "Collection contact records are kept 3 years after the last attempt",
    },
    "retention_DECISION_RECORDS": {
        "zh": "征信报告仅用于审批决定，自查询起保存3年以备异议与投诉，"
        "期满删除（《个人信息保护法》第19、47条）",
        "en": "A credit report serves the application decision: kept 3 years after the pull for disputes and "
        "complaints, then deleted (PIPL Arts. 19, 47)",
    },
    "retention_RECORDS_RETAINED": {
        "zh": "仍有须保留的记录，账户随之保留",
        "en": "Other records must be kept, so the account stays with them",
    },
    "pd_confirm_delete": {
        "zh": "我确认申请删除我的个人信息；法律要求保留的部分将按上表保留至可删除日期。",
        "en": "I confirm I want my personal data deleted; what the law requires us to keep stays as "
        "shown above until the date it can be deleted.",
    },
    "pd_confirm_required": {
        "zh": "请勾选确认框后再申请删除（CONFIRMATION_REQUIRED）",
        "en": "Tick the confirmation box to request deletion (CONFIRMATION_REQUIRED)",
    },
    "pd_request_deletion": {"zh": "申请删除", "en": "Request deletion"},
    "pd_deletion_ack": {"zh": "删除申请已处理，编号", "en": "Deletion request handled, request"},
    "pd_erased": {
        "zh": "您的个人信息已删除，账户已注销。",
        "en": "Your personal data has been deleted and your account closed.",
    },
    "pd_history": {"zh": "申请记录", "en": "Request history"},
    "pd_request_kind": {"zh": "类型", "en": "Kind"},
    "pd_submitted": {"zh": "提交时间（北京时间）", "en": "Submitted (Beijing time)"},
    "pd_result": {"zh": "结果", "en": "Result"},
    "req_correction": {"zh": "更正", "en": "correction"},
    "req_deletion": {"zh": "删除", "en": "deletion"},
    "reqstatus_done": {"zh": "已完成", "en": "done"},
    "reqstatus_partially_done": {"zh": "部分完成", "en": "partly done"},
    "reqstatus_refused": {"zh": "暂不能删除", "en": "kept for now"},
    "pd_corrected": {"zh": "已更正", "en": "Corrected"},
    "pd_deleted": {"zh": "已删除", "en": "Deleted"},
    "pd_retained": {"zh": "保留", "en": "Kept"},
    "pd_person": {"zh": "借款人个人信息", "en": "Borrower's personal data"},
    "pd_masked_default": {
        "zh": "默认脱敏显示；如工作需要查看明文，请选择字段并填写理由。",
        "en": "Masked by default; to see fields in clear, choose them and give a reason.",
    },
    "pd_value": {"zh": "内容", "en": "Value"},
    "pd_clear": {"zh": "明文", "en": "in clear"},
    "pd_masked": {"zh": "已脱敏", "en": "masked"},
    "pd_unmask": {"zh": "查看明文", "en": "Show in clear"},
    "pd_unmask_fields": {"zh": "需查看明文的字段", "en": "Fields to show in clear"},
    "pd_justification": {
        "zh": "理由（真实的一句话：至少5个汉字或10个字符，记入审计日志）",
        "en": "Justification (a real reason, 10+ characters, written to the audit trail)",
    },
    "pd_break_glass": {
        "zh": "紧急访问（break-glass）：超出本人角色权限，须说明理由，并将被重点审查",
        "en": "Break-glass: beyond my role's permissions, with a reason, reviewed as such",
    },
    "pd_audited": {
        "zh": "本次访问已记入审计日志",
        "en": "This access is recorded in the audit trail",
    },
    "pd_access": {"zh": "访问依据", "en": "Access"},
    "pd_clear_once": {
        "zh": "明文仅在本次页面中显示，不会保存；刷新或离开后即不再显示。",
        "en": "The clear values are shown in this response only and are not kept; reload or leave and "
        "they are gone.",
    },
    "pd_refused": {"zh": "已拒绝（拒绝也记入审计日志）", "en": "Refused (refusals are audited too)"},
    "access_ALLOWED": {"zh": "允许，所选字段为明文", "en": "allowed, the chosen fields in clear"},
    "access_ALLOWED_MASKED": {"zh": "允许，脱敏显示", "en": "allowed, masked"},
    "access_BREAK_GLASS": {"zh": "紧急访问，将被重点审查", "en": "break-glass, reviewed as such"},
    "access_NEED_TO_KNOW": {"zh": "您的角色无需查看此信息", "en": "your role does not need this"},
    "access_ACCESS_NOT_ASSIGNED": {"zh": "该账户未分配给您", "en": "this account is not assigned to you"},
    "access_JUSTIFICATION_REQUIRED": {
        "zh": "查看明文须填写真实的理由（至少5个汉字或10个字符的一句话，不能是“测试”“无”之类的占位词）",
        "en": "a real justification is needed to see fields in clear (a phrase of 10+ characters, "
        "not a placeholder such as test, n/a or xxxxxxxxxx)",
    },
    "access_UNKNOWN_FIELD": {"zh": "未知字段", "en": "unknown field"},
}


def _all() -> dict[str, dict[str, str]]:
    from xiaodai.web.i18n_lines import LINE_STRINGS
    from xiaodai.web.i18n_notify import NOTIFY_STRINGS
    from xiaodai.web.i18n_payments import PAYMENT_STRINGS
    from xiaodai.web.i18n_staff import STAFF_STRINGS, category_labels

    return {
        **STRINGS,
        **STAFF_STRINGS,
        **LINE_STRINGS,
        **NOTIFY_STRINGS,
        **category_labels(),
        **PAYMENT_STRINGS,
    }


@cache
def translator(lang: str) -> dict[str, str]:
    return {key: value.get(lang, value["en"]) for key, value in _all().items()}
