"""Credit-line page strings, zh-CN and en (merged into the page translator)."""

from __future__ import annotations

LINE_STRINGS: dict[str, dict[str, str]] = {
    "my_line": {"zh": "我的额度", "en": "My credit line"},
    "no_line": {
        "zh": "您还没有授信额度。申请获批后，可由我们为您开通额度。",
        "en": "You have no credit line yet. Once an application is approved, a line can be opened for you.",
    },
    "line_limit": {"zh": "总额度", "en": "Credit limit"},
    "line_available": {"zh": "可用额度", "en": "Available"},
    "line_outstanding": {"zh": "已用（未还本金）", "en": "Used (principal outstanding)"},
    "line_pending_payout": {
        "zh": "放款处理中（已占用额度）",
        "en": "Being paid out (held from the available limit)",
    },
    "line_apr": {
        "zh": "借款年化利率（单利，IRR法，含全部费用）",
        "en": "What a draw costs a year (APR, IRR method, every fee included)",
    },
    "line_apr_plans": {
        "zh": "分期还款（{min_term}–{max_term}期）{instalment}；随借随还（按日计息）{daily}。"
        "每笔借款的关键信息表列明其年化利率。",
        "en": "Instalments ({min_term}–{max_term} months) {instalment}; borrow and repay any time (daily "
        "interest) {daily}. Each draw's key facts state its own rate.",
    },
    "line_daily_rate": {
        "zh": "日利率 {rate}%（年利率 ÷ 360）",
        "en": "Daily rate {rate}% (annual rate ÷ 360)",
    },
    "line_expires": {"zh": "额度有效期至", "en": "Line valid until"},
    "line_state_active": {"zh": "正常", "en": "Active"},
    "line_state_frozen": {"zh": "已冻结", "en": "Frozen"},
    "line_state_closed": {"zh": "已关闭", "en": "Closed"},
    "line_next_due": {"zh": "下一期应还", "en": "Next payment due"},
    "line_nothing_due": {"zh": "暂无待还款项", "en": "Nothing due"},
    "line_draw": {"zh": "借款（提取额度）", "en": "Draw on my line"},
    "line_draw_plan": {"zh": "还款方式", "en": "Plan"},
    "line_plan_instalment": {
        "zh": "分期还款（3–24期，等额本息）",
        "en": "Instalments (3–24 months, equal payments)",
    },
    "line_plan_daily": {
        "zh": "随借随还（按日计息，可随时还任意金额，无提前还款费）",
        "en": "Borrow and repay any time (daily interest, any amount any day, no prepayment fee)",
    },
    "line_term_months": {"zh": "期数（月，分期还款时填写）", "en": "Term (months, for instalments)"},
    "line_see_kfs": {"zh": "查看关键信息表", "en": "See the key facts"},
    "line_sign_draw": {
        "zh": "我已阅读上述关键信息并签署借款",
        "en": "I have read the key facts above and sign",
    },
    "line_daily_terms": {
        "zh": "随借随还：日利率 {rate}%，按实际使用天数计息；可在任意一天归还任意金额，"
        "不收提前还款费；最迟于 {latest} 还清。",
        "en": "Daily plan: {rate}% a day on the balance for the days used; repay any amount on any day, no "
        "prepayment fee; repay everything by {latest} at the latest.",
    },
    "line_drawdowns": {"zh": "借据（每笔借款）", "en": "Drawdowns"},
    "line_no_drawdowns": {"zh": "暂无借据", "en": "No drawdowns yet"},
    "line_drawn_on": {"zh": "借款日", "en": "Drawn on"},
    "line_plan": {"zh": "方式", "en": "Plan"},
    "line_plan_short_instalment": {"zh": "分期", "en": "Instalments"},
    "line_plan_short_daily": {"zh": "随借随还", "en": "Daily"},
    "line_due_month": {"zh": "本月应还（所有借据合计）", "en": "Due this month (all drawdowns)"},
    "line_due_total": {"zh": "合计", "en": "Total"},
    "line_overdue": {"zh": "已逾期", "en": "Overdue"},
    "line_due_today": {"zh": "今天到期", "en": "Due today"},
    "line_upcoming": {"zh": "待还", "en": "Due"},
    "line_notices": {"zh": "额度变动通知", "en": "Notices about my line"},
    "line_notice_text": {
        "zh": "{on}：{kind}，额度 {old} → {new} 元（原因：{reason}）",
        "en": "{on}: {kind}, limit {old} → {new} CNY (reason: {reason})",
    },
    "line_kind_grant": {"zh": "开通额度", "en": "Line granted"},
    "line_kind_increase": {"zh": "提额", "en": "Limit increased"},
    "line_kind_decrease": {"zh": "降额", "en": "Limit decreased"},
    "line_kind_increase-offered": {"zh": "提额邀请", "en": "Increase offered"},
    "line_kind_freeze": {"zh": "冻结", "en": "Frozen"},
    "line_kind_unfreeze": {"zh": "解冻", "en": "Unfrozen"},
    "line_kind_close": {"zh": "关闭", "en": "Closed"},
    "line_kind_redecision": {"zh": "重新审批", "en": "Re-decision"},
    "line_offer": {
        "zh": "您可将额度提高到 {limit} 元（{expires} 前有效）。",
        "en": "You can raise your limit to {limit} CNY (offer valid until {expires}).",
    },
    "line_accept_offer": {"zh": "接受提额", "en": "Accept the increase"},
    "line_repay_any": {"zh": "还款（任意金额）", "en": "Repay (any amount)"},
    "line_schedule_of": {"zh": "借据 #{id} 还款计划", "en": "Drawdown #{id} schedule"},
    "line_frozen_note": {
        "zh": "额度已冻结，暂不能借款；原因见下方通知。",
        "en": "Your line is frozen: no new drawdowns. The notice below gives the reason.",
    },
    # reason codes of line changes (lines/data/line_policy.json and lines.service), in words
    "line_reason_LINE_GRANTED": {"zh": "审批通过，开通额度", "en": "approved: line granted"},
    "line_reason_LINE_FREEZE_OVERDUE": {"zh": "借款逾期30天以上", "en": "a drawdown 30+ days overdue"},
    "line_reason_LINE_FREEZE_BUREAU_OVERDUE": {
        "zh": "征信报告显示当前有逾期账户",
        "en": "the credit report shows an account overdue now",
    },
    "line_reason_LINE_DECREASE_LATE_PAYMENT": {
        "zh": "近6个月有逾期还款",
        "en": "a late payment in the last 6 months",
    },
    "line_reason_LINE_DECREASE_BUREAU_HISTORY": {
        "zh": "征信报告显示有逾期记录",
        "en": "the credit report shows past overdue months",
    },
    "line_reason_LINE_INCREASE_GOOD_HISTORY": {
        "zh": "按时还款记录良好",
        "en": "a good record of on-time payments",
    },
    "line_reason_LINE_INCREASE_ACCEPTED": {"zh": "您接受了提额邀请", "en": "you accepted the increase"},
    "line_reason_LINE_REDECISION": {"zh": "应您的申请重新审批", "en": "re-decided at your request"},
    "line_reason_LINE_REDECISION_NO_CHANGE": {
        "zh": "重新审批未获批准，额度不变",
        "en": "the re-decision was not approved: no change",
    },
    "line_staff_title": {"zh": "借款人 #{id} 的授信额度", "en": "Credit line of borrower #{id}"},
    "line_history": {"zh": "额度与状态变动记录", "en": "Limit and state history"},
    "line_actor": {"zh": "操作人", "en": "By"},
    "line_reason": {"zh": "原因", "en": "Reason"},
    "line_reason_code": {
        "zh": "原因代码（大写英文，将告知借款人）",
        "en": "Reason code (UPPER_SNAKE_CASE, told to the borrower)",
    },
    "line_freeze": {"zh": "冻结额度", "en": "Freeze the line"},
    "line_unfreeze": {"zh": "解冻额度", "en": "Unfreeze the line"},
    "line_none_staff": {"zh": "该借款人没有授信额度。", "en": "This borrower has no credit line."},
    "line_staff_link": {"zh": "查看授信额度", "en": "Credit line"},
    # the signed-in borrower's home page (web.home_pages)
    "home_title": {"zh": "我的账户", "en": "My account"},
    "home_hello": {"zh": "{name}，您好", "en": "Hello, {name}"},
    "home_next": {"zh": "下一笔应还", "en": "What you pay next"},
    "home_nothing_due": {"zh": "暂无待还款项。", "en": "Nothing to pay."},
    "home_today": {"zh": "今天到期", "en": "due today"},
    "home_in_days": {"zh": "{days} 天后到期", "en": "in {days} days"},
    "home_item": {
        "zh": "借款 #{loan} 第 {period} 期，{due} 到期，应还 {amount} 元",
        "en": "Loan #{loan}, instalment {period}, due {due}: {amount} CNY",
    },
    "home_overdue": {
        "zh": "您有已逾期未还的款项，共 {amount} 元，请尽快还款：",
        "en": "You have {amount} CNY overdue; please pay it as soon as you can:",
    },
    "home_autodebit": {
        "zh": "到期日将从您的默认银行卡自动扣款；也可以在借款页面提前还款。",
        "en": "It is debited from your default card on the due date; you can also pay earlier on the "
        "loan's page.",
    },
    "home_open": {
        "zh": "进行中的借款 {count} 笔，未还本金共 {principal} 元。",
        "en": "{count} open loan(s), {principal} CNY principal outstanding.",
    },
    "home_paying_out": {
        "zh": "放款处理中：{loans}（银行结果返回后到账，到账前不计利息）。",
        "en": "Being paid out: {loans} (no interest before the money reaches you).",
    },
    "home_line_available": {
        "zh": "可用额度 {available} 元（总额度 {limit} 元）",
        "en": "{available} CNY available of {limit} CNY",
    },
    "home_see_line": {"zh": "查看我的额度", "en": "See my line"},
    "home_no_line": {"zh": "您还没有授信额度。", "en": "You have no credit line yet."},
    "home_links": {"zh": "常用功能", "en": "Go to"},
}
