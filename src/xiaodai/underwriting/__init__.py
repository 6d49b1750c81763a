"""Credit decisioning.

Pure: artifact, scorer, policy, reasons, decision. Shell: training, service (registry, decision records).
Training steps (``training`` runs them): training_config, table_file, data_preparation,
scorecard_fitting, lightgbm_challenger, evaluation, fairness, feature_labels.
"""
