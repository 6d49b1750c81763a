"""Features with declared sources.

Pure: catalogue (the versioned list of every feature: label, unit, type, source, consent), model_inputs
(catalogue values → a model's input columns), providers/bureau and providers/ecosystem (report shapes and
deterministic sandboxes). Shell: platform (values from xiaodai's own records), assemble (the feature vector of
one application, each value with its source; the once-per-application credit-report pull).
"""
