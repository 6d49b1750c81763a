"""The words of the model card, in English and Chinese (``TEXT[lang][key]``)."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Model card: credit scorecard",
        "version": "Version",
        "created": "Created",
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
        "source": "Data set",
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
            "Challenger: LightGBM with monotone constraints where the binning found a monotone bad rate, "
            "tuned inside each training part only (12 configurations, inner 3-fold CV, early stopping)."
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
        "truth_title": "Calibration against the true PD (synthetic data: the truth is known)",
        "truth_text": "The data were generated with a known probability of default per applicant, so the "
        "predicted PD can be compared with the truth itself, not only with observed defaults. Out-of-fold "
        "predictions; mean |PD − true PD|: scorecard {sc_mae}, LightGBM {lg_mae}; mean PD: scorecard "
        "{sc_mean}, LightGBM {lg_mean}, true {true_mean}.",
        "mean_true_pd": "Mean true PD",
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
        "remedies_title": "Fairness remedies (choose one by policy)",
        "remedies_intro": (
            "For every protected attribute that fails the rule, each remedy the promotion policy lists is "
            "measured on the same out-of-fold predictions: the lowest approval ratio it reaches and what "
            "it costs in AUC (pooled out-of-fold AUC; cost = champion AUC − remedy AUC). "
            "Target ratio: {ratio:.2f}."
        ),
        "remedies_none": "No protected attribute fails the rule: no remedy is needed.",
        "remedy": "Remedy",
        "remedy_none": "None (champion as trained)",
        "remedy_reweighing": "Reweighing (Kamiran–Calders, pre-processing)",
        "remedy_group_thresholds": "Per-group PD cutoffs",
        "lowest_ratio": "Lowest approval ratio",
        "auc_pooled": "AUC",
        "auc_cost": "AUC cost",
        "bad_rate_approved": "Bad rate of the approved",
        "cutoffs": "Cutoffs by group",
        "remedies_note": (
            "Reweighing weights each training row by P(group)·P(outcome) / P(group, outcome) so that the bad "
            "rate is equal across groups in training; no reject inference; the attribute is not used when "
            "deciding. Per-group cutoffs use the protected attribute at decision time, which is disparate "
            "treatment in many jurisdictions: a legal decision for the lender, shown here with its price."
        ),
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
        "created": "生成时间",
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
        "source": "数据集",
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
            "挑战者：LightGBM，在分箱显示坏账率单调的特征上施加单调约束，"
            "仅在各训练部分内调参（12 组配置、内层 3 折交叉验证、提前停止）。"
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
        "truth_title": "与真实违约概率对比的校准（合成数据：真实 PD 已知）",
        "truth_text": "数据按已知的每位申请人真实违约概率生成，因此预测 PD 不仅可与实际违约比较，"
        "也可与真实值本身比较。交叉验证样本外预测；平均 |PD − 真实 PD|：评分卡 {sc_mae}，"
        "LightGBM {lg_mae}；平均 PD：评分卡 {sc_mean}，LightGBM {lg_mean}，真实 {true_mean}。",
        "mean_true_pd": "平均真实 PD",
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
        "remedies_title": "公平性补救措施（按政策选择其一）",
        "remedies_intro": (
            "对每个未达标的受保护属性，晋级政策所列的每种补救措施都在同一批交叉验证样本外预测上度量："
            "能达到的最低通过率比，以及 AUC 代价（合并样本外 AUC；代价 = 冠军模型 AUC − 补救后 AUC）。"
            "目标通过率比：{ratio:.2f}。"
        ),
        "remedies_none": "没有受保护属性低于该规则：无需补救。",
        "remedy": "补救措施",
        "remedy_none": "无（按训练结果的冠军模型）",
        "remedy_reweighing": "重新加权（Kamiran–Calders，预处理）",
        "remedy_group_thresholds": "分组 PD 阈值",
        "lowest_ratio": "最低通过率比",
        "auc_pooled": "AUC",
        "auc_cost": "AUC 代价",
        "bad_rate_approved": "通过者坏账率",
        "cutoffs": "各组阈值",
        "remedies_note": (
            "重新加权：每条训练样本的权重为 P(组)·P(结果) / P(组, 结果)，使训练数据中各组坏账率相同；"
            "不做拒绝推断；决策时不使用该属性。分组阈值在决策时使用受保护属性，在许多法域构成差别对待："
            "是否采用属于贷款机构的法律决定，此处仅列明其代价。"
        ),
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


# What a data set's stored codes mean, for the card's reader (zh, en): the data set by its file's stem, the
# target's bad value, category values of the public sets' columns (CreditScoring's Home, Job, Marital).
DATASETS: dict[str, tuple[str, str]] = {
    "credit_scoring": (
        "CreditScoring 公开数据集（西班牙消费贷款）",
        "CreditScoring public data set (Spanish consumer loans)",
    ),
    "germancredit": ("德国信用公开数据集（UCI Statlog）", "German credit public data set (UCI Statlog)"),
    "german_credit": ("德国信用公开数据集（UCI Statlog）", "German credit public data set (UCI Statlog)"),
    "lending_club": ("Lending Club 公开数据集", "Lending Club public data set"),
    "population": ("小贷合成申请人群", "xiaodai's synthetic applicant population"),
}
VALUES: dict[str, tuple[str, str]] = {
    "bad": ("坏（违约）", "bad (default)"),
    "good": ("好", "good"),
    "yes": ("有", "yes"),
    "no": ("无", "no"),
    "owner": ("自有住房", "owns the home"),
    "rent": ("租房", "rents"),
    "parents": ("与父母同住", "lives with parents"),
    "priv": ("私人提供住房", "privately provided"),
    "ignore": ("未说明", "not stated"),
    "other": ("其他", "other"),
    "others": ("其他", "other"),
    "fixed": ("固定工作", "permanent job"),
    "freelance": ("自由职业", "freelance"),
    "partime": ("兼职", "part-time"),
    "married": ("已婚", "married"),
    "single": ("未婚", "single"),
    "divorced": ("离婚", "divorced"),
    "separated": ("分居", "separated"),
    "widow": ("丧偶", "widowed"),
    "(missing)": ("缺失", "missing"),
}
