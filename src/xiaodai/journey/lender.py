"""The lender's name, a deployment setting (shell): ``XIAODAI_LENDER_NAME`` (Chinese) and
``XIAODAI_LENDER_NAME_EN`` (English), with the demo's names as defaults. The KFS states it (clause-free
header ``lender`` / ``lender_en``); pages and documents read it from the signed snapshot or from here."""

from __future__ import annotations

import os

DEMO_LENDER = {"zh": "小贷演示消费金融有限公司", "en": "Xiaodai Demo Consumer Finance Co., Ltd."}
ENV = {"zh": "XIAODAI_LENDER_NAME", "en": "XIAODAI_LENDER_NAME_EN"}


def lender_name(lang: str = "zh") -> str:
    """The lender's name in ``lang`` (zh|en): the setting if given (blank is unset), else the demo's."""
    key = "en" if lang == "en" else "zh"
    return os.environ.get(ENV[key], "").strip() or DEMO_LENDER[key]


def lender_names() -> dict[str, str]:
    return {lang: lender_name(lang) for lang in ("zh", "en")}
