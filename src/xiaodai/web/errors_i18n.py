"""The services' error messages (English, for logs and the API) in the page's language.

A message that ends in its reason code ("… (CHECKER_IS_MAKER)", "refused: LAST_ADMIN") is translated by the
code (``CODES``); otherwise each entry of ``MESSAGES`` is a regular expression over the message with its
zh/en page text. A message with neither is shown on a Chinese page under a Chinese heading ("操作未能完成"),
and ``tests/web/test_errors_i18n.py`` reads every message the services that serve pages can raise and fails
on one without a translation (the API-only ones are listed there, with the reason)."""

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
            r"^(application|loan|decision \d+|model .*) not found$|^complaint \S+ not found$",
            {"zh": "未找到", "en": "Not found"},
        ),
        (
            r"^this application has no offer$",
            {"zh": "此申请没有借款要约", "en": "This application has no offer"},
        ),
        (r"^this offer was already signed$", {"zh": "此要约已签署", "en": "This offer was already signed"}),
        (
            r"^this offer was taken as a credit line: draw on the line instead$",
            {
                "zh": "此要约已开通为授信额度，请在额度内借款",
                "en": "This offer became a credit line: draw on the line instead",
            },
        ),
        (
            r"^unknown application channel .+$",
            {"zh": "未知的申请渠道", "en": "Unknown application channel"},
        ),
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
        (r"^unknown product ", {"zh": "没有这个产品", "en": "Unknown product"}),
        (
            r"^consent to the credit check is required",
            {"zh": "申请须单独同意征信查询", "en": "Consent to the credit check is required"},
        ),
        (
            r"^amount must be between 500\.00 and your limit (\S+)$",
            {
                "zh": "金额须在 500.00 元到您的额度 {0} 元之间",
                "en": "The amount must be 500.00 to your limit {0}",
            },
        ),
        (
            r"^term must be between (\d+) and (\d+) months$",
            {"zh": "期数须在 {0} 到 {1} 个月之间", "en": "The term must be {0} to {1} months"},
        ),
        (
            r"^the flat-fee method is not offered$",
            {"zh": "不提供按月收费的还款方式", "en": "The flat-fee method is not offered"},
        ),
        (
            r"^this loan has no (signed )?disclosure",
            {"zh": "此借款没有已签署的关键信息表", "en": "This loan has no signed key-facts statement"},
        ),
        (
            r"^with the fees of product .* would exceed the cap",
            {
                "zh": "加上该产品的费用后年化利率将超过上限，无法提供",
                "en": "With this product's fees the rate would exceed the cap",
            },
        ),
        (
            r"^a repayment must be a positive amount$",
            {"zh": "还款金额须大于零", "en": "A repayment must be more than zero"},
        ),
        (
            r"^the amount is more than the (\S+) that settles this loan today",
            {
                "zh": "金额超过了今天结清此借款所需的 {0} 元，最多可还 {0} 元",
                "en": "The amount is more than the {0} that settles this loan today: pay at most {0}",
            },
        ),
        (
            r"^loan \d+ is (\w+): it cannot take a repayment$",
            {
                "zh": "此借款已结清或已关闭，不能再还款",
                "en": "This loan is closed: it cannot take a repayment",
            },
        ),
        (r"^loan \d+ is \w+$", {"zh": "此借款已关闭", "en": "This loan is closed"}),
        (
            r"^refund must be between 0\.01 and the overpayment held \((\S+)\)$",
            {
                "zh": "退款金额须在 0.01 元到多付金额 {0} 元之间",
                "en": "The refund must be 0.01 to the {0} overpaid",
            },
        ),
        (r"^loan \d+ was not disbursed", {"zh": "此借款尚未放款", "en": "This loan was not disbursed"}),
        (r"^loan \d+ does not exist$", {"zh": "找不到此借款", "en": "Loan not found"}),
        (
            r"^a waiver must be a positive amount$",
            {"zh": "减免金额须大于零", "en": "A waiver must be more than zero"},
        ),
        (
            r"^principal is not waived",
            {"zh": "本金不能减免，请走核销流程", "en": "Principal is not waived: use write-off"},
        ),
        (r"^a waiver needs a reason$", {"zh": "减免须说明理由", "en": "A waiver needs a reason"}),
        (r"^only \S+ of \S+ is owed$", {"zh": "减免金额超过了所欠金额", "en": "That is more than is owed"}),
        (
            r"^partial prepayment is not offered for flat-fee products",
            {
                "zh": "按月收费产品不支持部分提前还款，可全部提前还款",
                "en": "Partial prepayment is not offered for this product",
            },
        ),
        (
            r"^nothing left to re-amortise",
            {"zh": "没有可重新摊还的本金，请还清到期款项或全部提前还款", "en": "Nothing left to re-amortise"},
        ),
        (
            r"^a partial prepayment must exceed what is due today \((\S+)\)$",
            {
                "zh": "部分提前还款须超过今天到期的 {0} 元",
                "en": "A partial prepayment must exceed what is due today ({0})",
            },
        ),
        (r"^a complaint needs a description$", {"zh": "请描述投诉内容", "en": "Describe the complaint"}),
        (r"^already closed$", {"zh": "此投诉已办结", "en": "Already closed"}),
        (
            r"^complaint \S+ is \w+: it cannot be changed$",
            {"zh": "此投诉已办结，不能再修改", "en": "This complaint can no longer be changed"},
        ),
        (
            r"^only a closed complaint can be reviewed$",
            {"zh": "只有已办结的投诉可以申请复核", "en": "Only a closed complaint can be reviewed"},
        ),
        (
            r"^the 30-day window for a review request has passed",
            {"zh": "申请复核的30天期限已过", "en": "The 30-day window for a review has passed"},
        ),
        (
            r"^no review is open on this complaint$",
            {"zh": "此投诉没有进行中的复核", "en": "No review is open on this complaint"},
        ),
        (r"^unknown remedy ", {"zh": "未知的补救措施", "en": "Unknown remedy"}),
        (
            r"^remedy \S+ needs the complaint to concern a loan$",
            {"zh": "该补救措施须针对某笔借款的投诉", "en": "This remedy needs a complaint about a loan"},
        ),
        (
            r"^a complaint is assigned to a complaint officer or an admin$",
            {"zh": "投诉只能分派给投诉专员或管理员", "en": "Assign it to a complaint officer or an admin"},
        ),
        (
            r"^no pending extension request",
            {"zh": "没有待批准的延期申请", "en": "No pending extension request"},
        ),
        (
            r"^only a head-office administrator approves this extension$",
            {
                "zh": "此延期须由总部管理员批准",
                "en": "Only a head-office administrator approves this extension",
            },
        ),
        (r"^unknown extension ", {"zh": "未知的延期类型", "en": "Unknown extension"}),
        (r"^a sensitive operation needs a reason$", {"zh": "敏感操作须说明理由", "en": "Give the reason"}),
        (r"^a reason is required to lock an account$", {"zh": "锁定账户须说明理由", "en": "Give the reason"}),
        (
            r"^no such (account|borrower)$|^no (borrower|loan|approval) \d+$|^no (user|loan) with id \d+$",
            {"zh": "未找到", "en": "Not found"},
        ),
        (
            r"^decision \d+ has no application$",
            {"zh": "此决定没有对应的申请", "en": "This decision has no application"},
        ),
        (
            r"^an approval takes no decline reasons$",
            {"zh": "批准时不选拒绝原因", "en": "An approval takes no decline reasons"},
        ),
        (
            r"^the referred decision has no offer",
            {"zh": "此申请没有可批准的要约", "en": "There is no offer to approve"},
        ),
        (r"^unknown reason codes", {"zh": "未知的拒绝原因", "en": "Unknown reason"}),
        (r"^unknown verdict$", {"zh": "未知的操作", "en": "Unknown action"}),
        (r"^please sign in$", {"zh": "请先登录", "en": "Please sign in"}),
        (
            r"^kind must be borrower or staff$",
            {"zh": "账户类型须为借款人或员工", "en": "The account is a borrower or staff"},
        ),
        (r"^the account is locked$", {"zh": "账户已锁定", "en": "The account is locked"}),
        (
            r" is not an amount: use ASCII digits",
            {"zh": "请输入金额数字，例如 1234.56", "en": "Enter an amount such as 1234.56"},
        ),
        (
            r" must be a string of digits",
            {"zh": "请输入金额数字，例如 1234.56", "en": "Enter an amount such as 1234.56"},
        ),
        (
            r"^\S+ \S+ must be positive$|^\S+ must be positive$",
            {"zh": "金额须大于零", "en": "The amount must be more than zero"},
        ),
        (
            r" is above the largest amount accepted \((\S+) CNY\)$",
            {"zh": "金额超过了上限（{0} 元）", "en": "The amount is above the limit ({0} CNY)"},
        ),
        (r" is not a date", {"zh": "请按 年-月-日 填写日期", "en": "Enter the date as YYYY-MM-DD"}),
        (
            r" is after (\S+): the latest date allowed here$",
            {"zh": "日期不能晚于 {0}", "en": "The date cannot be after {0}"},
        ),
        (
            r" is before (\S+): at most (\d+) days back are allowed$",
            {
                "zh": "日期不能早于 {0}（最多往前 {1} 天）",
                "en": "The date cannot be before {0} ({1} days back at most)",
            },
        ),
        (
            r"^a repayment cannot be booked on ",
            {"zh": "这一天不能入账还款", "en": "A repayment cannot be booked on that day"},
        ),
        (r"^approval \d+ is \w+$", {"zh": "此审批已处理", "en": "This approval was already decided"}),
        (
            r"^only borrowers keep a personal profile",
            {"zh": "只有借款人有个人资料", "en": "Only borrowers keep a personal profile"},
        ),
        (r"^no personal-data fields given", {"zh": "没有填写任何个人信息", "en": "Nothing was filled in"}),
        (r"^unknown consent ", {"zh": "未知的授权类型", "en": "Unknown consent"}),
        (
            r"cannot be withdrawn here \(the signed contract governs it\)",
            {
                "zh": "此授权由已签署的合同约定，不能在此撤回",
                "en": "The signed contract governs this consent: it cannot be withdrawn here",
            },
        ),
        (
            r"^there is no active \S+ consent to withdraw",
            {"zh": "没有可撤回的有效授权", "en": "There is no active consent to withdraw"},
        ),
        (
            r"^your ID number and bank card are sensitive personal information",
            {
                "zh": "身份证号和银行卡号属于敏感个人信息，请先单独同意",
                "en": "Your ID number and bank card are sensitive: give the separate consent first",
            },
        ),
        (
            r"^at most \d+ unmaskings per shift",
            {"zh": "本班次查看明文的次数已达上限", "en": "The unmasking limit for this shift is reached"},
        ),
        (
            r"unmaskings this shift already: more need a second person",
            {
                "zh": "本班次查看明文次数已满，继续查看须经第二人批准",
                "en": "More unmasking this shift needs a second person's approval",
            },
        ),
        (
            r"^look up by phone or id_number",
            {"zh": "请按手机号或身份证号查询", "en": "Look up by phone or ID number"},
        ),
        (
            r"^at most (\d+) characters of justification",
            {"zh": "理由最多 {0} 个字", "en": "At most {0} characters of justification"},
        ),
        (r" is given where it is needed$", {"zh": "请说明查看理由", "en": "Give the reason it is needed"}),
        (r"^a root-cause code is required on close", {"zh": "办结须选择根因", "en": "Choose the root cause"}),
        # credit lines (lines.limit.DRAW_MESSAGES and lines.service)
        (
            r"^the line is frozen",
            {"zh": "额度已冻结，暂不能借款", "en": "The line is frozen: no drawdowns until it is unfrozen"},
        ),
        (r"^the line is closed$", {"zh": "额度已关闭", "en": "The line is closed"}),
        (
            r"^the line has expired",
            {"zh": "额度已过有效期，请重新申请审批", "en": "The line has expired: ask for a new decision"},
        ),
        (
            r"^the amount is below the minimum drawdown",
            {"zh": "借款金额低于最低借款金额", "en": "The amount is below the minimum drawdown"},
        ),
        (
            r"^the amount is more than the available limit",
            {"zh": "借款金额超过可用额度", "en": "The amount is more than the available limit"},
        ),
        (
            r"^the term is outside the allowed range",
            {
                "zh": "期数不在允许范围内（3–24期）",
                "en": "The term is outside the allowed range (3–24 months)",
            },
        ),
        (
            r"^you have no open credit line$",
            {"zh": "您没有可用的授信额度", "en": "You have no open credit line"},
        ),
        (
            r"^there is no increase offer to accept$",
            {"zh": "当前没有可接受的提额邀请", "en": "There is no increase offer to accept"},
        ),
    )
)


# Reason codes a refusal ends in (approvals, privacy, referral reviews, role rules): zh/en page text.
CODES: dict[str, dict[str, str]] = {
    "CHECKER_IS_MAKER": {
        "zh": "提出人不能批准自己的申请（双人复核）",
        "en": "The person who asked cannot approve",
    },
    "CHECKER_ROLE_NOT_PERMITTED": {"zh": "您的角色不能批准此项", "en": "Your role cannot approve this"},
    "MAKER_ROLE_NOT_PERMITTED": {"zh": "您的角色不能提出此项", "en": "Your role cannot ask for this"},
    "NOT_PENDING": {"zh": "此审批已处理", "en": "This approval was already decided"},
    "PARAMS_MISSING": {"zh": "缺少必要的参数", "en": "Something the request needs is missing"},
    "INVALID_PARAMS": {"zh": "参数不正确", "en": "The request's values are not valid"},
    "UNKNOWN_OPERATION": {"zh": "未知的操作", "en": "Unknown operation"},
    "REASON_REQUIRED": {"zh": "请说明理由", "en": "Give the reason"},
    "LOAN_NOT_FOUND": {"zh": "未找到该借款", "en": "Loan not found"},
    "NOT_FOUND": {"zh": "未找到", "en": "Not found"},
    "BUSINESS_DATE_REQUIRED": {"zh": "缺少营业日期", "en": "The business date is needed"},
    "KEY_VERSION_UNKNOWN": {"zh": "未知的密钥版本", "en": "Unknown key version"},
    "UNKNOWN_FIELD": {"zh": "未知的字段", "en": "Unknown field"},
    "ROLE_REQUIRED": {"zh": "需要相应的岗位角色", "en": "This needs another role"},
    "STAFF_ONLY": {"zh": "仅限员工", "en": "Staff only"},
    "LAST_ADMIN": {
        "zh": "不能移除最后一位管理员的管理员角色",
        "en": "The last admin cannot lose the admin role",
    },
    "BANK_CARD_INVALID": {"zh": "银行卡号无效，请核对", "en": "The bank card number is not valid"},
    "BORROWERS_ONLY": {"zh": "只有借款人有个人资料", "en": "Only borrowers keep a personal profile"},
    "CONFIRMATION_REQUIRED": {"zh": "请先确认", "en": "Confirm first"},
    "ADDRESS_INVALID": {"zh": "地址格式不正确", "en": "The address is not valid"},
    "CONTACTS_HARVEST": {
        "zh": "紧急联系人过多（不收集通讯录）",
        "en": "Too many emergency contacts (no address book)",
    },
    "CONTACTS_INVALID": {
        "zh": "紧急联系人须填写姓名、关系和手机号",
        "en": "Each emergency contact needs a name, relation and phone",
    },
    "ID_NUMBER_INVALID": {"zh": "身份证号不正确，请核对", "en": "The ID number is not valid"},
    "NAME_INVALID": {"zh": "姓名不正确", "en": "The name is not valid"},
    "PHONE_INVALID": {"zh": "手机号不正确，请核对", "en": "The phone number is not valid"},
    "SENSITIVE_CONSENT_REQUIRED": {
        "zh": "身份证号和银行卡号属于敏感个人信息，请先单独同意",
        "en": "Give the separate consent for sensitive data first",
    },
    "NOT_WITHDRAWABLE": {
        "zh": "此授权由已签署的合同约定，不能在此撤回",
        "en": "The signed contract governs this consent",
    },
    "NOTHING_TO_SAVE": {"zh": "没有填写任何个人信息", "en": "Nothing was filled in"},
    "NOT_GRANTABLE_HERE": {"zh": "此授权不能在此处给出", "en": "This consent is not given here"},
    "NO_ACTIVE_CONSENT": {"zh": "没有可撤回的有效授权", "en": "There is no active consent to withdraw"},
    "UNKNOWN_CONSENT": {"zh": "未知的授权类型", "en": "Unknown consent"},
    "LOOKUP_KIND": {"zh": "请按手机号或身份证号查询", "en": "Look up by phone or ID number"},
    "NOT_REFERRED": {"zh": "此申请已复核，不在待复核队列中", "en": "This application was already reviewed"},
    "NO_OFFER": {"zh": "此申请没有可批准的要约", "en": "There is no offer to approve"},
    "UNKNOWN_VERDICT": {"zh": "请选择批准或拒绝", "en": "Choose approve or decline"},
    "UNKNOWN_REASON": {"zh": "未知的拒绝原因", "en": "Unknown reason"},
    "REASON_NOT_ALLOWED": {"zh": "批准时不选拒绝原因", "en": "An approval takes no decline reasons"},
    "NOTE_TOO_LONG": {
        "zh": "备注过长（最多1000字）",
        "en": "The note is too long (1,000 characters at most)",
    },
}
CODED = re.compile(r"\(([A-Z][A-Z0-9_]+)\)$|^refused: ([A-Z][A-Z0-9_]+)")
UNTRANSLATED = {"zh": "操作未能完成", "en": ""}
CJK = re.compile(r"[\u4e00-\u9fff]")


def localise(message: str, lang: str) -> str:
    """``message`` in ``lang``: by its reason code or its known wording; otherwise as it is (on a Chinese
    page under a Chinese heading)."""
    if CJK.search(message):  # already in Chinese (a page's own text)
        return message
    coded = CODED.search(message)
    code = (coded.group(1) or coded.group(2)) if coded else None
    for pattern, text in MESSAGES:  # a known wording says more than its code
        found = pattern.search(message)
        if found:
            return text.get(lang, text["en"]).format(*found.groups())
    if code in CODES:
        return CODES[code].get(lang, CODES[code]["en"])
    return f"{UNTRANSLATED[lang]}（{message}）" if UNTRANSLATED.get(lang) else message
