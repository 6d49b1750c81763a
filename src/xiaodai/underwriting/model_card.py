"""Model cards (``card.zh.html``, ``card.en.html``): one self-contained HTML page per language.

No scripts, no CDN, no external fonts or images: inline CSS and inline SVG charts drawn here (AUC per fold,
calibration, score distribution, information value). Every piece of text that comes from data, config or
metrics goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from xiaodai.underwriting.artifact import CompiledScorecard
from xiaodai.underwriting.model_card_charts import (
    auc_fold_chart,
    calibration_chart,
    distribution_chart,
    esc,
    fmt_number,
    fmt_percent,
    iv_chart,
)
from xiaodai.underwriting.model_card_text import DATASETS, TEXT, VALUES

CHINA = ZoneInfo("Asia/Shanghai")
ZONE_NAME = {"zh": "北京时间", "en": "Beijing time"}


def beijing_minute(value: object, lang: str) -> str:
    """An ISO timestamp as the web pages write times (``web.format.when``): Beijing time to the minute with
    the zone named; naive = UTC; anything else as it is."""
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    local = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(CHINA)
    return f"{local:%Y-%m-%d %H:%M} {ZONE_NAME.get(lang, ZONE_NAME['en'])}"


def _value(code: object, lang: str) -> str:
    """A data set's category value (or a group of them, "ignore, other") in words."""
    index = 0 if lang == "zh" else 1
    parts = [p.strip() for p in str(code).split(",")]
    if not all(p in VALUES for p in parts):  # an interval ("[0.5, 1.5)") or a value without words
        return VALUES[str(code)][index] if str(code) in VALUES else str(code)
    return ("、" if lang == "zh" else ", ").join(VALUES[p][index] for p in parts)


def _dataset(source: object, lang: str) -> str:
    stem = PurePosixPath(str(source)).stem.lower()
    for key, names in DATASETS.items():
        if stem == key or stem.startswith(key):
            return names[0 if lang == "zh" else 1]
    return stem.replace("_", " ").replace("-", " ")


def _label(name: str, lang: str, card: CompiledScorecard) -> str:
    """A column by its plain name (the scorecard's labels, then the known data sets' and the catalogue's)."""
    from xiaodai.underwriting.feature_labels import LABELS_EN, LABELS_ZH

    own = card.labels_zh if lang == "zh" else card.labels_en
    known = LABELS_ZH if lang == "zh" else LABELS_EN
    return own.get(name) or known.get(name) or name.replace("_", " ")


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
                (esc(_label(f.name, lang, card)), False),
                (esc(t[f.kind]), False),
                (str(len(f.points)), True),
                (f"{f.iv:.3f}", True),
                (esc(trend), False),
            ]
        )
    parts = [_table([t["feature"], t["kind"], t["bins"], t["iv"], t["trend"]], rows)]
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
            bin_rows.append(
                [(esc(_value(label, lang)), False), (f"{points:.2f}", True), (fmt_percent(rate), True)]
            )
        bin_rows.append([(esc(t["missing"]), False), (f"{f.missing_points:.2f}", True), ("", True)])
        title = f"{_label(f.name, lang, card)} — IV {f.iv:.3f}"
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


def _fairness_section(
    manifest: dict[str, Any],
    metrics: dict[str, Any],
    t: dict[str, str],
    name: Callable[[str], str],
    lang: str,
) -> str:
    fairness = metrics["fairness"]
    allowed = [name(a) for a in manifest["config"].get("allow_protected", [])]
    protected = [name(p) for p in manifest.get("protected", [])]
    sep = "、" if lang == "zh" else ", "
    parts = [
        f"<p>{esc(t['protected_text'])}</p>",
        (
            f"<p><b>{esc(t['protected_list'])}:</b> {esc(sep.join(protected) or t['none_listed'])}<br>"
            f"<b>{esc(t['allowed'])}:</b> {esc(sep.join(allowed) or t['none_listed'])}</p>"
        ),
        f"<h2>{esc(t['fairness_title'])}</h2>",
        f"<p class='meta'>{esc(_rule_text(fairness, manifest, t))}</p>",
    ]
    for attribute in fairness["attributes"]:
        rows = [
            [
                (esc(_value(g["group"], lang)), False),
                (str(g["count"]), True),
                (fmt_percent(g["bad_rate"]), True),
                (fmt_percent(g["approval_rate"]), True),
                (fmt_number(g["approval_ratio"], 2) + (" †" if g.get("small") else ""), True),
                (fmt_number(g["auc_scorecard"]), True),
                (fmt_number(g["auc_lightgbm"]), True),
            ]
            for g in attribute["groups"]
        ]
        parts.append(f"<h3>{esc(name(attribute['attribute']))}</h3>")
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


def _remedies_section(
    metrics: dict[str, Any], t: dict[str, str], name: Callable[[str], str], lang: str
) -> str:
    report = metrics.get("fairness_remedies")
    if not report:
        return ""
    parts = [f"<h2>{esc(t['remedies_title'])}</h2>"]
    if not report["attributes"]:
        return "".join([*parts, f"<p class='ok'>{esc(t['remedies_none'])}</p>"])
    target = float(report["min_approval_ratio"])
    parts.append(f"<p>{esc(t['remedies_intro'].format(ratio=target))}</p>")
    headers = [t["remedy"], t["lowest_ratio"], t["auc_pooled"], t["auc_cost"], t["approval_rate"]]
    headers += [t["bad_rate_approved"], t["cutoffs"]]
    for attribute in report["attributes"]:
        entries = [(t["remedy_none"], attribute["before"], None, None)]
        entries += [
            (t.get("remedy_" + r["remedy"], r["remedy"]), r["after"], r["auc_cost"], r.get("cutoffs"))
            for r in attribute["remedies"]
        ]
        rows = []
        for label, outcome, cost, cutoffs in entries:
            ratio = outcome["min_approval_ratio"]
            verdict = "" if ratio is None else ("ok" if ratio >= target else "fail")
            ratio_html = f"<span class='{verdict}'>{fmt_number(ratio, 2)}</span>"
            shown = (
                "" if not cutoffs else "; ".join(f"{_value(g, lang)}: {c:.4f}" for g, c in cutoffs.items())
            )
            rows.append(
                [
                    (esc(label), False),
                    (ratio_html, True),
                    (fmt_number(outcome["auc"]), True),
                    ("" if cost is None else f"{float(cost):+.3f}", True),
                    (fmt_percent(outcome["approval_rate"]), True),
                    (fmt_percent(outcome["bad_rate_approved"]), True),
                    (esc(shown), False),
                ]
            )
        parts.append(f"<h3>{esc(name(attribute['attribute']))}</h3>")
        parts.append(_table(headers, rows))
    parts.append(f"<p class='meta'>{esc(t['remedies_note'])}</p>")
    return "".join(parts)


def _truth_section(metrics: dict[str, Any], t: dict[str, str]) -> str:
    """Calibration against the known true PD, when the training data carried it (``--true-pd``)."""
    truth = metrics.get("calibration_truth")
    if not truth:
        return ""
    sc, lg = truth["scorecard"], truth["lightgbm"]
    text = t["truth_text"].format(
        sc_mae=fmt_percent(sc["mean_abs_error"]),
        lg_mae=fmt_percent(lg["mean_abs_error"]),
        sc_mean=fmt_percent(sc["mean_pd"]),
        lg_mean=fmt_percent(lg["mean_pd"]),
        true_mean=fmt_percent(sc["mean_true_pd"]),
    )
    rows = [
        [
            (str(s_row["decile"]), True),
            (str(s_row["count"]), True),
            (fmt_percent(s_row["mean_pd"]), True),
            (fmt_percent(s_row["mean_true_pd"]), True),
            (fmt_percent(s_row["bad_rate"]), True),
            (fmt_percent(l_row["mean_pd"]), True),
            (fmt_percent(l_row["mean_true_pd"]), True),
        ]
        for s_row, l_row in zip(sc["deciles"], lg["deciles"], strict=False)
    ]
    headers = [
        t["decile"],
        t["count"],
        f"{t['mean_pd']} ({t['scorecard']})",
        f"{t['mean_true_pd']} ({t['scorecard']})",
        f"{t['observed']} ({t['scorecard']})",
        f"{t['mean_pd']} ({t['lightgbm']})",
        f"{t['mean_true_pd']} ({t['lightgbm']})",
    ]
    return f"<h2 id='truth'>{esc(t['truth_title'])}</h2><p>{esc(text)}</p>{_table(headers, rows)}"


CARD_NEEDS = ("created_at", "dataset", "config", "data_hash", "code_version")


def has_card(manifest: dict[str, Any], metrics: dict[str, Any]) -> bool:
    """Whether a model was trained with what its card shows (not an artifact made by hand, as in tests)."""
    return all(k in manifest for k in CARD_NEEDS) and all(
        k in metrics for k in ("models", "calibration", "bins", "fairness")
    )


def render(
    lang: str,
    *,
    manifest: dict[str, Any],
    metrics: dict[str, Any],
    scorecard: CompiledScorecard,
    when: Callable[[object], str] | None = None,
) -> str:
    """The model card as one HTML document (``lang``: "zh" or "en"). Data set codes are written in words
    (columns by their plain names, category values, the data set); ``when`` formats the creation time
    (default: Beijing time to the minute, as the web pages)."""
    if lang not in TEXT:
        raise ValueError(f"unknown language {lang!r} (zh or en)")
    t = TEXT[lang]

    def name(column: str) -> str:
        return _label(column, lang, scorecard)

    created = (when or (lambda v: beijing_minute(v, lang)))(manifest["created_at"])
    cfg = manifest["config"]
    dataset = manifest["dataset"]
    version = manifest["version"]
    meta_rows = [
        [(esc(t["source"]), False), (esc(_dataset(dataset["source"], lang)), False)],
        [(esc(t["sha"]), False), (f"<code>{esc(manifest['data_hash'])}</code>", False)],
        [(esc(t["rows"]), False), (esc(dataset["rows"]), False)],
        [(esc(t["bad_rate"]), False), (fmt_percent(dataset["bad_rate"]), False)],
        [(esc(t["target"]), False), (esc(name(str(cfg["target"]))), False)],
        [(esc(t["bad_value"]), False), (esc(_value(cfg["bad_value"], lang)), False)],
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
                (fmt_percent(sc["mean_pd"]), True),
                (fmt_percent(sc["bad_rate"]), True),
                (fmt_percent(lg["mean_pd"]), True),
                (fmt_percent(lg["bad_rate"]), True),
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
<p class="meta">{esc(t["version"])}: {esc(version)} · {esc(t["created"])}: {esc(created)} ·
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
{_truth_section(metrics, t)}
<h2>{esc(t["distribution_title"])}</h2>
<figure>{distribution_chart(metrics, t)}<figcaption>{esc(t["distribution_axes"])}</figcaption></figure>
<h2>{esc(t["protected_title"])}</h2>
{_fairness_section(manifest, metrics, t, name, lang)}
{_remedies_section(metrics, t, name, lang)}
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
