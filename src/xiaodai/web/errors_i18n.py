"""The services' error messages (English, for logs and the API) in the page's language.

Each entry is a regular expression over the service's message and its zh/en page text; a message without an
entry is shown as the service wrote it (and a test lists the ones a person meets on the main paths)."""

from __future__ import annotations

import re

MESSAGES: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (
            r"^the form expired or came from elsewhere",
            {
                "zh": "表单已过期或来源不明（CSRF 安全校验），请刷新页面后重试",
                "en": "The form expired or came from elsewhere (CSRF check): reload the page and try again",
            },
        ),
        (
            r"^(application|loan|decision|model .*) not found$|^complaint \S+ not found$",
            {"zh": "未找到", "en": "Not found"},
        ),
        (
            r"^this application has no offer$",
            {"zh": "此申请没有借款要约", "en": "This application has no offer"},
        ),
        (r"^this offer was already signed$", {"zh": "此要约已签署", "en": "This offer was already signed"}),
        (
            r"^the key-facts statement changed since it was shown",
            {
                "zh": "关键信息表在您查看后发生了变化，请重新阅读后再签署",
                "en": "The key facts changed since they were shown: read them again before signing",
            },
        ),
        (
            r"^the cooling-off window has ended",
            {"zh": "冷静期已过，请使用提前还款", "en": "The cooling-off window has ended: pay off instead"},
        ),
        (
            r"^payments were already made on this loan",
            {
                "zh": "此借款已有还款，不能冷静期取消，请使用提前还款",
                "en": "Payments were already made: pay off instead",
            },
        ),
        (
            r"^loan \d+ is \S+: (it cannot be prepaid|nothing to pay off)$",
            {"zh": "此借款已结清，无需还款", "en": "This loan is closed: nothing to pay"},
        ),
        (
            r"^only borrowers apply$",
            {"zh": "只有借款人账户可以申请借款", "en": "Only borrower accounts apply for loans"},
        ),
        (
            r"^an account with this email already exists$",
            {"zh": "该邮箱已注册，请直接登录", "en": "This email is already registered: sign in"},
        ),
        (
            r"^a valid email address is required$",
            {"zh": "请填写有效的邮箱地址", "en": "Enter a valid email address"},
        ),
        (
            r"^the password must have at least 10 characters$",
            {"zh": "密码至少10位", "en": "The password needs 10 characters or more"},
        ),
        (r"^a name is required$", {"zh": "请填写姓名", "en": "Enter a name"}),
        (
            r"^only staff accounts have roles$",
            {"zh": "只有员工账户有角色", "en": "Only staff accounts have roles"},
        ),
        (r"^unknown roles: ", {"zh": "未知的角色", "en": "Unknown role"}),
        (r"^choose at least one role$", {"zh": "请至少选择一个角色", "en": "Choose at least one role"}),
        (
            r"^the person who asked for an extension cannot approve it",
            {
                "zh": "申请延期的人不能批准自己的申请（双人复核）",
                "en": "The person who asked cannot approve (four eyes)",
            },
        ),
        (
            r"^describe the evidence",
            {"zh": "请描述证据（至少5个字）", "en": "Describe the evidence (5 characters or more)"},
        ),
        (
            r"^an extension needs its reason",
            {"zh": "延期须说明理由（至少5个字）", "en": "Give the reason (5 characters or more)"},
        ),
        (
            r"^choose who handles the complaint$",
            {"zh": "请选择处理人", "en": "Choose who handles the complaint"},
        ),
        (
            r"^the decision notice must state",
            {
                "zh": "决定告知书须写明核实情况、处理依据、理由和救济途径",
                "en": "The notice must state what was verified, the basis, the reasons and where to go next",
            },
        ),
        (
            r"^closing needs the remedies decided",
            {
                "zh": "办结前须确定补救措施（选“无”须说明理由）",
                "en": "Decide the remedy (or “none” with its reason)",
            },
        ),
        (
            r"^a decline needs at least one reason",
            {"zh": "拒绝须至少选择一个原因", "en": "Choose at least one reason to decline"},
        ),
        (
            r"^this application is not waiting for review",
            {"zh": "此申请已复核，不在待复核队列中", "en": "This application was already reviewed"},
        ),
        (
            r"^verdict must be one of",
            {"zh": "请选择批准或拒绝", "en": "Choose approve or decline"},
        ),
        (
            r"^the note is longer than",
            {"zh": "备注过长（最多1000字）", "en": "The note is too long (1,000 characters at most)"},
        ),
        (r"^a root-cause code is required on close", {"zh": "办结须选择根因", "en": "Choose the root cause"}),
    )
)


def localise(message: str, lang: str) -> str:
    """``message`` in ``lang`` when it is a known service message; otherwise as it is."""
    for pattern, text in MESSAGES:
        if pattern.search(message):
            return text.get(lang, text["en"])
    return message
