"""KFS and loan-statement documents: the all-in annual rate first and largest, zh and en, everything escaped,
self-contained HTML, and PDFs whose CJK font is embedded and whose figures equal the quote's."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from xiaodai.documents import (
    DocumentError,
    document_css,
    render_kfs_fragment,
    render_kfs_html,
    render_kfs_pdf,
    render_statement_fragment,
    render_statement_html,
    render_statement_pdf,
)
from xiaodai.documents import render as render_module
from xiaodai.documents.i18n import LABELS
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.disclosure import DisclosureTerms, build_kfs, snapshot
from xiaodai.pricing.fees import FeeSchedule
from xiaodai.pricing.quote import build_quote
from xiaodai.pricing.schedule import LoanTerms, Method

LANGS = ("zh", "en")
RATE_RE = re.compile(r"\d+(?:\.\d+)?\s?%")
BOOK = default_cap_book()


def _kfs(fees: FeeSchedule) -> dict[str, Any]:
    terms = LoanTerms(
        principal=Decimal("10000"),
        term=12,
        method=Method.EQUAL_INSTALLMENT,
        annual_rate=Decimal("0.12"),
        start_on=date(2026, 1, 10),
        fees=fees,
    )
    quote = build_quote(terms, cap=BOOK.profile("cn-consumer-24"), cap_book=BOOK)
    return build_kfs(
        quote,
        DisclosureTerms(penalty_annual_rate=Decimal("0.06"), penalty_reason="PENALTY_CAPPED_BY_PROFILE"),
    )


@pytest.fixture(scope="module")
def kfs() -> dict[str, Any]:
    return _kfs(FeeSchedule(upfront=Decimal("300")))


@pytest.fixture(scope="module")
def kfs_all_fees() -> dict[str, Any]:
    return _kfs(
        FeeSchedule(
            upfront=Decimal("100"), monthly_fixed=Decimal("5"), monthly_rate_on_principal=Decimal("0.001")
        )
    )


@pytest.fixture(scope="module")
def kfs_pdf(kfs: dict[str, Any]) -> dict[str, bytes]:
    """Each language rendered once for the whole module (WeasyPrint takes a few hundred ms a document)."""
    return {lang: render_kfs_pdf(kfs, lang) for lang in LANGS}


def _text(html: str) -> str:
    """The visible text of an HTML document or fragment (head and style dropped, entities decoded)."""
    body = re.sub(r"(?s)<head>.*?</head>", " ", html)
    body = re.sub(r"(?s)<style>.*?</style>", " ", body)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: cannot read the PDF text back")
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    return subprocess.run(
        [exe, "-layout", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout


# ---------------------------------------------------------------------------------------------------------
# KFS: the annual rate comes first and is the largest rate on the page


@pytest.mark.parametrize("lang", LANGS)
def test_apr_is_the_first_rate_and_uses_the_headline_class(kfs: dict[str, Any], lang: str) -> None:
    html = render_kfs_html(kfs, lang)
    apr = f"{kfs['headline']['apr_percent']}%"
    assert apr == "17.83%"
    rates = [m.group(0).replace(" ", "") for m in RATE_RE.finditer(_text(html))]
    assert rates[0] == apr, rates[:5]
    assert re.search(rf'<p class="rate-headline" id="kfs-apr"[^>]*>{re.escape(apr)}</p>', html)
    assert html.count('id="kfs-apr"') == 1
    text = _text(html)
    other = kfs["other_rates"]
    for figure in ("19.36%", "12.00%", "1.4854%", "6.00%", "24.00%"):  # EAR, nominal, monthly, penalty, cap
        assert text.index(figure) > text.index(apr), figure
        assert f'<span class="rate-secondary">{figure}</span>' in html, figure
    assert other["ear_percent"] == "19.36"
    # every % figure on the page except the headline is marked secondary
    assert len(re.findall(r'class="rate-secondary">[^<]*%<', html)) == len(rates) - 1


def test_headline_rate_is_the_largest_type_of_any_rate() -> None:
    css = re.sub(r"(?s)/\*.*?\*/", "", document_css())

    def sizes(selector: str) -> list[float]:
        found = []
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            if selector in selectors:
                found += [float(v) for v in re.findall(r"font-size:\s*([\d.]+)px", body)]
        return found

    assert sizes(".rate-headline") == [40.0]
    secondary = sizes(".rate-secondary")
    assert secondary
    assert max(secondary) <= 16


@pytest.mark.parametrize("lang", LANGS)
def test_sections_come_in_order_and_each_shows_its_clause(kfs: dict[str, Any], lang: str) -> None:
    html = render_kfs_fragment(kfs, lang)
    ids = re.findall(r'<section class="[^"]*" id="([^"]+)"', html)
    assert ids == [
        "kfs-R1", "kfs-L1", "kfs-costs", "kfs-R1-other-rates",
        "kfs-S1", "kfs-P1", "kfs-E1", "kfs-C1", "kfs-K1",
    ]  # fmt: skip
    for section in re.findall(r"(?s)<section.*?</section>", html):
        assert '<span class="clause-id">' in section.split("</h2>")[0], section[:80]
    text = _text(html)
    t = LABELS[lang]
    order = [
        "17.83%",
        t["kfs.l1.amount_received"],
        "9700.00",
        t["kfs.costs.total_interest"],
        "661.86",
        t["fee.upfront_fee"],
        "300.00",
        t["kfs.costs.total_repayable"],
        "10661.86",
        "2026-02-10",  # the schedule
        t["kfs.p1.title"],
        t["kfs.e1.title"],
    ]
    positions = [text.index(item) for item in order]
    assert positions == sorted(positions), list(zip(order, positions, strict=True))
    for clause in ("R1", "L1", "F1", "S1", "P1", "E1", "C1", "K1"):
        assert f'<span class="clause-id">{clause}</span>' in html, clause
    # all twelve schedule rows, penalty cap, early repayment, complaints deadline, cooling-off window
    assert html.count("<tr data-period=") == 12
    assert "cn-consumer-24" not in text  # the cap profile in words (caps.json's label), not its id
    cap = BOOK.profile("cn-consumer-24")
    label = cap.label_zh if lang == "zh" else cap.label_en
    assert label.replace(" ", "") in text.replace(" ", "")  # (its 24% in a secondary-rate span)
    assert t["kfs.e1.no_fee"] in text
    assert t["kfs.k1.deadline"].format(days=15) in text
    assert t["kfs.c1.text"].format(days=7) in text
    channel = kfs["complaints"][f"channel_{lang}"]
    assert unescape(channel) in text


def test_zh_and_en_render_in_their_own_words(kfs: dict[str, Any]) -> None:
    zh, en = render_kfs_html(kfs, "zh"), render_kfs_html(kfs, "en")
    assert '<html lang="zh-CN">' in zh
    assert '<html lang="en">' in en
    assert "年化利率" in zh
    assert "等额本息" in zh
    assert "Annual rate (all fees included)" in en
    assert not re.search("[\u4e00-\u9fff]", _text(en))


def test_every_fee_is_named_with_its_clause(kfs_all_fees: dict[str, Any]) -> None:
    html = render_kfs_fragment(kfs_all_fees, "en")
    assert [f["clause"] for f in kfs_all_fees["fees"]] == ["F1", "F2", "F3"]
    for fee in kfs_all_fees["fees"]:
        row = re.search(rf'(?s)<tr class="fee" id="kfs-fee-{fee["clause"]}".*?</tr>', html)
        assert row, fee["clause"]
        assert f'<span class="clause-id">{fee["clause"]}</span>' in row.group(0)
        assert LABELS["en"][f"fee.{fee['type']}"] in row.group(0)
        assert f"CNY {fee['amount']}" in row.group(0)
    assert '<span class="rate-secondary">0.10%</span>' in html  # F3: 0.1% of the original principal


def test_fragment_is_body_only_and_documents_are_self_contained(kfs: dict[str, Any]) -> None:
    fragment = render_kfs_fragment(kfs, "zh")
    assert fragment.lstrip().startswith('<article class="xd-doc xd-kfs"')
    for tag in ("<html", "<head>", "<body", "<style", "<!DOCTYPE"):
        assert tag not in fragment
    html = render_kfs_html(kfs, "zh")
    assert html.startswith("<!DOCTYPE html>")
    assert "<style>" in html
    assert fragment in html
    for external in ("<link", "<script", "<img", "http://", "https://", "url(", "@import"):
        assert external not in html, external
    pdf_html = render_kfs_html(kfs, "zh", for_pdf=True)
    assert re.findall(r"url\(([^)]*)\)", pdf_html) == [f'"{render_module.find_cjk_font().url}"']  # type: ignore[union-attr]


def test_everything_is_escaped(kfs: dict[str, Any]) -> None:
    hostile = {
        **kfs,
        "lender": "<script>alert(1)</script>",
        "complaints": {**kfs["complaints"], "channel_en": 'call "x" & <b>now</b>'},
    }
    html = render_kfs_html(hostile, "en")
    assert "<script>" not in html
    assert "<b>now</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp; &lt;b&gt;now&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "render",
    [render_kfs_fragment, render_kfs_html, render_kfs_pdf],
    ids=["fragment", "html", "pdf"],
)
@pytest.mark.parametrize("lang", ["fr", "", "ZH", "zh-CN"])
def test_unsupported_language_is_a_value_error(kfs: dict[str, Any], render: Any, lang: str) -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        render(kfs, lang)


def test_unknown_kfs_version_is_refused(kfs: dict[str, Any]) -> None:
    with pytest.raises(DocumentError, match="kfs_version"):
        render_kfs_html({**kfs, "kfs_version": "kfs-99"}, "zh")


# ---------------------------------------------------------------------------------------------------------
# KFS PDF


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_is_a_pdf(kfs_pdf: dict[str, bytes], lang: str) -> None:
    assert kfs_pdf[lang].startswith(b"%PDF")
    assert len(kfs_pdf[lang]) > 10_000


def test_zh_pdf_embeds_a_cjk_font(kfs_pdf: dict[str, bytes], tmp_path: Path) -> None:
    exe = shutil.which("pdffonts")
    if exe is None:
        pytest.skip("pdffonts (poppler-utils) is not installed: cannot list the PDF's fonts")
    source = tmp_path / "kfs-zh.pdf"
    source.write_bytes(kfs_pdf["zh"])
    out = subprocess.run([exe, str(source)], capture_output=True, text=True, check=True).stdout
    cjk = [
        line
        for line in out.splitlines()[2:]
        if re.search(r"WenQuanYi|Noto-?Sans-?CJK|Source-?Han|XiaodaiCJK", line, re.IGNORECASE)
    ]
    assert cjk, out
    # columns: name type encoding emb sub uni object-id
    assert all(line.split()[-5] == "yes" for line in cjk), out


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_figures_equal_the_quote(
    kfs: dict[str, Any], kfs_pdf: dict[str, bytes], lang: str, tmp_path: Path
) -> None:
    text = _pdftotext(kfs_pdf[lang], tmp_path)
    apr = f"{kfs['headline']['apr_percent']}%"
    assert RATE_RE.search(text).group(0) == apr  # type: ignore[union-attr]  # the first rate in the PDF
    assert kfs["costs"]["total_repayable"] in text
    assert kfs["loan"]["amount_received"] in text
    first = kfs["schedule"][0]
    row = r"\s+".join(
        re.escape(str(first[k]))
        for k in ("period", "due_date", "principal", "interest", "fee", "payment", "balance")
    )
    assert re.search(rf"(?m)^\s*{row}\s*$", text), text
    last = kfs["schedule"][-1]
    assert last["due_date"] in text
    assert last["payment"] in text


def test_no_cjk_font_refuses_zh_but_en_still_renders(
    kfs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_module, "find_cjk_font", lambda: None)
    with pytest.raises(DocumentError, match=r"no CJK font installed: apt-get install fonts-wqy-microhei"):
        render_kfs_pdf(kfs, "zh")
    assert render_kfs_pdf(kfs, "en").startswith(b"%PDF")


def test_font_search_finds_an_installed_cjk_font() -> None:
    font = render_module.find_cjk_font()
    assert font is not None, "install fonts-wqy-microhei (or Noto Sans CJK)"
    assert font.path.is_file()


# ---------------------------------------------------------------------------------------------------------
# loan statement


def _loan_view(kfs: dict[str, Any]) -> dict[str, Any]:
    """A loan as ``servicing.views.loan_view`` returns it: period 1 paid, 2 overdue, the rest to come."""
    rows = []
    for r in kfs["schedule"]:
        p = r["period"]
        status = {1: "paid", 2: "overdue"}.get(p, "scheduled")
        rows.append(
            {
                "period": p,
                "due_date": r["due_date"],
                "principal": r["principal"],
                "interest": r["interest"],
                "fee": r["fee"],
                "payment": r["payment"],
                "paid": r["payment"] if p == 1 else "0.00",
                "outstanding": "0.00" if p == 1 else r["payment"],
                "status": status,
                "days_past_due": 5 if p == 2 else 0,
                "bucket": "M1" if p == 2 else "M0",
                "paid_on": "2026-02-10" if p == 1 else None,
            }
        )
    return {
        "id": 42,
        "state": "overdue",
        "product": "standard",
        "method": kfs["loan"]["method"],
        "currency": "CNY",
        "principal": kfs["loan"]["principal"],
        "term": kfs["loan"]["term"],
        "annual_rate": "0.12",
        "apr_percent": "17.8312345678",
        "start_date": kfs["loan"]["start_date"],
        "disbursed_on": kfs["loan"]["start_date"],
        "closed_on": None,
        "balances": {
            "principal": "9211.51",
            "interest": "92.12",
            "fees": "0.00",
            "penalties": "0.66",
            "overpayment": "0.00",
        },
        "paid_total": kfs["schedule"][0]["payment"],
        "penalties_charged": "0.66",
        "disclosed_repayment": kfs["costs"]["total_repayable"],
        "penalty": {
            "disclosed_annual_rate": "0.06",
            "effective_daily_rate_e9": 166667,  # 0.06 / 360 in parts per 1e9
            "reason": "PENALTY_CAPPED_BY_PROFILE",
            "cap_profile": "cn-consumer-24",
        },
        "days_past_due": 5,
        "bucket": "M1",
        "allocation_order": "overdue-first",
        "schedule": rows,
    }


def _statement(signed: dict[str, Any], /, **extra: Any) -> dict[str, Any]:
    return {
        "loan": _loan_view(signed),
        "kfs_sha256": snapshot(signed).sha256,
        "generated_on": "2026-02-15",
        "borrower_name": "张三 <b>",
        **extra,
    }


def _lines(html: str) -> list[tuple[str, str]]:
    """(item, clause) of every bill line."""
    table = re.search(r'(?s)<section class="clause" id="stmt-lines".*?</section>', html)
    assert table
    return [
        (unescape(item), clause)
        for clause, item in re.findall(
            r'(?s)<tr data-clause="([^"]+)"[^>]*>\s*<td>[^<]*</td>\s*<td[^>]*>[^<]*</td>\s*<td>([^<]*)</td>',
            table.group(0),
        )
    ]


@pytest.mark.parametrize("lang", LANGS)
def test_statement_shows_balances_schedule_and_the_clause_of_every_bill_line(
    kfs_all_fees: dict[str, Any], lang: str
) -> None:
    html = render_statement_html(_statement(kfs_all_fees, kfs=kfs_all_fees), lang)
    t = LABELS[lang]
    text = _text(html)
    assert snapshot(kfs_all_fees).sha256 in text
    assert "张三 <b>" in text
    assert "<b>" not in html.split("<body>")[1]
    assert "17.83%" in text  # the view's 17.8312345678 rounded half-up to 2 dp, as disclosed
    assert "17.8312345678" not in text
    assert "9211.51" in text
    assert html.count('<tr class="status-') == 12
    assert t["status.paid"] in text
    assert t["status.overdue"] in text
    assert t["status.scheduled"] in text
    lines = _lines(html)
    assert (t["kfs.s1.principal"], "S1") in lines
    assert (t["kfs.s1.interest"], "S1") in lines
    assert (t["kfs.s1.fee"], "F2+F3") in lines  # exact: the KFS was given
    assert (t["stmt.lines.penalty"], "P1") in lines
    assert len(lines) == 2 * 3 + 1  # two billed periods x principal, interest, fee + the penalty line
    assert t["stmt.complaints"].split("{")[0] in text  # K1 from the signed KFS


def test_statement_apr_and_penalty_rates(kfs: dict[str, Any]) -> None:
    html = render_statement_fragment(_statement(kfs), "en")
    text = _text(html)
    assert "17.83%" in text
    assert "0.0166667%" in text  # effective daily penalty rate (parts per 1e9 → percent)
    assert "6.00%" in text  # about the annual rate: daily x 360
    assert "F2/F3" in html  # without the KFS the fee clause is named generically


def test_statement_pdf(kfs: dict[str, Any], tmp_path: Path) -> None:
    pdf = render_statement_pdf(_statement(kfs, kfs=kfs), "zh")
    assert pdf.startswith(b"%PDF")
    text = _pdftotext(pdf, tmp_path)
    assert "9211.51" in text
    assert "2026-02-10" in text


def test_statement_refuses_a_kfs_that_is_not_the_signed_one(kfs: dict[str, Any]) -> None:
    with pytest.raises(DocumentError, match="does not match kfs_sha256"):
        render_statement_html(_statement(kfs, kfs=kfs, kfs_sha256="0" * 64), "zh")


def test_statement_refuses_a_fee_no_clause_allows(kfs: dict[str, Any]) -> None:
    statement = _statement(kfs, kfs=kfs)
    statement["loan"]["schedule"][0]["fee"] = "5.00"  # kfs has only the up-front fee F1
    with pytest.raises(DocumentError, match="no per-instalment fee"):
        render_statement_html(statement, "en")


def test_statement_reports_missing_fields(kfs: dict[str, Any]) -> None:
    with pytest.raises(DocumentError, match="borrower_name"):
        render_statement_html({k: v for k, v in _statement(kfs).items() if k != "borrower_name"}, "zh")
    broken = _statement(kfs)
    del broken["loan"]["balances"]
    with pytest.raises(DocumentError, match="balances"):
        render_statement_html(broken, "zh")
    with pytest.raises(ValueError, match="unsupported language"):
        render_statement_pdf(_statement(kfs), "de")


# ---------------------------------------------------------------------------------------------------------
# labels


def test_zh_and_en_label_tables_match() -> None:
    zh, en = LABELS["zh"], LABELS["en"]
    assert set(zh) == set(en)
    for key in zh:
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key
