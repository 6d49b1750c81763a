"""The model card's inline SVG charts (AUC per fold, calibration, score distribution, information
value) and the number formatting they share with its tables. No scripts, no external resources; every
text from data goes through :func:`esc`."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

SCORECARD_COLOUR = "#1f5f99"
LIGHTGBM_COLOUR = "#d9822b"
GOOD_COLOUR = "#3a8f5c"
BAD_COLOUR = "#c0392b"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt_number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "—"
    return f"{float(value):.{digits}f}"


def fmt_percent(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


def svg(width: int, height: int, label: str, body: str) -> str:
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}">'
        f"<title>{esc(label)}</title>{body}</svg>"
    )


def legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> str:
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
    parts.append(legend(left, 14, [(SCORECARD_COLOUR, t["scorecard"]), (LIGHTGBM_COLOUR, t["lightgbm"])]))
    return svg(width, height, t["auc_by_fold"], "".join(parts))


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
    parts.append(legend(left, 14, [(c, name) for _, c, name in series]))
    return svg(width, height, t["calibration_axes"], "".join(parts))


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
    parts.append(legend(left, 14, [(GOOD_COLOUR, t["good"]), (BAD_COLOUR, t["bad"])]))
    return svg(width, height, t["distribution_axes"], "".join(parts))


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
    return svg(width, height, t["iv_chart"], "".join(parts))
