"""Complaints on a clock (pure core).

``xiaodai.complaints.sla`` evaluates a complaint's handling time against versioned regulatory profiles
(``data/sla_profiles.json``: CN 《银行业保险业消费投诉处理管理办法》, PBOC-forwarded, CFPB company portal)
and the house's internal targets, returning an ``SlaVerdict`` with stable reason codes (RULES.md §3).
"""
