from datetime import date

from xiaodai.collections.strategy import LoanFacts, default_strategy, plan

STRATEGY = default_strategy()


def facts(bucket: str, dpd: int, due: date | None = date(2026, 3, 13)) -> LoanFacts:
    return LoanFacts(1, bucket, dpd, due, "902.58", "1805.16")


def test_reminders_before_and_on_the_due_day() -> None:
    assert [p.step for p in plan(facts("M0", 0), date(2026, 3, 10), strategy=STRATEGY)] == ["T-3"]
    assert [p.step for p in plan(facts("M0", 0), date(2026, 3, 12), strategy=STRATEGY)] == ["T-1"]
    today = plan(facts("M0", 0), date(2026, 3, 13), strategy=STRATEGY)
    assert [p.step for p in today] == ["T0"]
    assert "902.58" in (today[0].message or "")
    assert plan(facts("M0", 0), date(2026, 3, 11), strategy=STRATEGY) == []


def test_bucket_steps_repeat_and_escalate() -> None:
    assert [p.step for p in plan(facts("M1", 1), date(2026, 3, 14), strategy=STRATEGY)] == [
        "M1-sms",
        "M1-call",
    ]
    assert plan(facts("M1", 2), date(2026, 3, 15), strategy=STRATEGY) == []
    m3 = plan(facts("M3", 61), date(2026, 5, 13), strategy=STRATEGY)
    assert [p.action for p in m3] == ["refer_to_agency"]
    english = plan(facts("M1", 4), date(2026, 3, 17), strategy=STRATEGY, lang="en")
    assert "4 days overdue" in (english[0].message or "")
