"""Personal data at rest (shell): encrypt on write, decrypt on read, blind-index lookups, key rotation.

Every ``*_enc`` column of ``personal_data`` holds ``privacy.crypto`` ciphertext authenticated with
``personal_data:<user_id>:<field>``; ``key_version`` is the version all of the row's fields are under.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.db.tables import BureauPullRow, DataRequestRow, PersonalDataRow, UserRow
from xiaodai.privacy.crypto import KeyRing, aad, blind_index, decrypt, encrypt

TEXT_FIELDS = ("name", "id_number", "phone", "bank_card", "address")
ALL_FIELDS = (*TEXT_FIELDS, "emergency_contacts")
INDEXED = {"phone": "phone_bidx", "id_number": "id_number_bidx"}


def _column(field: str) -> str:
    return f"{field}_enc"


def write_fields(session: Session, ring: KeyRing, user_id: int, fields: dict[str, Any]) -> PersonalDataRow:
    """Set (or replace) the given fields; the row is re-encrypted under the current key if it was older."""
    row = session.get(PersonalDataRow, user_id)
    if row is None:
        row = PersonalDataRow(user_id=user_id, key_version=ring.current)
        session.add(row)
    elif row.key_version != ring.current:
        _reencrypt(row, ring)
    for field, value in fields.items():
        plain = json.dumps(value, ensure_ascii=False) if field == "emergency_contacts" else str(value)
        setattr(row, _column(field), encrypt(ring, plain, aad("personal_data", user_id, field)))
        if field in INDEXED:
            setattr(row, INDEXED[field], blind_index(ring, field, str(value)))
    row.updated_at = datetime.now(tz=UTC)
    session.flush()
    return row


def erase_fields(session: Session, user_id: int, fields: list[str]) -> None:
    row = session.get(PersonalDataRow, user_id)
    if row is None:
        return
    for field in fields:
        setattr(row, _column(field), None)
        if field in INDEXED:
            setattr(row, INDEXED[field], None)
    session.flush()


def erase_reports(session: Session, user_id: int, pull_ids: list[int], *, at: datetime) -> int:
    """Erase the credit reports ``pull_ids`` of ``user_id`` (the ciphertext goes, ``erased_at`` is set); the
    pull record — application, provider, consent, time — is kept for the audit trail."""
    if not pull_ids:
        return 0
    pulls = session.execute(
        select(BureauPullRow).where(
            BureauPullRow.user_id == user_id,
            BureauPullRow.id.in_(pull_ids),
            BureauPullRow.report_enc.is_not(None),
        )
    ).scalars()
    erased = 0
    for pull in pulls:
        pull.report_enc = None
        pull.erased_at = at
        erased += 1
    session.flush()
    return erased


def read_fields(ring: KeyRing, row: PersonalDataRow | None) -> dict[str, Any]:
    if row is None:
        return {}
    out: dict[str, Any] = {}
    for field in ALL_FIELDS:
        token = getattr(row, _column(field))
        if token is None:
            continue
        plain = decrypt(ring, token, aad("personal_data", row.user_id, field))
        out[field] = json.loads(plain) if field == "emergency_contacts" else plain
    return out


def find_users(session: Session, ring: KeyRing, kind: str, value: str) -> list[int]:
    if kind not in INDEXED:
        raise ValueError(f"lookups are by {' or '.join(INDEXED)}")
    column = getattr(PersonalDataRow, INDEXED[kind])
    digest = blind_index(ring, kind, value)
    return list(session.execute(select(PersonalDataRow.user_id).where(column == digest)).scalars())


def _reencrypt(row: PersonalDataRow, ring: KeyRing) -> None:
    for field in ALL_FIELDS:
        token = getattr(row, _column(field))
        if token is not None:
            where = aad("personal_data", row.user_id, field)
            setattr(row, _column(field), encrypt(ring, decrypt(ring, token, where), where))
    row.key_version = ring.current


def _stale_requests(ring: KeyRing) -> Any:
    """Data requests whose encrypted copy of the request is under an older key (the token names its key)."""
    return (DataRequestRow.request_enc.is_not(None)) & (
        ~DataRequestRow.request_enc.startswith(f"v{ring.current}.")
    )


def _stale_names(ring: KeyRing) -> Any:
    """Account names (``users.name_enc``) under an older key."""
    return (UserRow.name_enc.is_not(None)) & (~UserRow.name_enc.startswith(f"v{ring.current}."))


def _stale_reports(ring: KeyRing) -> Any:
    """Credit reports under an older key; an erased report (no ciphertext) has nothing to re-encrypt."""
    return (BureauPullRow.key_version != ring.current) & BureauPullRow.report_enc.is_not(None)


def rotation_backlog(session: Session, ring: KeyRing) -> int:
    people = session.execute(select(func.count()).where(PersonalDataRow.key_version != ring.current))
    requests = session.execute(select(func.count()).select_from(DataRequestRow).where(_stale_requests(ring)))
    names = session.execute(select(func.count()).select_from(UserRow).where(_stale_names(ring)))
    reports = session.execute(select(func.count()).where(_stale_reports(ring)))
    return (
        int(people.scalar_one())
        + int(requests.scalar_one())
        + int(names.scalar_one())
        + int(reports.scalar_one())
    )


def _reencrypt_reports(session: Session, ring: KeyRing, limit: int) -> int:
    """Credit reports pulled for applications (``bureau_pulls``) still under an older key."""
    if limit <= 0:
        return 0
    pulls = list(
        session.execute(
            select(BureauPullRow)
            .where(_stale_reports(ring))
            .order_by(BureauPullRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    for pull in pulls:
        where = aad("bureau_pulls", pull.application_id, "report")
        pull.report_enc = encrypt(ring, decrypt(ring, str(pull.report_enc), where), where)
        pull.key_version = ring.current
    return len(pulls)


def rotate(
    factory: sessionmaker[Session],
    ring: KeyRing,
    *,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> int:
    """Re-encrypt every row not yet under the current key, one committed batch at a time.

    Resumable by construction: a row is rewritten with its new ``key_version`` in one transaction, and the
    next run selects only rows still under an old version; every row stays readable throughout because old
    keys remain in the ring until the backlog is zero.
    """
    with factory() as session:
        total = rotation_backlog(session, ring)
    done = 0
    batches = 0
    while True:
        with factory() as session, session.begin():
            rows = list(
                session.execute(
                    select(PersonalDataRow)
                    .where(PersonalDataRow.key_version != ring.current)
                    .order_by(PersonalDataRow.user_id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            for row in rows:
                _reencrypt(row, ring)
            requests: list[DataRequestRow] = []
            if len(rows) < batch:
                requests = list(
                    session.execute(
                        select(DataRequestRow)
                        .where(_stale_requests(ring))
                        .order_by(DataRequestRow.id)
                        .limit(batch - len(rows))
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                for request in requests:
                    where = aad("data_requests", request.id, "request")
                    plain = decrypt(ring, str(request.request_enc), where)
                    request.request_enc = encrypt(ring, plain, where)
            users: list[UserRow] = []
            if len(rows) + len(requests) < batch:
                users = list(
                    session.execute(
                        select(UserRow)
                        .where(_stale_names(ring))
                        .order_by(UserRow.id)
                        .limit(batch - len(rows) - len(requests))
                        .with_for_update(skip_locked=True)
                    ).scalars()
                )
                for user in users:
                    where = aad("users", user.id, "name")
                    user.name_enc = encrypt(ring, decrypt(ring, str(user.name_enc), where), where)
            reports = _reencrypt_reports(session, ring, batch - len(rows) - len(requests) - len(users))
            if not rows and not requests and not users and not reports:
                break
        done += len(rows) + len(requests) + len(users) + reports
        batches += 1
        if progress:
            progress(done, total)
        if after_batch:
            after_batch(batches)
    return done
