"""Credit lines (授信 → 额度 → 借据): a limit granted by a decision, drawn on as loans.

Pure core: ``limit`` (states, limit changes, available limit), ``drawdown`` (draw checks),
``daily_interest`` (the 随借随还 daily plan), ``review_policy`` (periodic review as data).
Shell: ``service`` (the door) over ``store``, ``events``, ``granting``, ``drawing``, ``views``,
``reviews`` and ``commitments``.
"""
