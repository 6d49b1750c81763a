"""Render the borrower documents — the key-facts statement (KFS) and the loan statement — as HTML and PDF.

Three shapes of each document:

* a *fragment* (``render_*_fragment``): the body content only, one ``<article class="xd-doc">``, for the web
  app to place inside its own page layout (its ``<head>`` should inline ``document_css()``);
* a complete *HTML document* (``render_*_html``) with the CSS inlined — no external asset, no CDN;
* a *PDF* (``render_*_pdf``) made by WeasyPrint from the HTML document, with a CJK font embedded.

The KFS puts the all-in annual rate (IRR, every fee included — clause R1) first and in the largest type of
any rate on the page (``id="kfs-apr"``, class ``rate-headline``); every other rate is smaller, lower and
labelled as secondary (class ``rate-secondary``). Every section shows its clause id (R1, L1, F1 …).

Templates are Jinja2 with autoescaping on: every value from the data is HTML-escaped. WeasyPrint may read
only the CJK font file; every other URL is refused.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, UndefinedError
from markupsafe import Markup, escape

from xiaodai.documents.i18n import HTML_LANG, check_lang, code_label, labels
from xiaodai.money.rounding import round_half_up
from xiaodai.pricing.disclosure import snapshot

SUPPORTED_KFS_VERSIONS = ("kfs-1",)
CJK_FONT_ENV = "XIAODAI_CJK_FONT"  # optional: path of a CJK font file to use instead of the search below
NO_CJK_FONT_MESSAGE = "no CJK font installed: apt-get install fonts-wqy-microhei"

# (family, common install paths), in order of preference.
_CJK_CANDIDATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "WenQuanYi Micro Hei",
        ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
    ),
    (
        "Noto Sans CJK SC",
        (
            "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
            "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
            "/usr/share/fonts/truetype/noto/NotoSansCJKsc-Regular.otf",
        ),
    ),
    ("Source Han Sans SC", ("/usr/share/fonts/opentype/adobe-source-han-sans/SourceHanSansSC-Regular.otf",)),
)
# Browsers use the reader's own fonts: no font file is served.
_SCREEN_FONT_STACK = (
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", '
    '"Source Han Sans SC", system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif'
)
_CJK_RE = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


class DocumentError(Exception):
    """A document cannot be produced (missing font, malformed data, unsupported KFS version)."""


@dataclass(frozen=True, slots=True)
class CjkFont:
    family: str
    path: Path

    @property
    def url(self) -> str:
        return self.path.as_uri()


def _fc_match(family: str) -> Path | None:
    """The file fontconfig picks for ``family``, only if it really is that family (no silent substitute)."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "-f", "%{family}\t%{file}", family], capture_output=True, text=True, timeout=5, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families, _, file = out.partition("\t")
    if family.casefold() not in (f.strip().casefold() for f in families.split(",")):
        return None
    path = Path(file.strip())
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def find_cjk_font() -> CjkFont | None:
    """The CJK font to embed in PDFs: ``$XIAODAI_CJK_FONT``, else fontconfig, else common paths; or None."""
    override = os.environ.get(CJK_FONT_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise DocumentError(f"{CJK_FONT_ENV}={override!r} is not a font file")
        return CjkFont("XiaodaiCJK", path.resolve())
    for family, paths in _CJK_CANDIDATES:
        found = _fc_match(family)
        if found is not None:
            return CjkFont(family, found)
        for candidate in paths:
            if Path(candidate).is_file():
                return CjkFont(family, Path(candidate))
    return None


# ---------------------------------------------------------------------------------------------------------
# formatting helpers


def _decimal(value: object, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise DocumentError(f"{what}: not a number: {value!r}") from exc


def fmt_percent(value: object, *, scale: int = 1) -> str:
    """``"17.83"`` → ``"17.83%"``; at least two decimals, never fewer than the data has (``"1.4854%"``).

    ``scale=100`` turns a fraction (``"0.06"``) into a percent (``"6.00%"``).
    """
    number = (_decimal(value, "rate") * scale).normalize()
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        number = number.quantize(Decimal("0.01"))
    return f"{number:f}%"


def _amount(value: object) -> str:
    """An amount exactly as the data states it (the snapshot's own string), after checking it is a number."""
    _decimal(value, "amount")
    return str(value)


def _sum(values: list[str]) -> str:
    """The sum of decimal strings, with as many decimals as the most precise of them (at least 2)."""
    numbers = [_decimal(v, "amount") for v in values]
    places = 2
    for number in numbers:
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int):
            places = max(places, -exponent)
    return f"{sum(numbers, Decimal(0)):.{places}f}"


def _rate_span(text: str) -> Markup:
    return Markup('<span class="rate-secondary">{}</span>').format(text)


def _clause_tag(clause: str) -> Markup:
    return Markup('<span class="clause-id">{}</span>').format(clause)


_RATE_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?%)")


class _Translator:
    """The template's view of the label table: ``t("key", name=value)`` → escaped Markup."""

    def __init__(self, lang: str, currency: str) -> None:
        self.lang = lang
        self.labels = labels(lang)
        self.currency = currency

    def __call__(self, key: str, **values: object) -> Markup:
        return escape(self.labels[key]).format(**values)

    def code(self, group: str, code: str | None) -> str:
        return code_label(self.lang, group, code)

    def cap(self, profile: str, version: object = None) -> Markup:
        """A rate-cap profile in words (``caps.json``'s label in this language, with its version), or the
        profile's id for one this installation does not ship. A rate inside the label is secondary, as
        every rate on the page but the headline."""
        from xiaodai.pricing.caps import default_cap_book

        found = default_cap_book().profiles.get(profile)
        label = profile if found is None else (found.label_zh if self.lang == "zh" else found.label_en)
        if version is not None:
            label = f"{label}，{version}" if self.lang == "zh" else f"{label}, {version}"
        return Markup(_RATE_IN_TEXT.sub(r'<span class="rate-secondary">\1</span>', str(escape(label))))

    def money(self, value: object) -> str:
        """An amount with its currency: ``"10661.86 元"`` / ``"CNY 10661.86"``."""
        amount = _amount(value)
        if self.lang == "zh":
            suffix = self.labels["doc.currency_suffix"] if self.currency == "CNY" else self.currency
            return f"{amount} {suffix}"
        return f"{self.currency} {amount}"

    @property
    def sp(self) -> str:
        """The space between two sentences: none in Chinese."""
        return "" if self.lang == "zh" else " "

    def paren(self, text: object) -> Markup:
        """``（text）`` in Chinese, `` (text)`` in English (``text`` escaped unless it is Markup)."""
        return Markup("（{}）" if self.lang == "zh" else " ({})").format(text)

    def unit_note(self) -> str:
        """The currency of the bare amounts in tables."""
        if self.lang == "zh":
            unit = self.labels["doc.currency_suffix"] if self.currency == "CNY" else self.currency
            return f"（金额单位：{unit}）"
        return f"(amounts in {self.currency})"


# ---------------------------------------------------------------------------------------------------------
# Jinja environment, CSS, HTML document


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("xiaodai.documents", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(percent=fmt_percent, rate=_rate_span, clause=_clause_tag)
    return env


_DOCUMENT = """<!DOCTYPE html>
<html lang="{{ html_lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
{% if author %}<meta name="author" content="{{ author }}">
{% endif %}
<style>
{{ css }}
</style>
</head>
<body>
{{ body }}
</body>
</html>
"""


@lru_cache(maxsize=1)
def _base_css() -> str:
    return (resources.files("xiaodai.documents") / "templates" / "base.css").read_text(encoding="utf-8")


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def document_css(*, for_pdf: bool = False, lang: str = "zh") -> str:
    """The documents' stylesheet (scoped to ``.xd-doc``); inline it in a ``<style>`` element.

    ``for_pdf`` adds the page box and the embedded CJK font (``DocumentError`` when zh needs one and none is
    installed).
    """
    check_lang(lang)
    css = _base_css()
    if not for_pdf:
        return f"{css}\n.xd-doc {{ font-family: {_SCREEN_FONT_STACK}; }}\n"
    font = find_cjk_font()
    if font is None and lang == "zh":
        raise DocumentError(NO_CJK_FONT_MESSAGE)
    latin = '"DejaVu Sans", "Liberation Sans", Arial'
    if font is None:
        return f"{css}\n{_PAGE_CSS}\nhtml, .xd-doc {{ font-family: {latin}, sans-serif; }}\n"
    family = _css_string(font.family)
    face = f"@font-face {{ font-family: {family}; src: local({family}), url({_css_string(font.url)}); }}"
    stack = f"{family}, {latin}, sans-serif" if lang == "zh" else f"{latin}, {family}, sans-serif"
    return f"{css}\n{_PAGE_CSS}\n{face}\nhtml, .xd-doc {{ font-family: {stack}; }}\n"


_PAGE_CSS = """@page {
  size: A4;
  margin: 16mm 14mm 18mm 14mm;
  @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; }
}
html, body { margin: 0; padding: 0; background: #fff; }
.xd-doc { max-width: none; margin: 0; padding: 0; border: 0; box-shadow: none; }"""


@lru_cache(maxsize=1)
def _document_template() -> Template:
    return _env().from_string(_DOCUMENT)


def _document(body: str, *, lang: str, title: str, author: str, for_pdf: bool) -> str:
    css = document_css(for_pdf=for_pdf, lang=lang)
    return _document_template().render(
        html_lang=HTML_LANG[lang], title=title, author=author, css=Markup(css), body=Markup(body)
    )


def _render(template: str, what: str, **context: Any) -> str:
    try:
        return _env().get_template(template).render(**context)
    except UndefinedError as exc:
        raise DocumentError(f"{what}: missing field ({exc.message})") from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise DocumentError(f"{what}: malformed data ({exc!r})") from exc


# ---------------------------------------------------------------------------------------------------------
# PDF


def _pdf(html: str) -> bytes:
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise DocumentError("PDF rendering needs WeasyPrint: pip install weasyprint") from exc
    font = find_cjk_font()
    allowed = frozenset() if font is None else frozenset({font.url})

    class _FontOnlyFetcher(URLFetcher):  # type: ignore[misc]
        """Reads the CJK font file and nothing else: no network, no other local file."""

        def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
            if url.split("?", maxsplit=1)[0] not in allowed:
                raise ValueError(f"resource refused (documents are self-contained): {url}")
            return super().fetch(url, headers)

    fetcher = _FontOnlyFetcher(allowed_protocols=("file",), allow_redirects=False)
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf


def _require_font_for(html: str, lang: str) -> None:
    """Refuse to make a PDF whose Chinese text would print as empty boxes."""
    if find_cjk_font() is None and (lang == "zh" or _CJK_RE.search(html.partition("</style>")[2])):
        raise DocumentError(NO_CJK_FONT_MESSAGE)


# ---------------------------------------------------------------------------------------------------------
# KFS


def _check_kfs(kfs: Mapping[str, Any]) -> None:
    if not isinstance(kfs, Mapping):
        raise DocumentError("KFS: expected a mapping (the output of xiaodai.pricing.disclosure.build_kfs)")
    version = kfs.get("kfs_version")
    if version not in SUPPORTED_KFS_VERSIONS:
        raise DocumentError(
            f"KFS: unsupported kfs_version {version!r} "
            f"(this renderer knows {', '.join(SUPPORTED_KFS_VERSIONS)})"
        )


def render_kfs_fragment(kfs: Mapping[str, Any], lang: str) -> str:
    """The KFS as body content only (``<article class="xd-doc xd-kfs">``), for the web app's page layout.

    ``kfs`` is the document of ``xiaodai.pricing.disclosure.build_kfs`` (``kfs_version`` ``kfs-1``); ``lang``
    is ``"zh"`` or ``"en"`` (else ``ValueError``).
    """
    check_lang(lang)
    _check_kfs(kfs)
    t = _Translator(lang, str(kfs.get("currency", "CNY")))
    upfront = [f for f in kfs.get("fees", []) if f.get("type") == "upfront_fee"]
    return _render(
        "kfs.html.j2",
        "KFS",
        kfs=kfs,
        t=t,
        lang=lang,
        html_lang=HTML_LANG[lang],
        deducted_fee_clauses=[f["clause"] for f in upfront if f.get("timing") == "deducted"],
        signing_fee_clauses=[f["clause"] for f in upfront if f.get("timing") == "at-signing"],
    )


def render_kfs_html(kfs: Mapping[str, Any], lang: str, *, for_pdf: bool = False) -> str:
    """The KFS as a complete HTML document with inline CSS (``for_pdf``: page box and embedded CJK font)."""
    body = render_kfs_fragment(kfs, lang)
    lender = str((kfs.get("lender_en") if lang == "en" else None) or kfs.get("lender") or "")
    title = labels(lang)["kfs.title"] + (f" — {lender}" if lender else "")
    return _document(body, lang=lang, title=title, author=lender, for_pdf=for_pdf)


def render_kfs_pdf(kfs: Mapping[str, Any], lang: str) -> bytes:
    """The KFS as PDF bytes (WeasyPrint; the CJK font is embedded). ``DocumentError`` if zh has no font."""
    html = render_kfs_html(kfs, lang, for_pdf=True)
    _require_font_for(html, lang)
    return _pdf(html)


# ---------------------------------------------------------------------------------------------------------
# Loan statement

_RECURRING_FEE_TYPES = ("monthly_fee", "instalment_fee")
PENALTY_DAYS_IN_YEAR = 360  # the KFS's P1 basis: overdue principal, per day, 360-day year


def _statement_context(statement: Mapping[str, Any], lang: str) -> dict[str, Any]:
    if not isinstance(statement, Mapping):
        raise DocumentError("statement: expected a mapping")
    missing = [k for k in ("loan", "kfs_sha256", "generated_on", "borrower_name") if k not in statement]
    if missing:
        raise DocumentError(f"statement: missing field(s) {', '.join(missing)}")
    loan = statement["loan"]
    if not isinstance(loan, Mapping):
        raise DocumentError("statement: 'loan' must be the mapping returned by servicing.views.loan_view")
    kfs = statement.get("kfs")
    fee_clause: str | None = "F2/F3"  # per-instalment fees: F2 (fixed) and/or F3 (rate of principal)
    complaints: Mapping[str, Any] | None = None
    if kfs is not None:
        if snapshot(dict(kfs)).sha256 != statement["kfs_sha256"]:
            raise DocumentError(
                "statement: the KFS given does not match kfs_sha256 (not the snapshot signed)"
            )
        recurring = [f["clause"] for f in kfs.get("fees", []) if f.get("type") in _RECURRING_FEE_TYPES]
        fee_clause = "+".join(recurring) or None
        complaints = kfs.get("complaints")
    try:
        balances = loan["balances"]
        owed = _sum([balances[k] for k in ("principal", "interest", "fees", "penalties")])
        lines: list[dict[str, str]] = []
        for row in loan["schedule"]:
            if row["status"] == "scheduled":  # not billed yet
                continue
            for item, clause in (("principal", "S1"), ("interest", "S1"), ("fee", fee_clause)):
                if _decimal(row[item], item) != 0:
                    if clause is None:  # no clause, no charge
                        raise DocumentError(
                            f"statement: period {row['period']} bills a fee of {row[item]} "
                            "but the KFS discloses no per-instalment fee"
                        )
                    lines.append(
                        {
                            "period": str(row["period"]),
                            "due_date": row["due_date"],
                            "item": item,
                            "amount": _amount(row[item]),
                            "clause": clause,
                        }
                    )
        has_overpayment = _decimal(balances["overpayment"], "overpayment") != 0
        penalties_charged = _amount(loan["penalties_charged"])
        apr_percent = str(round_half_up(_decimal(loan["apr_percent"], "apr_percent"), 2))
        penalty = loan["penalty"]
        daily_percent = Decimal(int(penalty["effective_daily_rate_e9"])).scaleb(-7)  # parts per 1e9 → percent
        if kfs is not None:  # the annual rate exactly as disclosed (after the cap)
            annual_percent = _decimal(kfs["penalty"]["annual_rate"], "penalty rate") * 100
        else:
            annual_percent = round_half_up(daily_percent * PENALTY_DAYS_IN_YEAR, 2)
    except KeyError as exc:
        raise DocumentError(f"statement: loan view is missing field {exc}") from exc
    return {
        "statement": statement,
        "loan": loan,
        "owed": owed,
        "has_overpayment": has_overpayment,
        "lines": lines,
        "fee_clause": fee_clause or "—",
        "apr_percent": apr_percent,
        "penalties_charged": penalties_charged,
        "has_penalty": _decimal(penalties_charged, "penalties_charged") != 0,
        "penalty_daily_percent": f"{daily_percent.normalize():f}",
        "penalty_annual_percent": str(annual_percent),
        "has_penalty_rate": daily_percent != 0,
        "penalty_reason": penalty.get("reason"),
        "penalty_cap_profile": penalty.get("cap_profile"),
        "complaints": complaints,
    }


def render_statement_fragment(statement: Mapping[str, Any], lang: str) -> str:
    """A loan statement as body content only (``<article class="xd-doc xd-statement">``).

    ``statement`` is::

        {
          "loan": <dict returned by xiaodai.servicing.views.loan_view(...)>,
          "kfs_sha256": "<hex SHA-256 of the KFS snapshot the borrower signed>",
          "generated_on": "YYYY-MM-DD",
          "borrower_name": "<name as it should be printed>",
          "kfs": <optional: the signed KFS document itself>,
        }

    ``loan`` needs ``id, state, method, currency, principal, term, apr_percent, start_date, disbursed_on,
    closed_on, balances{principal, interest, fees, penalties, overpayment}, paid_total, penalties_charged,
    disclosed_repayment, penalty{disclosed_annual_rate, reason, cap_profile}, days_past_due`` and
    ``schedule[{period, due_date, principal, interest, fee, payment, paid, outstanding, status, paid_on}]``
    (amounts are decimal strings). Every bill line names the clause of the snapshot that allows it:
    principal and interest → S1, fee → the KFS's recurring-fee clauses (F2/F3; exact when ``kfs`` is given,
    which is then checked against ``kfs_sha256``), penalty interest → P1.
    """
    check_lang(lang)
    context = _statement_context(statement, lang)
    t = _Translator(lang, str(context["loan"].get("currency", "CNY")))
    return _render("statement.html.j2", "statement", t=t, lang=lang, html_lang=HTML_LANG[lang], **context)


def render_statement_html(statement: Mapping[str, Any], lang: str, *, for_pdf: bool = False) -> str:
    """A loan statement as a complete HTML document with inline CSS."""
    body = render_statement_fragment(statement, lang)
    title = f"{labels(lang)['stmt.title']} #{statement['loan'].get('id', '')} {statement['generated_on']}"
    return _document(body, lang=lang, title=title, author="", for_pdf=for_pdf)


def render_statement_pdf(statement: Mapping[str, Any], lang: str) -> bytes:
    """A loan statement as PDF bytes (WeasyPrint, CJK font embedded)."""
    html = render_statement_html(statement, lang, for_pdf=True)
    _require_font_for(html, lang)
    return _pdf(html)
