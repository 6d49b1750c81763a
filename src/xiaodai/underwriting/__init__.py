"""Credit decisioning.

Pure: artifact, scorer, policy, reasons, decision. Shell: training, service (registry, decision records).
"""
