"""The zh/en HTML risk report: one self-contained page, charts as inline SVG (no CDN, no script)."""

from __future__ import annotations

from html import escape
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

TEXT: dict[str, dict[str, str]] = {
    "title": {"zh": "资产组合风险报告", "en": "Portfolio risk report"},
    "book": {"zh": "贷款余额（元）与逾期分布", "en": "Balance (CNY) by DPD bucket"},
    "balance": {"zh": "余额", "en": "Balance"},
    "complaints": {"zh": "投诉指标（本月）", "en": "Complaint KPIs (this month)"},
    "on_time": {"zh": "按时处理率", "en": "On-time rate"},
    "median_days": {"zh": "处理天数中位数", "en": "Median days to resolve"},
    "as_of": {"zh": "报告日期", "en": "As of"},
    "source": {"zh": "数据来源", "en": "Source"},
    "engine": {"zh": "计算引擎", "en": "Engine"},
    "ecl": {"zh": "预期信用损失（IFRS 9）", "en": "Expected credit loss (IFRS 9)"},
    "stage": {"zh": "阶段", "en": "Stage"},
    "loans": {"zh": "笔数", "en": "Loans"},
    "exposure": {"zh": "敞口（元）", "en": "Exposure (CNY)"},
    "ecl_amount": {"zh": "ECL（元）", "en": "ECL (CNY)"},
    "total": {"zh": "合计", "en": "Total"},
    "cecl": {"zh": "CECL（全生命周期，不折现）", "en": "CECL (lifetime, undiscounted)"},
    "lgd": {"zh": "违约损失率", "en": "LGD"},
    "vintages": {"zh": "账龄分析：累计违约率", "en": "Vintages: cumulative default rate"},
    "mob": {"zh": "账龄（月）", "en": "Months on book"},
    "roll": {"zh": "迁徙率矩阵", "en": "Roll-rate matrix"},
    "flow": {"zh": "迁徙率与回收（治愈）率", "en": "Flow and cure rates"},
    "flow_rate": {"zh": "迁徙率（按余额）", "en": "Flow rate (by balance)"},
    "cure_rate": {"zh": "治愈率", "en": "Cure rate"},
    "stress": {"zh": "压力测试", "en": "Stress scenarios"},
    "scenario": {"zh": "情景", "en": "Scenario"},
    "impact": {"zh": "较基准增加（元）", "en": "Impact over base (CNY)"},
    "concentration": {"zh": "集中度", "en": "Concentration"},
    "dimension": {"zh": "维度", "en": "Dimension"},
    "value": {"zh": "取值", "en": "Value"},
    "share": {"zh": "占比", "en": "Share"},
    "backtest": {
        "zh": "回测：预测违约率与实际违约率（12个月）",
        "en": "Backtest: predicted vs realised PD (12 months)",
    },
    "grade": {"zh": "等级", "en": "Grade"},
    "predicted": {"zh": "预测", "en": "Predicted"},
    "realised": {"zh": "实际", "en": "Realised"},
    "growth": {"zh": "增长与质量检查", "en": "Growth versus quality"},
    "month": {"zh": "放款月份", "en": "Origination month"},
    "period": {"zh": "月份", "en": "Month"},
    "approvals": {"zh": "审批通过", "en": "Approvals"},
    "early": {"zh": "早期逾期率（30+）", "en": "Early delinquency (30+)"},
    "flagged": {"zh": "预警", "en": "Flagged"},
    "ew": {"zh": "早期预警名单", "en": "Early-warning list"},
    "signals": {"zh": "信号", "en": "Signals"},
    "from": {"zh": "从", "en": "From"},
    "to": {"zh": "到", "en": "To"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
}
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def line_chart(
    series: dict[str, list[tuple[float, float]]], *, width: int = 640, height: int = 260, percent: bool = True
) -> str:
    """Lines for (x, y) points; y as a fraction shown in percent, or as an amount."""
    points = [p for values in series.values() for p in values]
    if not points:
        return ""
    max_x = max(p[0] for p in points) or 1.0
    max_y = max(p[1] for p in points) or 0.01
    left, bottom = 50, 30

    def sx(x: float) -> float:
        return left + (width - left - 10) * x / max_x

    def sy(y: float) -> float:
        return height - bottom - (height - bottom - 10) * y / max_y

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#333"/>'
    )
    parts.append(f'<line x1="{left}" y1="10" x2="{left}" y2="{height - bottom}" stroke="#333"/>')
    for tick in range(5):
        y = max_y * tick / 4
        label = f"{100 * y:.1f}%" if percent else f"{y:,.0f}"
        parts.append(f'<text x="4" y="{sy(y) + 4:.1f}" font-size="9">{label}</text>')
    parts.append(f'<text x="{width - 30}" y="{height - 8}" font-size="10">{max_x:.0f}</text>')
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>')
        parts.append(
            f'<text x="{width - 120}" y="{20 + 12 * index}" font-size="10" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(bars: list[tuple[str, float]], *, width: int = 640, height: int = 200) -> str:
    if not bars:
        return ""
    top = max(v for _, v in bars) or 1.0
    slot = (width - 20) / len(bars)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for index, (label, value) in enumerate(bars):
        h = (height - 40) * value / top
        x = 10 + index * slot
        parts.append(
            f'<rect x="{x + 4:.1f}" y="{height - 20 - h:.1f}" width="{slot - 8:.1f}" height="{h:.1f}" '
            f'fill="{COLOURS[index % len(COLOURS)]}"/>'
        )
        parts.append(f'<text x="{x + 6:.1f}" y="{height - 6}" font-size="10">{escape(label)}</text>')
        parts.append(f'<text x="{x + 6:.1f}" y="{height - 24 - h:.1f}" font-size="10">{value:,.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def heat_map(matrix: list[dict[str, Any]], *, cell: int = 70) -> str:
    rows = list(dict.fromkeys(m["from"] for m in matrix))
    cols = list(dict.fromkeys(m["to"] for m in matrix))
    width, height = 60 + cell * len(cols), 30 + 30 * len(rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for j, col in enumerate(cols):
        parts.append(f'<text x="{60 + j * cell + 4}" y="18" font-size="11">{escape(col)}</text>')
    for i, row in enumerate(rows):
        parts.append(f'<text x="4" y="{30 + i * 30 + 19}" font-size="11">{escape(row)}</text>')
        for j, col in enumerate(cols):
            item = next(m for m in matrix if m["from"] == row and m["to"] == col)
            value = float(item["roll_rate"] or 0)
            shade = int(255 - 200 * min(value, 1.0))
            parts.append(
                f'<rect x="{60 + j * cell}" y="{30 + i * 30}" width="{cell - 2}" height="28" '
                f'fill="rgb(255,{shade},{shade})"/>'
                f'<text x="{60 + j * cell + 6}" y="{30 + i * 30 + 19}" font-size="11">'
                f"{100 * value:.1f}%</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def labelled(charts: dict[str, str], titles: dict[str, str]) -> dict[str, str]:
    """Give each chart its accessible name (the section's title, as ``aria-label`` and ``<title>``), so a
    screen reader announces what the picture is; its numbers are in the table or CSV beside it."""
    out: dict[str, str] = {}
    for key, svg in charts.items():
        name = escape(titles.get(key, key))
        out[key] = (
            svg.replace('role="img">', f'role="img" aria-label="{name}"><title>{name}</title>', 1)
            if svg
            else svg
        )
    return out


def render_html(payload: dict[str, Any], *, lang: str) -> str:
    t = {key: value[lang] for key, value in TEXT.items()}
    cohorts: dict[str, list[tuple[float, float]]] = {}
    for row in payload["vintages"]:
        cohorts.setdefault(row["origination_month"][:7], []).append((row["mob"], float(row["default_rate"])))
    shown = dict(list(cohorts.items())[-8:])
    balance_series: dict[str, list[tuple[float, float]]] = {}
    for index, row in enumerate(payload["book"], start=1):
        for bucket in ("M0", "M1", "M2", "M3", "M4plus"):
            balance_series.setdefault(bucket, []).append((index, float(row[f"{bucket}_balance"])))
        balance_series.setdefault(t["balance"], []).append((index, float(row["balance"])))
    charts = {
        "book": line_chart(balance_series, percent=False),
        "vintages": line_chart(shown),
        "roll": heat_map(payload["roll_rates"]["matrix"]),
        "ecl": bar_chart(
            [(f"{t['stage']} {r['stage']}", float(r["ecl"])) for r in payload["ecl"]["by_stage"]]
        ),
        "stress": bar_chart([(r["scenario"], float(r["total"])) for r in payload["stress"]]),
    }
    charts = labelled(charts, t)
    env = Environment(
        loader=PackageLoader("xiaodai.risk", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    template = env.get_template("risk_report.html.j2")
    return template.render(t=t, r=payload, charts=charts, lang="zh-CN" if lang == "zh" else "en")
