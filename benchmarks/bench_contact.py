"""Contact-policy engine throughput for a nightly campaign (issue 6): evaluate N attempts in-process.

    .venv/bin/python benchmarks/bench_contact.py [--attempts 1000000] [--messages 0.3]

Attempts are generated with a seeded RNG: CN and US profiles, times across the day, 0–10 prior contacts per
debtor in the last week (calls with mixed outcomes), some holds and opt-outs, and a share of SMS with a
message to screen. Generation happens before the timing; only `evaluate` is timed. Goal ≥ 50,000/s.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from xiaodai.collections.contact_facts import Dispute, Flags, OptOut, Phone
from xiaodai.collections.contact_policy import Attempt, Context, PriorContact, Profile, evaluate, load_profile

MESSAGES = [
    "【某某借款】您尾号1234的借款已逾期12天，请尽快还款。如有困难可申请协商。",
    "【某某借款】温馨提示：您本期账单1,234.56元将于3月15日到期。",
    "再不还我们就打电话到你公司，让你领导同事都知道。",
    "ABC Lending Services, a debt collector: please pay at abc.example/pay. Reply STOP to opt out.",
]


def build(
    n: int, message_share: float, seed: int = 7, *, personalised: bool = False
) -> list[tuple[Profile, Context, list[PriorContact], Attempt, datetime]]:
    rng = random.Random(seed)
    profiles = {"CN": load_profile("CN"), "US_RegF": load_profile("US_RegF")}
    zones = {"CN": ZoneInfo("Asia/Shanghai"), "US_RegF": ZoneInfo("America/Chicago")}
    contexts = {}
    for name, zone in zones.items():
        for kind, flags in (
            (0, Flags(consumer_location_known=True)),
            ("dispute", Flags(consumer_location_known=True, dispute=Dispute("written"))),
            (
                "opted_out",
                Flags(
                    consumer_location_known=True,
                    opted_out=(OptOut("call", "*", at=datetime(2026, 3, 1, 10, tzinfo=zones["CN"])),),
                ),
            ),
        ):
            contexts[(name, kind)] = Context(
                timezone=zone.key,
                phones=(Phone("M1", "mobile"),),
                flags=flags,
                collector_role="third_party_debt_collector" if name == "US_RegF" else None,
                first_communication_done=True,
            )
    keys = list(contexts)
    weights = [90 if k[1] == 0 else 5 for k in keys]
    out = []
    base = datetime(2026, 3, 10)
    for _ in range(n):
        key = rng.choices(keys, weights)[0]
        name = key[0]
        zone = zones[name]
        at = base.replace(tzinfo=zone) + timedelta(minutes=rng.randrange(0, 24 * 60))
        history = [
            PriorContact(
                at - timedelta(minutes=rng.randrange(10, 7 * 24 * 60)),
                "borrower",
                "call",
                "M1",
                None,
                "agent",
                rng.choice(
                    [
                        "no_answer",
                        "no_answer",
                        "connected_conversation",
                        "voicemail_limited_content",
                        "busy_signal",
                    ]
                ),
            )
            for _ in range(rng.randrange(0, 11))
        ]
        if rng.random() < message_share:
            text = rng.choice(MESSAGES)
            if personalised:  # a different amount in every message: no two texts alike
                text = text.replace("1,234.56", f"{rng.randrange(100, 30000)}.{rng.randrange(100):02d}")
                text = text.replace("12天", f"{rng.randrange(1, 90)}天")
            attempt = Attempt("contact", "sms", phone_id="M1", message=text)
        else:
            attempt = Attempt("contact", "call", phone_id="M1")
        out.append((profiles[name], contexts[key], history, attempt, at))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--messages", type=float, default=0.3, help="share of attempts carrying a message")
    parser.add_argument("--personalised", action="store_true", help="every message text differs (no reuse)")
    args = parser.parse_args()
    started = time.perf_counter()
    work = build(args.attempts, args.messages, personalised=args.personalised)
    built = time.perf_counter() - started
    reasons: Counter[str] = Counter()
    started = time.perf_counter()
    for profile, context, history, attempt, at in work:
        reasons[evaluate(profile, context, history, attempt, at).reason] += 1
    elapsed = time.perf_counter() - started
    rate = args.attempts / elapsed
    kind = "personalised" if args.personalised else "templated"
    print(f"generated {args.attempts:,} attempts ({args.messages:.0%} SMS, {kind} texts) in {built:.1f} s")
    print(
        f"evaluated {args.attempts:,} attempts in {elapsed:.2f} s = {rate:,.0f} evaluations/s "
        f"(goal ≥ 50,000/s: {'MET' if rate >= 50_000 else 'MISSED'})"
    )
    for reason, count in reasons.most_common(8):
        print(f"  {reason:<32} {count:>9,}")


if __name__ == "__main__":
    main()
