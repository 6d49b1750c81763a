"""Model cards (``card.zh.html``, ``card.en.html``): one self-contained HTML page per language.

No scripts, no CDN, no external fonts or images: inline CSS and inline SVG charts drawn here (AUC per fold,
calibration, score distribution, information value). Every piece of text that comes from data, config or
metrics goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from xiaodai.underwriting.artifact import CompiledScorecard

SCORECARD_COLOUR = "#1f5f99"
LIGHTGBM_COLOUR = "#d9822b"
GOOD_COLOUR = "#3a8f5c"
BAD_COLOUR = "#c0392b"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Model card: credit scorecard",
        "version": "Version",
        "created": "Created (UTC)",
        "code": "Code version",
        "intended_title": "Intended use",
        "intended": (
            "Ranks consumer-credit applicants by their probability of default (PD) over the outcome "
            "window of the training data, to support an underwriting decision together with the knock-out "
            "policy, affordability checks and a human review of declines. The champion is a points "
            "scorecard that can be read and explained bin by bin; the LightGBM challenger is for "
            "comparison and monitoring only."
        ),
        "not_for": (
            "Not for: populations or products unlike the training data, decisions about people based on "
            "protected characteristics, or pricing without a separate calibration review."
        ),
        "data_title": "Data",
        "item": "Item",
        "value": "Value",
        "source": "Source file",
        "sha": "SHA-256",
        "rows": "Rows",
        "bad_rate": "Bad rate",
        "target": "Target",
        "bad_value": "Bad value",
        "cv": "Validation",
        "cv_text": (
            "Stratified {folds}-fold cross-validation, seed {seed}; every fold refits the whole pipeline."
        ),
        "model_title": "Model",
        "model_text": (
            "Champion: optimal monotone binning (optbinning), weight of evidence, logistic regression, "
            "scaled to {pdo:g} points to double the odds and {base:g} points at {odds:g}:1 good:bad odds. "
            "Score = sum of points; PD = 1 / (1 + exp((score − {offset:.2f}) / {factor:.4f})). "
            "Challenger: LightGBM with monotone constraints where the binning found a monotone bad rate."
        ),
        "metrics_title": "Cross-validated performance",
        "model": "Model",
        "scorecard": "Scorecard (champion)",
        "lightgbm": "LightGBM (challenger)",
        "auc_by_fold": "AUC by fold",
        "fold": "Fold {n}",
        "features_title": "Features",
        "feature": "Feature",
        "label": "Plain-language name",
        "kind": "Type",
        "bins": "Bins",
        "iv": "IV",
        "trend": "Bad rate vs value",
        "ascending": "rises",
        "descending": "falls",
        "none": "—",
        "numeric": "numeric",
        "categorical": "categorical",
        "iv_chart": (
            "Information value of every candidate feature (dark: used by the scorecard; line: IV 0.02)"
        ),
        "points_title": "Points table",
        "bin": "Bin",
        "points": "Points",
        "event_rate": "Bad rate",
        "missing": "Missing / unseen",
        "calibration_title": "Calibration (out-of-fold, deciles of predicted PD)",
        "decile": "Decile",
        "count": "Count",
        "mean_pd": "Mean predicted PD",
        "observed": "Observed bad rate",
        "calibration_axes": "x: mean predicted PD, y: observed bad rate; diagonal = perfect calibration",
        "distribution_title": "Score distribution (out-of-fold scorecard scores)",
        "distribution_axes": "Share of goods (green) and bads (red) per score band",
        "good": "good",
        "bad": "bad",
        "protected_title": "Protected attributes",
        "protected_text": (
            "Protected attributes are excluded from the features unless explicitly allowed, are never "
            "used as reason codes, and are used only to measure fairness below."
        ),
        "protected_list": "Protected",
        "allowed": "Allowed as features",
        "none_listed": "none",
        "fairness_title": "Fairness",
        "group": "Group",
        "approval_rate": "Approval rate",
        "approval_ratio": "Approval ratio",
        "auc_sc": "AUC scorecard",
        "auc_lgb": "AUC LightGBM",
        "grouping": "Grouping",
        "grouping_age": "age buckets <25, 25–34, 35–49, 50+",
        "grouping_quartiles": "quartiles",
        "grouping_categories": "one group per value",
        "rule_median": (
            "Illustrative decision: approve when the scorecard's out-of-fold PD is below the portfolio "
            "median ({cutoff:.4f}), approving {rate:.1f}%. Approval ratio = the group's approval rate / "
            "the highest group's approval rate."
        ),
        "rule_cutoff": (
            "Decision: approve when the scorecard's out-of-fold PD is below the cutoff {cutoff:.4f}, "
            "approving {rate:.1f}%. Approval ratio = the group's approval rate / the highest group's "
            "approval rate."
        ),
        "small_note": "† fewer than {rows} rows: shown, but too few to judge",
        "four_fifths": "Lowest approval ratio {ratio} — {verdict} the four-fifths rule of thumb",
        "meets": "meets",
        "fails": "below",
        "limitations_title": "Limitations",
        "limitations": (
            "Trained on a fixed historical sample: performance drifts as applicants, products and the "
            "economy change, so monitor the population stability and the bad rate by score band.|"
            "Cross-validated metrics come from the same source as the training data; they are not an "
            "out-of-time test.|"
            "Approval ratios use a single illustrative cutoff; the real policy cutoff changes them.|"
            "Proxies: other features can be correlated with protected attributes even when those are "
            "excluded.|"
            "Missing values in a feature that had none in training take that feature's lowest points "
            "(conservative)."
        ),
        "warnings_title": "Data warnings",
    },
    "zh": {
        "title": "模型卡：信用评分卡",
        "version": "版本",
        "created": "生成时间（UTC）",
        "code": "代码版本",
        "intended_title": "预期用途",
        "intended": (
            "按违约概率（PD）对消费信贷申请人排序（观察期与训练数据一致），"
            "与准入规则、还款能力核查及对拒绝申请的人工复核一起支持审批决策，而非替代。"
            "主模型是可以逐箱解释的评分卡；LightGBM 挑战者模型仅用于对比和监控。"
        ),
        "not_for": (
            "不适用于：与训练数据差异较大的人群或产品；基于受保护特征对人作出决定；未经单独校准复核的定价。"
        ),
        "data_title": "数据",
        "item": "项目",
        "value": "内容",
        "source": "数据文件",
        "sha": "SHA-256",
        "rows": "样本数",
        "bad_rate": "坏账率",
        "target": "目标变量",
        "bad_value": "坏样本取值",
        "cv": "验证方式",
        "cv_text": "分层 {folds} 折交叉验证，随机种子 {seed}；每一折都重新拟合整个流程。",
        "model_title": "模型",
        "model_text": (
            "主模型：最优单调分箱（optbinning）、证据权重（WOE）、逻辑回归；"
            "刻度为每 {pdo:g} 分好坏比翻倍，好坏比 {odds:g}:1 时为 {base:g} 分。总分 = 各特征分数之和；"
            "PD = 1 / (1 + exp((总分 − {offset:.2f}) / {factor:.4f}))。"
            "挑战者：LightGBM，在分箱显示坏账率单调的特征上施加单调约束。"
        ),
        "metrics_title": "交叉验证表现",
        "model": "模型",
        "scorecard": "评分卡（主模型）",
        "lightgbm": "LightGBM（挑战者）",
        "auc_by_fold": "各折 AUC",
        "fold": "第 {n} 折",
        "features_title": "特征",
        "feature": "特征",
        "label": "通俗名称",
        "kind": "类型",
        "bins": "箱数",
        "iv": "IV",
        "trend": "坏账率随取值",
        "ascending": "上升",
        "descending": "下降",
        "none": "—",
        "numeric": "数值型",
        "categorical": "类别型",
        "iv_chart": "所有候选特征的信息值（深色：评分卡使用；竖线：IV 0.02）",
        "points_title": "分数表",
        "bin": "分箱",
        "points": "分数",
        "event_rate": "坏账率",
        "missing": "缺失／未见取值",
        "calibration_title": "校准（交叉验证样本外预测，按预测 PD 十等分）",
        "decile": "十分位",
        "count": "样本数",
        "mean_pd": "平均预测 PD",
        "observed": "实际坏账率",
        "calibration_axes": "横轴：平均预测 PD；纵轴：实际坏账率；对角线为完美校准",
        "distribution_title": "分数分布（交叉验证样本外评分卡分数）",
        "distribution_axes": "各分数段好样本（绿）与坏样本（红）的占比",
        "good": "好",
        "bad": "坏",
        "protected_title": "受保护属性",
        "protected_text": (
            "受保护属性默认不作为特征（除非明确允许），从不用作拒绝原因，仅用于下方的公平性度量。"
        ),
        "protected_list": "受保护属性",
        "allowed": "允许作为特征",
        "none_listed": "无",
        "fairness_title": "公平性",
        "group": "分组",
        "approval_rate": "通过率",
        "approval_ratio": "通过率比",
        "auc_sc": "评分卡 AUC",
        "auc_lgb": "LightGBM AUC",
        "grouping": "分组方式",
        "grouping_age": "年龄段 <25、25–34、35–49、50+",
        "grouping_quartiles": "四分位数",
        "grouping_categories": "每个取值一组",
        "rule_median": (
            "示例决策：评分卡样本外 PD 低于全体中位数（{cutoff:.4f}）即通过，通过率 {rate:.1f}%。"
            "通过率比 = 该组通过率 ÷ 通过率最高组的通过率。"
        ),
        "rule_cutoff": (
            "决策：评分卡样本外 PD 低于阈值 {cutoff:.4f} 即通过，通过率 {rate:.1f}%。"
            "通过率比 = 该组通过率 ÷ 通过率最高组的通过率。"
        ),
        "small_note": "† 样本少于 {rows} 条：仅作展示，不参与评判",
        "four_fifths": "最低通过率比 {ratio}——{verdict}“五分之四”经验规则",
        "meets": "符合",
        "fails": "低于",
        "limitations_title": "局限性",
        "limitations": (
            "基于固定的历史样本训练：申请人、产品和经济环境变化后表现会漂移，"
            "应监控群体稳定性和各分数段坏账率。|"
            "交叉验证指标与训练数据同源，不是跨时间验证。|"
            "通过率比只使用了一个示例性的阈值，实际审批阈值会改变结果。|"
            "代理变量：即使排除了受保护属性，其他特征仍可能与之相关。|"
            "训练中无缺失的特征若出现缺失值，取该特征的最低分（保守处理）。"
        ),
        "warnings_title": "数据警告",
    },
}

CSS = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.5}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef2f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#555}.warn{color:#8a4b00}.fail{color:#b00020;font-weight:600}.ok{color:#2e7d32}
figure{margin:12px 0}figcaption{font-size:.85em;color:#555}
svg text{font-family:inherit;font-size:11px;fill:#333}
details{margin:6px 0}summary{cursor:pointer}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{float(value):.{digits}f}"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


def _table(headers: Sequence[str], rows: Sequence[Sequence[tuple[str, bool]]]) -> str:
    """rows: cells as (already-escaped html, right-aligned)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if numeric else f"<td>{c}</td>" for c, numeric in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}">'
        f"<title>{esc(label)}</title>{body}</svg>"
    )


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> str:
    parts = []
    for i, (colour, name) in enumerate(items):
        parts.append(
            f'<rect x="{x + i * 170:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + i * 170 + 14:.1f}" y="{y:.1f}">{esc(name)}</text>'
        )
    return "".join(parts)


def auc_fold_chart(metrics: dict[str, Any], t: dict[str, str]) -> str:
    sc = [float(f["auc"]) for f in metrics["models"]["scorecard"]["folds"]]
    lg = [float(f["auc"]) for f in metrics["models"]["lightgbm"]["folds"]]
    width, height, left, bottom, top = 560, 240, 44, 30, 28
    plot_h = height - bottom - top
    lo = min(0.5, *(v - 0.05 for v in sc + lg))
    lo = max(0.0, int(lo * 10) / 10)
    hi = 1.0

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    n = len(sc)
    group_w = (width - left - 10) / max(n, 1)
    bar_w = group_w * 0.35
    parts = []
    tick = lo
    while tick <= hi + 1e-9:
        yy = y_of(tick)
        parts.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - 10}" y2="{yy:.1f}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{tick:.1f}</text>')
        tick += 0.1
    for i in range(n):
        x0 = left + i * group_w + group_w * 0.12
        for j, (values, colour) in enumerate(((sc, SCORECARD_COLOUR), (lg, LIGHTGBM_COLOUR))):
            v = values[i]
            x = x0 + j * bar_w
            tip = esc(f"{t['fold'].format(n=i + 1)}: {v:.3f}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y_of(v):.1f}" width="{bar_w - 2:.1f}" '
                f'height="{y_of(lo) - y_of(v):.1f}" '
                f'fill="{colour}"><title>{tip}</title></rect>'
            )
            parts.append(
                f'<text x="{x + bar_w / 2 - 1:.1f}" y="{y_of(v) - 3:.1f}" text-anchor="middle" '
                f'font-size="9">{v:.3f}</text>'
            )
        parts.append(
            f'<text x="{x0 + bar_w:.1f}" y="{height - bottom + 14}" text-anchor="middle">'
            f"{esc(t['fold'].format(n=i + 1))}</text>"
        )
    parts.append(_legend(left, 14, [(SCORECARD_COLOUR, t["scorecard"]), (LIGHTGBM_COLOUR, t["lightgbm"])]))
    return _svg(width, height, t["auc_by_fold"], "".join(parts))


def calibration_chart(metrics: dict[str, Any], t: dict[str, str]) -> str:
    width, height, left, bottom, top, right = 420, 360, 48, 36, 28, 14
    series = [
        (metrics["calibration"]["scorecard"], SCORECARD_COLOUR, t["scorecard"]),
        (metrics["calibration"]["lightgbm"], LIGHTGBM_COLOUR, t["lightgbm"]),
    ]
    peak = max(
        [0.1] + [max(float(r["mean_pd"]), float(r["bad_rate"])) for rows, _, _ in series for r in rows]
    )
    hi = min(1.0, (int(peak * 10) + 1) / 10)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(px: float, py: float) -> tuple[float, float]:
        return left + plot_w * px / hi, top + plot_h * (1 - py / hi)

    parts = []
    steps = round(hi / 0.1)
    for k in range(steps + 1):
        v = k * hi / steps
        x, _ = xy(v, 0)
        _, y = xy(0, v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{v:.1f}</text>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14:.1f}" text-anchor="middle">{v:.1f}</text>')
    x0, y0 = xy(0, 0)
    x1, y1 = xy(hi, hi)
    parts.append(
        f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
        'stroke="#999" stroke-dasharray="4 3"/>'
    )
    parts.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#bbb"/>')
    for rows, colour, _ in series:
        points = [xy(float(r["mean_pd"]), float(r["bad_rate"])) for r in rows]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for (x, y), r in zip(points, rows, strict=True):
            tip = f"{r['decile']}: {float(r['mean_pd']):.3f} → {float(r['bad_rate']):.3f} (n={r['count']})"
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{esc(tip)}</title></circle>'
            )
    parts.append(_legend(left, 14, [(c, name) for _, c, name in series]))
    return _svg(width, height, t["calibration_axes"], "".join(parts))


def distribution_chart(metrics: dict[str, Any], t: dict[str, str]) -> str:
    dist = metrics["score_distribution"]
    edges = [float(e) for e in dist["edges"]]
    good = [int(v) for v in dist["good"]]
    bad = [int(v) for v in dist["bad"]]
    total_good, total_bad = max(sum(good), 1), max(sum(bad), 1)
    share_good = [g / total_good for g in good]
    share_bad = [b / total_bad for b in bad]
    width, height, left, bottom, top = 640, 260, 44, 40, 28
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max([0.01, *share_good, *share_bad])
    n = len(good)
    band = plot_w / max(n, 1)
    parts = []
    for k in range(5):
        v = peak * k / 4
        y = top + plot_h * (1 - v / peak)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 5}" y="{y + 4:.1f}" text-anchor="end">{100 * v:.0f}%</text>')
    for i in range(n):
        x = left + i * band
        for j, (share, colour, name) in enumerate(
            ((share_good[i], GOOD_COLOUR, t["good"]), (share_bad[i], BAD_COLOUR, t["bad"]))
        ):
            h = plot_h * share / peak
            tip = f"[{edges[i]:g}, {edges[i + 1]:g}) {name}: {100 * share:.1f}%"
            parts.append(
                f'<rect x="{x + 1 + j * (band - 2) / 2:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{max((band - 2) / 2 - 0.5, 0.5):.1f}" height="{h:.1f}" '
                f'fill="{colour}" opacity="0.85">'
                f"<title>{esc(tip)}</title></rect>"
            )
    label_every = max(1, n // 10)
    for i in range(0, n + 1, label_every):
        x = left + i * band
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 14:.1f}" text-anchor="middle">{edges[i]:g}</text>'
        )
    parts.append(_legend(left, 14, [(GOOD_COLOUR, t["good"]), (BAD_COLOUR, t["bad"])]))
    return _svg(width, height, t["distribution_axes"], "".join(parts))


def iv_chart(metrics: dict[str, Any], labels: dict[str, str], t: dict[str, str]) -> str:
    items = sorted(metrics["bins"].items(), key=lambda kv: -float(kv[1]["iv"]))
    row_h, left, width, top = 18, 260, 640, 8
    height = top + row_h * len(items) + 24
    peak = max([0.05] + [float(v["iv"]) for _, v in items])
    plot_w = width - left - 60
    parts = []
    for i, (name, info) in enumerate(items):
        y = top + i * row_h
        w = plot_w * float(info["iv"]) / peak
        colour = SCORECARD_COLOUR if info["selected"] else "#a9bdd1"
        shown = labels.get(name, name)
        shown = shown if len(shown) <= 36 else shown[:35] + "…"
        parts.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">'
            f"{esc(shown)}<title>{esc(name)}</title></text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{max(w, 0.5):.1f}" height="{row_h - 6}" fill="{colour}"/>'
        )
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 12}">{float(info["iv"]):.3f}</text>')
    x_cut = left + plot_w * 0.02 / peak
    parts.append(
        f'<line x1="{x_cut:.1f}" y1="{top}" x2="{x_cut:.1f}" y2="{top + row_h * len(items)}" '
        'stroke="#c0392b" stroke-dasharray="3 3"/>'
    )
    return _svg(width, height, t["iv_chart"], "".join(parts))


def _metrics_table(metrics: dict[str, Any], t: dict[str, str]) -> str:
    rows = []
    for key in ("scorecard", "lightgbm"):
        block = metrics["models"][key]
        cells = [(esc(t[key]), False)]
        for m in ("auc", "ks", "gini"):
            cells.append((f"{float(block[m + '_mean']):.3f} ± {float(block[m + '_sd']):.3f}", True))
        rows.append(cells)
    return _table([t["model"], "AUC", "KS", "Gini"], rows)


def _features_section(card: CompiledScorecard, metrics: dict[str, Any], lang: str, t: dict[str, str]) -> str:
    labels = card.labels_zh if lang == "zh" else card.labels_en
    rows = []
    for f in card.features:
        trend = t.get(f.monotonic_trend or "none", t["none"])
        rows.append(
            [
                (esc(f.name), False),
                (esc(labels.get(f.name, f.name)), False),
                (esc(t[f.kind]), False),
                (str(len(f.points)), True),
                (f"{f.iv:.3f}", True),
                (esc(trend), False),
            ]
        )
    parts = [_table([t["feature"], t["label"], t["kind"], t["bins"], t["iv"], t["trend"]], rows)]
    all_labels = {
        name: str(info.get(f"label_{lang}", labels.get(name, name))) for name, info in metrics["bins"].items()
    }
    parts.append(
        f"<figure>{iv_chart(metrics, all_labels, t)}<figcaption>{esc(t['iv_chart'])}</figcaption></figure>"
    )
    parts.append(f"<h3>{esc(t['points_title'])}</h3>")
    for f in card.features:
        bin_rows = []
        for label, points, rate in zip(f.labels, f.points, f.event_rates, strict=True):
            bin_rows.append([(esc(label), False), (f"{points:.2f}", True), (_pct(rate), True)])
        bin_rows.append([(esc(t["missing"]), False), (f"{f.missing_points:.2f}", True), ("", True)])
        title = f"{labels.get(f.name, f.name)} ({f.name}) — IV {f.iv:.3f}"
        parts.append(
            f"<details><summary>{esc(title)}</summary>"
            f"{_table([t['bin'], t['points'], t['event_rate']], bin_rows)}</details>"
        )
    return "".join(parts)


def _rule_text(fairness: dict[str, Any], manifest: dict[str, Any], t: dict[str, str]) -> str:
    median = manifest["config"].get("cutoff") is None
    return t["rule_median" if median else "rule_cutoff"].format(
        cutoff=float(fairness["cutoff_pd"]), rate=100 * float(fairness["approval_rate"])
    )


def _fairness_section(manifest: dict[str, Any], metrics: dict[str, Any], t: dict[str, str]) -> str:
    fairness = metrics["fairness"]
    allowed = manifest["config"].get("allow_protected", [])
    protected = manifest.get("protected", [])
    parts = [
        f"<p>{esc(t['protected_text'])}</p>",
        (
            f"<p><b>{esc(t['protected_list'])}:</b> {esc(', '.join(protected) or t['none_listed'])}<br>"
            f"<b>{esc(t['allowed'])}:</b> {esc(', '.join(allowed) or t['none_listed'])}</p>"
        ),
        f"<h2>{esc(t['fairness_title'])}</h2>",
        f"<p class='meta'>{esc(_rule_text(fairness, manifest, t))}</p>",
    ]
    for attribute in fairness["attributes"]:
        rows = [
            [
                (esc(g["group"]), False),
                (str(g["count"]), True),
                (_pct(g["bad_rate"]), True),
                (_pct(g["approval_rate"]), True),
                (_num(g["approval_ratio"], 2) + (" †" if g.get("small") else ""), True),
                (_num(g["auc_scorecard"]), True),
                (_num(g["auc_lightgbm"]), True),
            ]
            for g in attribute["groups"]
        ]
        parts.append(f"<h3>{esc(attribute['attribute'])}</h3>")
        grouping = t.get("grouping_" + str(attribute["grouping"]).split(" ")[0], str(attribute["grouping"]))
        parts.append(f"<p class='meta'>{esc(t['grouping'])}: {esc(grouping)}</p>")
        headers = [
            t["group"],
            t["count"],
            t["bad_rate"],
            t["approval_rate"],
            t["approval_ratio"],
            t["auc_sc"],
            t["auc_lgb"],
        ]
        parts.append(_table(headers, rows))
        if any(g.get("small") for g in attribute["groups"]):
            note = t["small_note"].format(rows=fairness.get("min_group_rows", 30))
            parts.append(f"<p class='meta'>{esc(note)}</p>")
        ratio = attribute.get("min_approval_ratio")
        if ratio is not None:
            ok = bool(attribute.get("four_fifths_ok"))
            text = t["four_fifths"].format(
                ratio=f"{float(ratio):.2f}", verdict=t["meets"] if ok else t["fails"]
            )
            parts.append(f"<p class='{'ok' if ok else 'fail'}'>{esc(text)}</p>")
    return "".join(parts)


def render(
    lang: str, *, manifest: dict[str, Any], metrics: dict[str, Any], scorecard: CompiledScorecard
) -> str:
    """The model card as one HTML document (``lang``: "zh" or "en")."""
    if lang not in TEXT:
        raise ValueError(f"unknown language {lang!r} (zh or en)")
    t = TEXT[lang]
    cfg = manifest["config"]
    dataset = manifest["dataset"]
    version = manifest["version"]
    meta_rows = [
        [(esc(t["source"]), False), (esc(dataset["source"]), False)],
        [(esc(t["sha"]), False), (f"<code>{esc(manifest['data_hash'])}</code>", False)],
        [(esc(t["rows"]), False), (esc(dataset["rows"]), False)],
        [(esc(t["bad_rate"]), False), (_pct(dataset["bad_rate"]), False)],
        [(esc(t["target"]), False), (esc(cfg["target"]), False)],
        [(esc(t["bad_value"]), False), (esc(cfg["bad_value"]), False)],
        [(esc(t["cv"]), False), (esc(t["cv_text"].format(folds=cfg["folds"], seed=cfg["seed"])), False)],
    ]
    model_text = t["model_text"].format(
        pdo=scorecard.pdo,
        base=scorecard.base_score,
        odds=scorecard.base_odds,
        offset=scorecard.offset,
        factor=scorecard.factor,
    )
    calibration_rows = []
    for sc, lg in zip(metrics["calibration"]["scorecard"], metrics["calibration"]["lightgbm"], strict=False):
        calibration_rows.append(
            [
                (str(sc["decile"]), True),
                (str(sc["count"]), True),
                (_pct(sc["mean_pd"]), True),
                (_pct(sc["bad_rate"]), True),
                (_pct(lg["mean_pd"]), True),
                (_pct(lg["bad_rate"]), True),
            ]
        )
    calibration_headers = [
        t["decile"],
        t["count"],
        f"{t['mean_pd']} ({t['scorecard']})",
        f"{t['observed']} ({t['scorecard']})",
        f"{t['mean_pd']} ({t['lightgbm']})",
        f"{t['observed']} ({t['lightgbm']})",
    ]
    limitations = "".join(f"<li>{esc(item)}</li>" for item in t["limitations"].split("|"))
    warnings_html = ""
    if metrics.get("warnings"):
        items = "".join(f"<li>{esc(w)}</li>" for w in metrics["warnings"])
        warnings_html = f"<h2>{esc(t['warnings_title'])}</h2><ul class='warn'>{items}</ul>"
    body = f"""
<main>
<h1>{esc(t["title"])} <code>{esc(version)}</code></h1>
<p class="meta">{esc(t["version"])}: {esc(version)} · {esc(t["created"])}: {esc(manifest["created_at"])} ·
{esc(t["code"])}: {esc(manifest["code_version"])}</p>
<h2>{esc(t["intended_title"])}</h2>
<p>{esc(t["intended"])}</p>
<p>{esc(t["not_for"])}</p>
<h2>{esc(t["data_title"])}</h2>
{_table([t["item"], t["value"]], meta_rows)}
<h2>{esc(t["model_title"])}</h2>
<p>{esc(model_text)}</p>
<h2>{esc(t["metrics_title"])}</h2>
{_metrics_table(metrics, t)}
<figure>{auc_fold_chart(metrics, t)}<figcaption>{esc(t["auc_by_fold"])}</figcaption></figure>
<h2>{esc(t["features_title"])}</h2>
{_features_section(scorecard, metrics, lang, t)}
<h2>{esc(t["calibration_title"])}</h2>
<figure>{calibration_chart(metrics, t)}<figcaption>{esc(t["calibration_axes"])}</figcaption></figure>
{_table(calibration_headers, calibration_rows)}
<h2>{esc(t["distribution_title"])}</h2>
<figure>{distribution_chart(metrics, t)}<figcaption>{esc(t["distribution_axes"])}</figcaption></figure>
<h2>{esc(t["protected_title"])}</h2>
{_fairness_section(manifest, metrics, t)}
<h2>{esc(t["limitations_title"])}</h2>
<ul>{limitations}</ul>
{warnings_html}
</main>"""
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(t['title'])} {esc(version)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>{body}\n</body>\n</html>\n"
    )
