"""The feature vector of one application (shell): what the applicant states, what xiaodai knows, what the
credit bureau reports — each value with the source that supplied it.

The bureau report is pulled at most once per application, only under the applicant's active credit_check
consent, stored encrypted (``privacy.crypto``, bound to ``bureau_pulls:<application_id>:report``) and
audited; deciding the same application again reads the stored report. A report erased past its retention
floor (``privacy.retention``) is not pulled again: deciding the application anew is refused with
``BUREAU_REPORT_ERASED`` (a stored decision still replays from its recorded inputs).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Integer, String, bindparam, exists, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from xiaodai.audit.trail import record
from xiaodai.db.inserts import insert_id, queue_insert
from xiaodai.db.tables import BureauPullRow, ConsentRow, PersonalDataRow, UserRow
from xiaodai.features.catalogue import Catalogue, FeatureInputError, default_catalogue, validate_application
from xiaodai.features.platform import platform_columns, platform_params, platform_values
from xiaodai.features.providers.bureau import BureauProvider, CreditReport, FileBureau, SandboxBureau
from xiaodai.features.providers.ecosystem import SandboxEcosystem
from xiaodai.privacy.crypto import aad, decrypt, encrypt
from xiaodai.privacy.keys import current_ring
from xiaodai.privacy.validation import age_on, birth_date_from_id


class ConsentMissingError(FeatureInputError):
    """A source that needs a consent the applicant has not given (or has withdrawn)."""


class ReportErasedError(FeatureInputError):
    """The application's credit report was erased past its retention floor (PIPL Art. 47): it is not read,
    and not pulled again for an application already decided."""

    code = "BUREAU_REPORT_ERASED"

    def __init__(self, application_id: str, erased_at: datetime | None) -> None:
        on = erased_at.date().isoformat() if erased_at else "?"
        super().__init__(
            f"the credit report of application {application_id} was erased on {on} past its retention "
            f"floor; it cannot be decided again ({self.code})"
        )
        self.application_id = application_id
        self.erased_at = erased_at


@dataclass(frozen=True, slots=True)
class Assembled:
    values: dict[str, Any]
    sources: dict[str, str]
    catalogue_version: str
    bureau_pull_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "catalogue_version": self.catalogue_version,
            "bureau_pull_id": self.bureau_pull_id,
            "features": {
                name: {"value": self.values[name], "source": self.sources[name]}
                for name in sorted(self.values)
            },
        }


@dataclass(frozen=True, slots=True)
class ApplicantContext:
    """What the database says about an applicant for one application, read in one statement
    (``context_columns``): the platform vector, the active consents, an earlier pull for the application,
    the identity the bureau is asked about and the encrypted ID number."""

    user_exists: bool
    platform: dict[str, Any]
    consents: dict[str, int]  # kind → id of the latest unwithdrawn consent
    pull_id: int | None  # this application's credit-report pull, when it was pulled already
    subject_ref: str
    id_number_enc: str | None
    # the id a new pull takes, allocated with the read (PostgreSQL's sequence): the pull row is then queued
    # and written with the decision, in one statement (``db.inserts.queue_insert``); None: inserted at once
    next_pull_id: int | None = None


CONSENT_KINDS = ("credit_check", "ecosystem_data")


@lru_cache(maxsize=4)
def context_columns(dialect: str) -> tuple[Any, ...]:
    """Labelled scalar subqueries for ``ApplicantContext`` with bound parameters (``context_params``), built
    once per dialect; a caller may add its own columns to the statement."""
    user_id = bindparam("p_user", type_=Integer)

    def consent(kind: str) -> Any:
        return (
            select(func.max(ConsentRow.id))
            .where(ConsentRow.user_id == user_id, ConsentRow.kind == kind, ConsentRow.withdrawn_at.is_(None))
            .scalar_subquery()
            .label(f"c_consent_{kind}")
        )

    def person(column: Any, label: str) -> Any:
        return select(column).where(PersonalDataRow.user_id == user_id).scalar_subquery().label(label)

    return (
        exists().where(UserRow.id == user_id).label("c_user"),
        *(consent(kind) for kind in CONSENT_KINDS),
        select(BureauPullRow.id)
        .where(BureauPullRow.application_id == bindparam("p_application", type_=String))
        .scalar_subquery()
        .label("c_pull"),
        person(PersonalDataRow.id_number_bidx, "c_bidx"),
        person(PersonalDataRow.id_number_enc, "c_id_enc"),
        *platform_columns(dialect),
    )


def context_params(user_id: int, as_of: date, application_id: str) -> dict[str, Any]:
    return platform_params(user_id, as_of, application_id)


# PostgreSQL: the same read as a server-side function, ``applicant_context(...)`` (migration 0044), whose body
# is ``context_columns``' SQL. Sent as a statement, those ~20 subqueries were parsed and planned again on
# every call (~2 ms of the server's time per decision on the 2026-12-06 machine; psycopg's prepared
# statements do not help: any ROLLBACK on the connection, a read-only request's end, makes psycopg forget
# them); a PL/pgSQL function keeps its plan for the life of the server session.
CONTEXT_FUNCTION_ARGUMENTS: tuple[tuple[str, Any, str], ...] = (
    ("p_user", Integer, "integer"),
    ("p_as_of", Date, "date"),
    ("p_year_ago", Date, "date"),
    ("p_since_30d", DateTime(timezone=True), "timestamptz"),
    ("p_since_year", DateTime(timezone=True), "timestamptz"),
    ("p_application", String, "varchar"),
)


def context_function_sql() -> str:
    """The body of migration 0044's ``applicant_context``: ``context_columns`` compiled for PostgreSQL, the
    constants written in and the parameters named as the function's arguments. A test checks that the
    stored function's body is this text (whitespace aside): a change to the context's SQL needs a migration
    that replaces the function."""
    dialect = postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    compiled: Any = select(*context_columns("postgresql")).compile(dialect=dialect)
    constants = compiled.construct_params(_check=False)
    arguments = {name for name, _, _ in CONTEXT_FUNCTION_ARGUMENTS}

    def written(found: re.Match[str]) -> str:
        name = found[1]
        if name in arguments:
            return str(name)
        value = constants[name]
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError(f"constant {name}={value!r}: only int and str are written into the function")
        return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"

    return re.sub(r"%\((\w+)\)s", written, str(compiled)).replace("%%", "%")


@lru_cache(maxsize=1)
def context_function() -> Any:
    """``applicant_context(:p_user, …)`` as a one-row table with ``context_columns``' columns (PostgreSQL)."""
    names = [column.name for column in context_columns("postgresql")]
    arguments = (bindparam(name, type_=type_) for name, type_, _ in CONTEXT_FUNCTION_ARGUMENTS)
    return func.applicant_context(*arguments).table_valued(*names)


def context_source(dialect: str) -> tuple[tuple[Any, ...], Any]:
    """The context's columns and the FROM they need (None: the columns are scalar subqueries of their own)."""
    if dialect == "postgresql":
        function = context_function()
        return tuple(function.c), function
    return context_columns(dialect), None


def context_from(row: Any, *, user_id: int) -> ApplicantContext:
    consents = {kind: getattr(row, f"c_consent_{kind}") for kind in CONSENT_KINDS}
    return ApplicantContext(
        user_exists=bool(row.c_user),
        platform=platform_values(row),
        consents={kind: int(found) for kind, found in consents.items() if found is not None},
        pull_id=None if row.c_pull is None else int(row.c_pull),
        subject_ref=f"idx:{row.c_bidx}" if row.c_bidx else f"user:{user_id}",
        id_number_enc=row.c_id_enc,
    )


def applicant_context(
    session: Session, *, user_id: int, as_of: date, application_id: str
) -> ApplicantContext:
    """``ApplicantContext`` in one statement."""
    columns, source = context_source(session.get_bind().dialect.name)
    statement = select(*columns) if source is None else select(*columns).select_from(source)
    row = session.execute(statement, context_params(user_id, as_of, application_id)).one()
    return context_from(row, user_id=user_id)


def configured_bureau() -> BureauProvider:
    """``XIAODAI_BUREAU_FILE`` names a file of staged reports (others fall back to the sandbox)."""
    staged = os.environ.get("XIAODAI_BUREAU_FILE")
    return FileBureau(Path(staged)) if staged else SandboxBureau()


def active_consents(session: Session, *, user_id: int, kinds: tuple[str, ...]) -> dict[str, ConsentRow]:
    """The latest unwithdrawn consent of each of ``kinds`` (one statement)."""
    rows = session.execute(
        select(ConsentRow)
        .where(ConsentRow.user_id == user_id, ConsentRow.kind.in_(kinds), ConsentRow.withdrawn_at.is_(None))
        .order_by(ConsentRow.id)
    ).scalars()
    return {row.kind: row for row in rows}  # later rows win


def active_consent(session: Session, *, user_id: int, kind: str) -> ConsentRow | None:
    return active_consents(session, user_id=user_id, kinds=(kind,)).get(kind)


def subject_reference(session: Session, *, user_id: int) -> str:
    """The identity the bureau is asked about: the ID-number blind index when known, else the user id."""
    bidx = session.execute(
        select(PersonalDataRow.id_number_bidx).where(PersonalDataRow.user_id == user_id)
    ).scalar_one_or_none()
    return f"idx:{bidx}" if bidx else f"user:{user_id}"


def credit_report(
    session: Session,
    *,
    user_id: int,
    application_id: str,
    as_of: date,
    provider: BureauProvider | None = None,
    actor: str = "system",
    known: ApplicantContext | None = None,
) -> tuple[int, CreditReport]:
    """The application's credit report: pulled once under the credit_check consent, then read back.
    ``known`` (read with the platform values) saves the look-ups of the pull, the consent and the subject."""
    ring = current_ring()
    where = aad("bureau_pulls", application_id, "report")
    known = known or applicant_context(session, user_id=user_id, as_of=as_of, application_id=application_id)
    if known.pull_id is not None:
        pulled = session.get(BureauPullRow, known.pull_id)
        assert pulled is not None
        if pulled.user_id != user_id:
            raise FeatureInputError(f"application {application_id} belongs to another applicant")
        if pulled.report_enc is None:
            raise ReportErasedError(application_id, pulled.erased_at)
        return pulled.id, CreditReport.from_json(json.loads(decrypt(ring, pulled.report_enc, where)))
    consent_id = known.consents.get("credit_check")
    if consent_id is None:
        raise ConsentMissingError(
            "the credit check needs the applicant's consent (credit_check), recorded separately from the "
            "loan terms; without it no credit report is pulled and the application cannot be decided"
        )
    chosen = provider or configured_bureau()
    subject = known.subject_ref
    report = chosen.pull(subject_ref=subject, as_of=as_of)
    values = {
        "application_id": application_id,
        "user_id": user_id,
        "consent_id": consent_id,
        "provider": chosen.name,
        "subject_ref": subject[:80],
        "report_enc": encrypt(ring, json.dumps(report.to_json(), sort_keys=True), where),
        "key_version": ring.current,
        "pulled_at": datetime.now(tz=UTC),
    }
    if known.next_pull_id is None:
        pull_id = insert_id(session, BureauPullRow, values)
    else:  # written with the transaction's next insert (the decision's), at the latest at commit
        pull_id = known.next_pull_id
        queue_insert(session, BureauPullRow, {"id": pull_id, **values})
    record(
        session,
        actor=actor,
        action="bureau-pull",
        subject=f"application:{application_id}"[:100],
        reason="CREDIT_CHECK_CONSENTED",
        payload={"pull_id": pull_id, "user_id": user_id, "provider": chosen.name, "consent_id": consent_id},
    )
    return pull_id, report


def reports_of(session: Session, *, user_id: int) -> list[dict[str, Any]]:
    """Every credit report pulled about ``user_id`` (for the data-subject export), decrypted; an erased one
    is listed with ``report`` None and ``erased_at``."""
    ring = current_ring()
    rows = session.execute(
        select(BureauPullRow).where(BureauPullRow.user_id == user_id).order_by(BureauPullRow.id)
    ).scalars()
    return [
        {
            "application_id": row.application_id,
            "provider": row.provider,
            "pulled_at": row.pulled_at,
            "consent_id": row.consent_id,
            "report": None
            if row.report_enc is None
            else json.loads(decrypt(ring, row.report_enc, aad("bureau_pulls", row.application_id, "report"))),
            "erased_at": row.erased_at,
        }
        for row in rows
    ]


def assemble(
    session: Session,
    *,
    user_id: int,
    application_id: str,
    stated: Mapping[str, Any],
    as_of: date,
    catalogue: Catalogue | None = None,
    actor: str = "system",
    known: ApplicantContext | None = None,
) -> Assembled:
    """Validate what the applicant states, then add the platform, bureau and (consented) ecosystem values.
    ``known``: the applicant's context when the caller read it already (else one statement reads it)."""
    chosen = catalogue or default_catalogue()
    values = validate_application(chosen, stated)
    known = known or applicant_context(session, user_id=user_id, as_of=as_of, application_id=application_id)
    if not known.user_exists:
        raise FeatureInputError(f"applicant user {user_id} does not exist")
    sources = dict.fromkeys(values, "application")
    pull_id, report = credit_report(
        session, user_id=user_id, application_id=application_id, as_of=as_of, actor=actor, known=known
    )
    looked_up: list[tuple[str, dict[str, Any]]] = [
        ("platform", known.platform),
        ("bureau", report.features()),
    ]
    if "ecosystem_data" in known.consents:
        looked_up.append(
            ("ecosystem", SandboxEcosystem().signals(subject_ref=f"user:{user_id}", as_of=as_of))
        )
    looked_up.append(("platform", _age_check(known, user_id, values.get("age"), as_of)))
    for source, found in looked_up:
        for name, value in found.items():
            values[name] = value
            sources[name] = source
    return Assembled(values, sources, chosen.version, pull_id)


def _age_check(known: ApplicantContext, user_id: int, stated: Any, as_of: date) -> dict[str, Any]:
    """The age the ID number on file gives on ``as_of``, and whether the stated age differs from it."""
    if known.id_number_enc is None:
        return {"id_age": None, "age_id_mismatch": False}
    number = decrypt(current_ring(), known.id_number_enc, aad("personal_data", user_id, "id_number"))
    birth = birth_date_from_id(number)
    if birth is None:
        return {"id_age": None, "age_id_mismatch": False}
    id_age = age_on(birth, as_of)
    return {"id_age": id_age, "age_id_mismatch": stated is not None and int(stated) != id_age}
