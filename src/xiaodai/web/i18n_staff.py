"""Staff-console strings and the labels of stored codes (roles, clock states, contact verdicts), zh-CN and en.

Complaint category labels come from the complaint taxonomy itself (one source for both languages)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

STAFF_STRINGS: dict[str, dict[str, str]] = {
    "nav_underwriting": {"zh": "审批", "en": "Underwriting"},
    "nav_models": {"zh": "模型", "en": "Models"},
    "nav_worklist": {"zh": "催收工作台", "en": "Worklist"},
    "nav_violations": {"zh": "被拦截的联系", "en": "Blocked contacts"},
    "nav_complaints": {"zh": "投诉", "en": "Complaints"},
    "nav_audit": {"zh": "审计", "en": "Audit"},
    "nav_admin": {"zh": "用户与角色", "en": "Users and roles"},
    "nav_approvals": {"zh": "双人复核", "en": "Approvals"},
    "role_underwriter": {"zh": "审批员", "en": "underwriter"},
    "role_collector": {"zh": "催收员", "en": "collector"},
    "role_complaint_officer": {"zh": "投诉专员", "en": "complaint officer"},
    "role_risk": {"zh": "风控分析师", "en": "risk analyst"},
    "role_auditor": {"zh": "审计员", "en": "auditor"},
    "role_admin": {"zh": "管理员", "en": "administrator"},
    "sla_on_track": {"zh": "正常", "en": "on track"},
    "sla_ok": {"zh": "正常", "en": "on track"},
    "sla_due_soon": {"zh": "即将到期", "en": "due soon"},
    "sla_late": {"zh": "已超内部时限", "en": "past the internal target"},
    "sla_breach": {"zh": "已超监管时限", "en": "past the regulatory deadline"},
    "sla_closed": {"zh": "已办结", "en": "closed"},
    "sla_paused": {"zh": "已暂停计时", "en": "clock paused"},
    "verdict_allow": {"zh": "允许", "en": "allowed"},
    "verdict_block": {"zh": "拦截", "en": "blocked"},
    "verdict_warn": {"zh": "允许（有提示）", "en": "allowed with a warning"},
    "channel_call": {"zh": "电话", "en": "call"},
    "channel_sms": {"zh": "短信", "en": "SMS"},
    "channel_app": {"zh": "应用内消息", "en": "in-app message"},
    "channel_email": {"zh": "邮件", "en": "email"},
    "channel_letter": {"zh": "信函", "en": "letter"},
    "channel_visit": {"zh": "上门", "en": "visit"},
    "refusal_NEED_TO_KNOW": {"zh": "您的角色无需此信息", "en": "your role does not need this"},
    "kpi_na": {"zh": "本月尚无办结投诉", "en": "no complaint closed this month yet"},
    "per_10k": {"zh": "每万户在贷借款人投诉数", "en": "complaints per 10,000 active borrowers"},
    "complaints_count": {"zh": "件", "en": "complaints"},
    "days": {"zh": "天", "en": "days"},
}


@cache
def category_labels() -> dict[str, dict[str, str]]:
    """``category_<id>`` for every complaint category in the taxonomy, in both languages."""
    from xiaodai import complaints

    data = Path(complaints.__file__).parent / "data" / "taxonomy.json"
    taxonomy = json.loads(data.read_text(encoding="utf-8"))
    return {f"category_{c['id']}": {"zh": c["label_zh"], "en": c["label_en"]} for c in taxonomy["categories"]}
