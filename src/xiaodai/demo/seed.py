"""``xiaodai demo seed``: the demo world, once, on whatever database XIAODAI_DATABASE_URL names.

Seeds: the demo model (a scorecard trained on the synthetic population of catalogue features, registered
and active), staff and borrowers with printed credentials and (encrypted) personal data, then ten months of a
small lending business lived through the real services (``demo.world``): every loan applied for, decided,
offered, signed on its disclosure snapshot and disbursed by the journey; paid, prepaid, rescheduled or
written off by servicing; closed day by day by end of day, which opens the collection cases. A second run
finds the world and changes nothing.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from xiaodai.accounts import service as accounts
from xiaodai.db.session import session_factory
from xiaodai.db.tables import ApplicationRow, LoanRow, ModelRow, PersonalDataRow, UserRow
from xiaodai.demo.cast import LAST_STORY, background, customers_for, stories
from xiaodai.demo.line_story import line_application, line_story
from xiaodai.demo.staff_work import HOOKS
from xiaodai.demo.world import Book, live
from xiaodai.features.assemble import subject_reference
from xiaodai.servicing.eod import last_completed_day, run_eod

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


def _people(session: Session, customers: int) -> int:
    """The demo borrower and a few more borrowers with (encrypted) personal data and consents."""
    from xiaodai.privacy import service as privacy

    rng = random.Random(8)
    made = 0
    emails = ["borrower@xiaodai.demo"] + [f"borrower{n:02d}@xiaodai.demo" for n in range(1, DEMO_PEOPLE)]
    emails += [f"customer{n:02d}@xiaodai.demo" for n in range(customers)]
    for n, email in enumerate(emails):
        person = synthetic_person(rng, n)  # the same person on the account and in the personal data
        user = session.execute(select(UserRow).where(UserRow.email == email)).scalar_one_or_none()
        if user is None:
            user = accounts.sign_up(session, email=email, name=str(person["name"]), password=DEMO_PASSWORD)
        person["name"] = user.name  # the demo borrower's account (made with the staff) keeps its name
        if session.get(PersonalDataRow, user.id) is None:
            privacy.save_profile(session, user=user, fields=person, sensitive_consent=True)
            privacy.grant_consent(session, user=user, kind="agency_sharing")
            made += 1
    return made


DEMO_POPULATION = 20_000  # applicants the demo model learns from
DEMO_FOLDS = 2


def train_demo_model(workdir: Path) -> Path:
    """Train the demo's scorecard on the synthetic population (``simulate.demo_model``): its inputs are
    catalogue features, its card compares the predicted PD with the population's known true PD; the
    artifact's folder."""
    from xiaodai.simulate.demo_model import train_on_population

    # tune=False and 2 folds keep the seed under 60 s: the scorecard is the demo's champion either way, and
    # the challenger's inner-CV search (`xiaodai model train` runs it by default) costs ~35 s of CPU here.
    result = train_on_population(workdir, n=DEMO_POPULATION, seed=42, folds=DEMO_FOLDS, tune=False)
    return Path(result.out)


def _model(session: Session, workdir: Path, progress: Progress | None) -> str | None:
    active = session.execute(select(ModelRow.version).where(ModelRow.active.is_(True))).scalar_one_or_none()
    if active is not None:
        return str(active)
    from xiaodai.underwriting import service as underwriting

    if progress:
        progress("model", 0, 1)
    row = underwriting.register_model(session, artifact=train_demo_model(workdir), activate=True)
    if progress:
        progress("model", 1, 1)
    return row.version


def story_loans(session: Session) -> dict[str, int | None]:
    """The scripted stories' loans by story key (``demo.cast.stories``; None: declined, referred or not
    signed) — for tests and tours that want "the overdue fee loan" without knowing its id."""
    rows = session.execute(
        select(ApplicationRow.idempotency_key, ApplicationRow.loan_id).where(
            ApplicationRow.idempotency_key.like("%:demo:%")
        )
    ).all()
    keys = {key.split(":demo:", 1)[1]: loan_id for key, loan_id in rows}
    return {key: loan_id for key, loan_id in keys.items() if not key.startswith("bg-")}


class SeedError(RuntimeError):
    """The database holds part of a demo world (an interrupted seed): it cannot be finished or redone."""


def _has_application(session: Session, pattern: str) -> bool:
    found = session.execute(select(ApplicationRow.id).where(ApplicationRow.idempotency_key.like(pattern)))
    return found.first() is not None


def _world_exists(session: Session) -> bool:
    """Whether the world was built: the last story (an offer made the day before ``today``) is there. Part
    of a world without it is an interrupted seed (``SeedError``)."""
    if _has_application(session, f"%:demo:{LAST_STORY}"):
        return True
    if _has_application(session, "%:demo:%"):
        raise SeedError(
            "a previous demo seed stopped half way through building the world: seed an empty database "
            "(e.g. delete var/xiaodai.db and run `xiaodai db upgrade` again)"
        )
    return False


def seed(
    engine: Engine, *, today: date, workdir: Path, loans: int = 120, progress: Progress | None = None
) -> SeedReport:
    """Build the demo world once, through ``today``; ``loans`` background loans besides the scripted stories.
    A second run finds the world: on the same date it changes nothing, on a later one it runs end of day for
    the days since."""
    factory = session_factory(engine)
    with factory() as session:
        built = _world_exists(session)  # an interrupted seed is refused before anything is written
    with factory() as session, session.begin():
        credentials = _users(session)
        _people(session, customers_for(loans))
    with factory() as session, session.begin():
        version = _model(session, workdir, progress)
        users = {email: uid for uid, email in session.execute(select(UserRow.id, UserRow.email)).all()}
    created = 0
    if not built:
        book = Book(today=today, users=users)
        cast = [*stories(today), line_application(today)]
        files: dict[int, dict[str, object]] = {}
        for story in cast:  # a person's staged file: clean, or the fields their story names
            files.setdefault(users[story.email], {}).update(dict(story.bureau))
        with factory() as session:
            staged = {subject_reference(session, user_id=uid): f for uid, f in sorted(files.items())}
        with _staged_bureau_files(workdir, staged):
            hooks = [*HOOKS, line_story]  # the demo borrower's credit line, card and reminders
            live(engine, cast + background(today, loans), book, day_hooks=hooks, progress=progress)
        created = len(book.loans)
    else:  # the world exists: a later business date only closes the days since (real end of day)
        last = last_completed_day(engine)
        if last is not None and last < today:
            run_eod(engine, today)
    with factory() as session:
        total = session.execute(select(func.count()).select_from(LoanRow)).scalar_one()
    return SeedReport(credentials, version, created, total)


@contextmanager
def _staged_bureau_files(workdir: Path, staged: dict[str, dict[str, object]]) -> Iterator[None]:
    """The scripted people's credit-report files (staged through the file provider, as a lender stages a test
    history): clean, or the troubled file their story names (``Story.bureau``). Their stories need the
    grades they were written for, and the sandbox's report depends on the installation's blind-index key.
    Background customers keep the sandbox's reports."""
    workdir.mkdir(parents=True, exist_ok=True)  # training the model made it; an active model skips that
    path = workdir / "demo-bureau.json"
    path.write_text(json.dumps(staged), encoding="utf-8")
    before = os.environ.get("XIAODAI_BUREAU_FILE")
    os.environ["XIAODAI_BUREAU_FILE"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("XIAODAI_BUREAU_FILE", None)
        else:
            os.environ["XIAODAI_BUREAU_FILE"] = before
