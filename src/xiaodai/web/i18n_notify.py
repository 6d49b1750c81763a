"""Strings of the inbox and the job-runs page, and the labels of notice and job codes, zh-CN and en."""

from __future__ import annotations

NOTIFY_STRINGS: dict[str, dict[str, str]] = {
    "inbox": {"zh": "消息", "en": "Messages"},
    "inbox_intro": {
        "zh": "我们发给您的每一条消息（站内信、短信、邮件）都在这里。",
        "en": "Every message we sent you (in-app, SMS, e-mail) is kept here.",
    },
    "inbox_empty": {"zh": "暂无消息。", "en": "No messages yet."},
    "message": {"zh": "内容", "en": "Message"},
    "unread": {"zh": "未读", "en": "Unread"},
    "notice_kind": {"zh": "类别", "en": "Kind"},
    "notice_settings": {"zh": "消息设置", "en": "Message settings"},
    "inbox_always": {"zh": "始终开启，所有消息都保存在这里", "en": "always on: every message is kept here"},
    "marketing_ok": {"zh": "接收营销消息（如提额邀请）", "en": "Receive offers (such as a higher limit)"},
    "legal_notice_hint": {
        "zh": "依法必须告知的通知（如额度下调或冻结及其原因）始终通过站内信和短信发送，不受以上设置影响。",
        "en": "Notices the law requires (such as a lower or frozen limit, with the reason) always go by "
        "in-app message and SMS, whatever you choose here.",
    },
    "save": {"zh": "保存", "en": "Save"},
    "saved": {"zh": "已保存。", "en": "Saved."},
    "channel_app_inbox": {"zh": "站内信", "en": "in-app message"},
    "notice_category_servicing": {"zh": "服务提醒", "en": "reminder"},
    "notice_category_legal": {"zh": "依法告知", "en": "legal notice"},
    "notice_category_marketing": {"zh": "营销", "en": "offer"},
    "nav_jobs": {"zh": "定时任务", "en": "Scheduled jobs"},
    "jobs_intro": {
        "zh": "日终、代扣、提醒、对账按计划自动运行；每个任务每个业务日只运行一次，失败会按退避时间重试。"
        "运行时间中的 D 为业务日期。",
        "en": "End of day, debits, reminders and reconciliation run on a schedule; each job runs once per "
        "business date, and a failure is retried after a back-off. In 'runs at', D is the business date.",
    },
    "job": {"zh": "任务", "en": "Job"},
    "job_runs_at": {"zh": "运行时间", "en": "Runs at"},
    "business_date": {"zh": "业务日期", "en": "Business date"},
    "job_attempts": {"zh": "尝试次数", "en": "Attempts"},
    "job_attempt": {"zh": "第几次", "en": "Attempt"},
    "job_next_try": {"zh": "下次重试", "en": "Next try"},
    "job_off": {"zh": "已停用", "en": "off"},
    "job_runs": {"zh": "运行记录", "en": "Runs"},
    "job_no_runs": {"zh": "尚无运行记录。", "en": "No runs yet."},
    "job_trigger": {"zh": "触发方式", "en": "Trigger"},
    "job_started": {"zh": "开始时间", "en": "Started"},
    "job_duration": {"zh": "耗时（毫秒）", "en": "Duration (ms)"},
    "job_outcome": {"zh": "结果", "en": "Outcome"},
    "job_error": {"zh": "错误", "en": "Error"},
    "job_name_eod": {"zh": "日终", "en": "End of day"},
    "job_name_debits": {"zh": "自动代扣", "en": "Auto-debit batch"},
    "job_name_reminders": {"zh": "还款提醒", "en": "Reminders"},
    "job_name_reconcile": {"zh": "对账", "en": "Reconciliation"},
    "job_name_line_review": {"zh": "额度定期复审", "en": "Credit line review"},
    "job_name_payout_query": {"zh": "放款结果查询", "en": "Payout status query"},
    "payouts_pending_title": {
        "zh": "等待银行结果的放款（代付）",
        "en": "Payouts (代付) waiting for the bank",
    },
    "payouts_pending_intro": {
        "zh": "通道超时、回调未到的放款。超过{minutes}分钟仍未有结果的，"
        "由“放款结果查询”任务每个营业日向通道查询并按结果入账；"
        "通道未收到的按原编号重新发送（同一编号最多付款一次）。",
        "en": "Payouts the channel timed out on whose callback has not come. Those pending more than "
        "{minutes} minutes are asked about by the payout status query job each business date and settled "
        "by the answer; one the channel never received is sent again under its reference (paid at most "
        "once).",
    },
    "payouts_none": {"zh": "没有等待结果的放款。", "en": "No payout is waiting."},
    "payout_sent_on": {"zh": "发出日期", "en": "Sent on"},
    "payout_destination": {"zh": "收款账户", "en": "To"},
    "payouts_query_now": {"zh": "立即向通道查询", "en": "Ask the channel now"},
    "payouts_queried": {
        "zh": "已查询 {asked} 笔：成功 {succeeded}，失败 {failed}，仍在处理 {pending}，"
        "重新发送 {resent}，结果冲突 {conflict}。",
        "en": "Asked about {asked}: succeeded {succeeded}, failed {failed}, still processing {pending}, "
        "sent again {resent}, conflicting {conflict}.",
    },
    "job_trigger_schedule": {"zh": "按计划", "en": "schedule"},
    "job_trigger_manual": {"zh": "人工", "en": "manual"},
    "job_outcome_running": {"zh": "运行中", "en": "running"},
    "job_outcome_succeeded": {"zh": "成功", "en": "succeeded"},
    "job_outcome_failed": {"zh": "失败（将重试）", "en": "failed (will retry)"},
    "job_outcome_waiting": {"zh": "等待输入文件", "en": "waiting for its input"},
    "job_outcome_dead": {"zh": "多次失败，需人工处理", "en": "failed every attempt: needs a person"},
    "nav_notices": {"zh": "提醒与通知", "en": "Reminders and notices"},
    "notices_intro": {
        "zh": "当日每条提醒与通知在每个渠道上的决定及原因"
        "（提醒也是一次联系：时段、频次、暂停和内容审查同样适用）。",
        "en": "Every reminder and notice of the day, each channel's decision and its reason (a reminder is a "
        "contact: hours, frequency, holds and the message screen apply).",
    },
    "notices_none": {"zh": "当日没有提醒或通知。", "en": "No reminders or notices on this day."},
    "borrower_no": {"zh": "借款人", "en": "Borrower"},
    "channel_decision": {"zh": "决定", "en": "Decision"},
    "decision_allow": {"zh": "放行", "en": "allowed"},
    "decision_block": {"zh": "拦截", "en": "blocked"},
    "decision_suppress": {"zh": "按用户选择不发送", "en": "not sent (borrower's choice)"},
    "notice_pre_due": {"zh": "到期前提醒", "en": "reminder before the due date"},
    "notice_due_today": {"zh": "到期日提醒", "en": "due-date reminder"},
    "notice_debit_failed": {"zh": "扣款失败通知", "en": "failed-debit notice"},
    "notice_limit_increase": {"zh": "额度上调通知", "en": "limit raised"},
    "notice_limit_decrease": {"zh": "额度下调通知", "en": "limit lowered"},
    "notice_limit_freeze": {"zh": "额度冻结通知", "en": "line frozen"},
    "notice_limit_increase_offer": {"zh": "提额邀请", "en": "limit offer"},
    "reason_INSTALMENT_PAID": {"zh": "该期已还清，提醒已撤回", "en": "the instalment was paid: withdrawn"},
    "reason_INSTALMENT_REPLACED": {
        "zh": "该期已因调整还款计划被替换，提醒已撤回",
        "en": "a new schedule replaced the instalment: withdrawn",
    },
    "reason_LOAN_CLOSED": {"zh": "借款已结清或关闭，提醒已撤回", "en": "the loan is closed: withdrawn"},
    "reason_NOTICE_EXPIRED": {"zh": "已过发送时限，未发送", "en": "past its window: not sent"},
    "reason_FREQ_NOTICE_DAILY_LIMIT": {"zh": "超过当日消息上限", "en": "over the day's message cap"},
    "reason_MARKETING_OPTED_OUT": {"zh": "已退订营销消息", "en": "opted out of offers"},
    "reason_LEGAL_NOTICE_OVERRIDES_PREFERENCE": {
        "zh": "依法告知，不受渠道设置影响",
        "en": "legal notice: sent whatever the channel choice",
    },
}
