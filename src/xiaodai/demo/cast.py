"""Who borrows what in the demo, and how they pay (pure: dates relative to the business date ``today``).

The scripted stories give every state a person can point at — current, repaid early, overdue in each bucket,
in a hardship plan, written off with approval (and one waiting for it), in cooling-off — and the applicants
who were declined or referred. Background loans (seeded random) make the portfolio a business.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from xiaodai.money.dates import add_months

DEMO_BORROWER = "borrower@xiaodai.demo"
LAST_STORY = "offer-open"  # applied for the day before today: once it exists, the world was built


@dataclass(frozen=True, slots=True)
class Story:
    key: str  # stable: part of every idempotency key of the story
    email: str
    start_on: date  # application, signature and disbursement
    amount: Decimal
    term: int
    product: str = "standard"
    grades: tuple[str, ...] = ("A", "B")  # the risk grades the applicant's profile is taken from
    pays: int | None = None  # instalments paid (None: every one due by today)
    late_days: int = 0  # each payment this many days after its due date
    partial: bool = False  # pays half of each instalment
    prepay_on: date | None = None  # repaid in full early on this day
    hardship_on: date | None = None  # hardship plan agreed (and the arrears paid) on this day
    write_off: str | None = None  # approved | pending
    decline: str | None = None  # a knock-out the applicant trips (declined, no loan)
    sign: bool = True  # False: approved or referred, the offer not signed
    tags: tuple[str, ...] = field(default_factory=tuple)
    bureau: tuple[tuple[str, object], ...] = ()  # the person's staged credit-report fields (default: clean)


# Credit files staged for the people the model must find risky (no knock-out: nothing overdue now, no run
# of three months): many recent inquiries, cards near their limits, a few late months in the last two years.
TROUBLED_FILE: tuple[tuple[str, object], ...] = (
    ("card_accounts", 4),
    ("card_accounts_open", 4),
    ("card_limit_total", "40000"),
    ("card_used_total", "38800"),
    ("inquiries_1m", 3),
    ("inquiries_3m", 6),
    ("inquiries_6m", 9),
    ("inquiries_12m", 14),
    ("overdue_months_12m", 2),
    ("overdue_months_24m", 5),
    ("max_overdue_months", 2),
)
STRAINED_FILE: tuple[tuple[str, object], ...] = (
    ("card_accounts", 3),
    ("card_accounts_open", 3),
    ("card_limit_total", "30000"),
    ("card_used_total", "25500"),
    ("inquiries_1m", 1),
    ("inquiries_3m", 3),
    ("inquiries_6m", 5),
    ("inquiries_12m", 7),
    ("overdue_months_12m", 1),
    ("overdue_months_24m", 2),
    ("max_overdue_months", 1),
)


def overdue_start(today: date, *, dpd: int, paid: int) -> date:
    """The start date of a monthly loan that paid ``paid`` instalments and is ``dpd`` days past due today."""
    return add_months(today - timedelta(days=dpd), -(paid + 1))


def stories(today: date) -> list[Story]:
    t = today
    d = Decimal
    b = [f"borrower{n:02d}@xiaodai.demo" for n in range(20)]
    return [
        # the demo borrower: a fee product paid on time, one repaid early, one late, one just signed
        Story(
            "demo-current",
            DEMO_BORROWER,
            t - timedelta(days=75),
            d(12000),
            12,
            "everyday",
            grades=("A",),
            tags=("current", "fees"),
        ),
        Story(
            "demo-repaid",
            DEMO_BORROWER,
            t - timedelta(days=210),
            d(6000),
            6,
            pays=3,
            prepay_on=t - timedelta(days=110),
            tags=("repaid_early",),
        ),
        Story(
            "demo-late",
            DEMO_BORROWER,
            overdue_start(t, dpd=3, paid=2),
            d(5000),
            12,
            grades=("B", "A"),
            pays=2,
            tags=("M1",),
        ),
        # applied before the late instalment fell due: today the platform would decline a new application
        Story("demo-new", DEMO_BORROWER, t - timedelta(days=4), d(3000), 6, tags=("cooling_off",)),
        # the book
        Story("current", b[1], t - timedelta(days=130), d(20000), 24, tags=("current",)),
        Story(
            "current-fees",
            b[2],
            t - timedelta(days=160),
            d(15000),
            12,
            "everyday",
            grades=("B", "A"),
            late_days=6,
            tags=("current", "fees"),
        ),
        Story("settled", b[3], add_months(t, -5) - timedelta(days=9), d(3000), 3, tags=("settled",)),
        Story(
            "repaid-fees",
            b[4],
            t - timedelta(days=240),
            d(10000),
            12,
            "everyday",
            grades=("C", "B"),
            pays=4,
            prepay_on=t - timedelta(days=95),
            tags=("repaid_early", "fees"),
        ),
        Story(
            "m1", b[5], overdue_start(t, dpd=18, paid=3), d(8000), 12, grades=("C", "B"), pays=3, tags=("M1",)
        ),
        Story(
            "m2",
            b[6],
            overdue_start(t, dpd=44, paid=2),
            d(9000),
            12,
            grades=("C", "B"),
            pays=2,
            tags=("M2",),
        ),
        Story(
            "m3", b[7], overdue_start(t, dpd=75, paid=1), d(7000), 12, grades=("D", "C"), pays=1, tags=("M3",)
        ),
        Story(
            "m4",
            b[8],
            overdue_start(t, dpd=130, paid=1),
            d(6000),
            12,
            grades=("D", "C"),
            pays=1,
            tags=("M4+",),
        ),
        Story(
            "hardship",
            b[9],
            t - timedelta(days=150),
            d(12000),
            12,
            grades=("B", "A"),
            pays=2,
            hardship_on=t - timedelta(days=40),
            tags=("hardship",),
        ),
        Story(
            "written-off",
            b[10],
            overdue_start(t, dpd=230, paid=1),
            d(5000),
            6,
            grades=("D", "C"),
            pays=1,
            write_off="approved",
            tags=("written_off",),
        ),
        Story(
            "write-off-asked",
            b[11],
            overdue_start(t, dpd=195, paid=1),
            d(4000),
            6,
            grades=("D", "C"),
            pays=1,
            write_off="pending",
            tags=("write_off_pending",),
        ),
        Story(
            "m2-fees",
            b[12],
            overdue_start(t, dpd=50, paid=2),
            d(10000),
            12,
            "everyday",
            grades=("B", "A"),
            pays=2,
            tags=("M2", "fees"),
        ),
        Story(  # the M2 borrower applies again: the platform knows that loan is 24 days late that day
            "declined-overdue",
            b[6],
            t - timedelta(days=20),
            d(8000),
            12,
            decline="existing_overdue",
            tags=("declined",),
        ),
        Story(
            "declined-risk",
            b[14],
            t - timedelta(days=9),
            d(15000),
            12,
            grades=("F",),
            tags=("declined",),
            bureau=TROUBLED_FILE,
        ),
        Story(
            "referred",
            b[15],
            t - timedelta(days=3),
            d(5000),
            12,
            grades=("E",),
            sign=False,
            tags=("referred",),
            bureau=STRAINED_FILE,
        ),
        Story(
            "referred-2",
            b[16],
            t - timedelta(days=1),
            d(4000),
            6,
            grades=("E",),
            sign=False,
            tags=("referred",),
            bureau=STRAINED_FILE,
        ),
        Story(LAST_STORY, b[17], t - timedelta(days=1), d(9000), 12, sign=False, tags=("approved",)),
        Story(
            "current-2",
            b[18],
            t - timedelta(days=45),
            d(4000),
            6,
            "everyday",
            grades=("A",),
            tags=("current",),
        ),
        Story(
            "m1-late",
            b[19],
            overdue_start(t, dpd=5, paid=4),
            d(6000),
            12,
            grades=("C",),
            pays=4,
            late_days=3,
            tags=("M1",),
        ),
    ]


LOANS_PER_CUSTOMER = 5  # over ten months: a few in a row, at most one or two at a time
MAX_CUSTOMERS = 30


def customers_for(count: int) -> int:
    """How many background customers ``count`` background loans are spread over."""
    return min(MAX_CUSTOMERS, max(1, -(-count // LOANS_PER_CUSTOMER)))


def background(today: date, count: int, *, seed: int = 20261129) -> list[Story]:
    """``count`` more loans over the past ten months, to customers ``customerNN@xiaodai.demo``."""
    rng = random.Random(seed)
    customers = customers_for(count)
    out = []
    for n in range(count):
        start = today - timedelta(days=rng.randint(3, 300))
        term = rng.choice([3, 6, 6, 12, 12, 12, 24])
        product = "everyday" if term >= 6 and rng.random() < 0.35 else "standard"
        behaviour = rng.random()
        pays: int | None = None
        late = 0
        partial = False
        prepay = None
        grades = rng.choice([("A",), ("B",), ("C", "B"), ("D", "C")])
        if behaviour < 0.10:
            late = rng.randint(3, 25)
        elif behaviour < 0.20:
            pays = rng.randint(0, 3)
        elif behaviour < 0.24:
            partial = True
        elif behaviour < 0.32:
            prepay = start + timedelta(days=rng.randint(20, 200))
            prepay = prepay if prepay < today else None
        out.append(
            Story(
                f"bg-{n:04d}",
                f"customer{n % customers:02d}@xiaodai.demo",
                start,
                Decimal(rng.randrange(1000, 30001, 500)),
                term,
                product if grades[0] in ("A", "B", "C") else "standard",
                grades,
                pays=pays,
                late_days=late,
                partial=partial,
                prepay_on=prepay,
                tags=("background",),
            )
        )
    return out
