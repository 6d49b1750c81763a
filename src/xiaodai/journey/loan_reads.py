"""A borrower's two loan reads, each ONE statement: my loans, and a loan's detail (its schedule, a bill
breakdown naming the signed disclosure's clause for every line, the disclosure's identity).

One statement sees one snapshot, so on PostgreSQL both run on the API's autocommit reader (``deps.ReadDB``):
one round trip, no BEGIN/COMMIT. The statements are built once (a statement built per call costs more
Python than the query: its cache key) and select only the columns the answers show, through Core (no
identity map, no ORM loading).

The signed disclosure (KFS) is immutable and named by its SHA-256: the few values the detail shows from it
are parsed once per process and remembered by that hash (``_KFS``), so the detail's statement selects the
hash, not the document; a hash not yet seen costs one more SELECT of the document, by that hash.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict, namedtuple
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Text, and_, bindparam, cast, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from xiaodai.db.tables import DisclosureRow, InstallmentRow, LoanRow, UserRow
from xiaodai.db.tables.payments import DisbursementRow
from xiaodai.money.money import fen_json
from xiaodai.payments.payout import PAYOUT_FIELDS, disbursement_view, redated_of
from xiaodai.servicing.loans import INSTALLMENT_FIELDS, Installment
from xiaodai.servicing.views import view_of

_LOAN_TABLE, _PART_TABLE, _KFS_TABLE, _PAYOUT_TABLE = (
    row.metadata.tables[row.__tablename__]
    for row in (LoanRow, InstallmentRow, DisclosureRow, DisbursementRow)
)
_LOANS, _PARTS, _KFS_COLUMNS, _PAYOUTS = _LOAN_TABLE.c, _PART_TABLE.c, _KFS_TABLE.c, _PAYOUT_TABLE.c

MY_LOANS = (  # parameter: user_id
    select(_LOANS.id, _LOANS.state, _LOANS.principal_fen, _LOANS.apr_percent, _LOANS.term, _LOANS.start_on)
    .where(_LOANS.borrower_id == bindparam("user_id"))
    .order_by(_LOANS.id)
)


def my_loans(session: Session, *, user: UserRow) -> list[dict[str, Any]]:
    return my_loans_answer(session.execute(MY_LOANS, {"user_id": user.id}))


def my_loans_answer(rows: Iterable[Any]) -> list[dict[str, Any]]:
    """The answer from ``MY_LOANS``'s rows (read any way: its six columns by position)."""
    return [
        {
            "id": loan_id,
            "state": state,
            "principal": fen_json(principal_fen),
            "apr_percent": apr_percent,
            "term": term,
            "start_date": start_on.isoformat(),
        }
        for loan_id, state, principal_fen, apr_percent, term, start_on in rows
    ]


# what servicing.views.view_of reads from the loan, under the same names
_VIEW_LOAN = (
    "id", "state", "product", "method", "currency", "principal_fen", "term", "annual_rate", "apr_percent",
    "start_on", "disbursed_on", "closed_on", "principal_outstanding_fen", "interest_outstanding_fen",
    "fees_outstanding_fen", "penalties_outstanding_fen", "overpayment_fen", "paid_total_fen",
    "penalties_charged_fen", "disclosed_repayment_fen", "penalty_rate_disclosed", "penalty_rate_daily_e9",
    "penalty_reason", "cap_profile", "dpd", "bucket", "allocation_order", "buckets",
)  # fmt: skip
_PART_LABELS = tuple(f"part_{name}" for name in INSTALLMENT_FIELDS)
_PAYOUT_LABELS = tuple(f"payout_{name}" for name in PAYOUT_FIELDS)
_FIRST_PAYOUT = len(_VIEW_LOAN) + 3  # after the loan's columns and the disclosure's three
_FIRST_PART = _FIRST_PAYOUT + len(PAYOUT_FIELDS)  # after the payout's (one per loan: 代付, payments.payout)

# The loan (only if it is the user's), its disclosure's identity, its payout and its active instalments in
# period order: one row per instalment (one row with empty instalment columns for a loan without any).
DETAIL = (  # parameters: loan_id, user_id
    select(
        *(_LOANS[name] for name in _VIEW_LOAN),
        _KFS_COLUMNS.sha256.label("kfs_sha256"),
        _KFS_COLUMNS.signed_at.label("kfs_signed_at"),
        _KFS_COLUMNS.lang.label("kfs_lang"),
        *(_PAYOUTS[name].label(label) for name, label in zip(PAYOUT_FIELDS, _PAYOUT_LABELS, strict=True)),
        *(_PARTS[name].label(label) for name, label in zip(INSTALLMENT_FIELDS, _PART_LABELS, strict=True)),
    )
    .select_from(_LOAN_TABLE)
    .outerjoin(_KFS_TABLE, _KFS_COLUMNS.loan_id == _LOANS.id)
    .outerjoin(_PAYOUT_TABLE, _PAYOUTS.loan_id == _LOANS.id)
    .outerjoin(_PART_TABLE, and_(_PARTS.loan_id == _LOANS.id, _PARTS.active.is_(True)))
    .where(_LOANS.id == bindparam("loan_id"), _LOANS.borrower_id == bindparam("user_id"))
    .order_by(_PARTS.period, _PARTS.schedule_version)
)

# PostgreSQL only (the event-loop reads, ``api.async_reads``): the same values in ONE row — the loan's, the
# disclosure's and the payout's columns once (``DETAIL`` repeats them on every instalment's row), then the
# active instalments as the text of one JSON array (``INSTALLMENT_FIELDS`` of each, in period order; NULL
# for none): a third of the values for PostgreSQL to write and the driver to read. ``detail_parts`` reads
# the array back as ``Installment`` records equal to ``DETAIL``'s (tests/api/test_hot_path.py compares the
# two paths' answers byte for byte).
_PARTS_JSON = (
    select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(*(_PARTS[name] for name in INSTALLMENT_FIELDS)),
                _PARTS.period,
                _PARTS.schedule_version,
            )
        )
    )
    .where(_PARTS.loan_id == _LOANS.id, _PARTS.active.is_(True))
    .scalar_subquery()
)
DETAIL_ONE_ROW = (  # parameters: loan_id, user_id
    select(*DETAIL.selected_columns[:_FIRST_PART], cast(_PARTS_JSON, Text).label("parts_json"))
    .select_from(_LOAN_TABLE)
    .outerjoin(_KFS_TABLE, _KFS_COLUMNS.loan_id == _LOANS.id)
    .outerjoin(_PAYOUT_TABLE, _PAYOUTS.loan_id == _LOANS.id)
    .where(_LOANS.id == bindparam("loan_id"), _LOANS.borrower_id == bindparam("user_id"))
)
# ``DETAIL_ONE_ROW``'s column names in order: its row read as a plain tuple is named by ``DetailRow._make``
DETAIL_COLUMNS: tuple[str, ...] = tuple(str(column.key) for column in DETAIL_ONE_ROW.selected_columns)
DetailRow = namedtuple("DetailRow", DETAIL_COLUMNS)  # type: ignore[misc]  # names built once


def _json_exact_parts() -> tuple[int, ...]:
    """The positions of the instalment's date fields (JSON carries them as ISO text); every other field must
    be one JSON gives back exactly (int, bool, str) — anything else is refused here, at import."""
    dates = []
    for position, name in enumerate(INSTALLMENT_FIELDS):
        kind = _PARTS[name].type.python_type
        if kind is date:
            dates.append(position)
        elif kind not in (int, bool, str):
            raise TypeError(f"installments.{name} ({kind.__name__}) does not come back exactly from JSON")
    return tuple(dates)


_PART_DATES = _json_exact_parts()


def detail_parts(parts_json: str | None) -> list[Installment]:
    """The instalments of ``DETAIL_ONE_ROW``'s ``parts_json``, as ``DETAIL``'s rows give them."""
    if parts_json is None:
        return []
    parts = []
    for values in json.loads(parts_json):
        for i in _PART_DATES:
            if values[i] is not None:
                values[i] = date.fromisoformat(values[i])
        parts.append(Installment(*values))
    return parts


KFS_DOCUMENT = select(  # parameters: loan_id, sha256
    _KFS_COLUMNS.canonical_json
).where(_KFS_COLUMNS.loan_id == bindparam("loan_id"), _KFS_COLUMNS.sha256 == bindparam("sha256"))


class KfsTerms:
    """What the detail shows from a signed KFS: its fee terms, lender names and headline APR."""

    __slots__ = ("apr_percent", "fee_clause", "fees", "lender")

    def __init__(self, kfs: dict[str, Any]) -> None:
        self.fees: tuple[dict[str, Any], ...] = tuple(kfs["fees"])
        self.fee_clause: str | None = next(
            (f["clause"] for f in self.fees if f["type"] in ("monthly_fee", "instalment_fee")), None
        )
        self.lender = {"zh": kfs.get("lender"), "en": kfs.get("lender_en") or kfs.get("lender")}
        self.apr_percent = kfs["headline"]["apr_percent"]


class _RememberedKfs:
    """The parsed terms of the disclosures this process has shown, by SHA-256 (bounded, least recently
    used dropped). A disclosure is immutable and its hash names its content, so nothing goes stale."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._terms: OrderedDict[str, KfsTerms] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sha256: str) -> KfsTerms | None:
        with self._lock:
            terms = self._terms.get(sha256)
            if terms is not None:
                self._terms.move_to_end(sha256)
            return terms

    def put(self, sha256: str, terms: KfsTerms) -> None:
        with self._lock:
            self._terms[sha256] = terms
            while len(self._terms) > self.size:
                self._terms.popitem(last=False)


_KFS = _RememberedKfs()
_NO_KFS = KfsTerms({"fees": [], "headline": {"apr_percent": None}})  # a loan made outside the journey


def remembered_kfs(sha256: str) -> KfsTerms | None:
    """The terms of a disclosure this process has parsed, by its hash (None: read its document)."""
    return _KFS.get(sha256)


def parsed_kfs(sha256: str, document: str) -> KfsTerms:
    """The terms of the disclosure ``document`` (named by ``sha256``), remembered from now on."""
    terms = KfsTerms(json.loads(document))
    _KFS.put(sha256, terms)
    return terms


def _kfs_terms(session: Session, *, loan_id: int, sha256: str) -> KfsTerms | None:
    terms = remembered_kfs(sha256)
    if terms is None:
        document = session.execute(KFS_DOCUMENT, {"loan_id": loan_id, "sha256": sha256}).scalar()
        if document is None:  # gone since the first statement: shown as a loan without one
            return None
        terms = parsed_kfs(sha256, document)
    return terms


def loan_detail(session: Session, *, user: UserRow, loan_id: int, today: date) -> dict[str, Any]:
    """The loan with its schedule and a bill breakdown: every line names the snapshot clause allowing it.
    A loan that is not the user's is not found, exactly as one that does not exist."""
    from xiaodai.journey.service import NotFoundError

    rows: list[Any] = list(session.execute(DETAIL, {"loan_id": loan_id, "user_id": user.id}))
    if not rows:
        raise NotFoundError("loan not found")
    sha256 = rows[0].kfs_sha256
    terms = _kfs_terms(session, loan_id=loan_id, sha256=sha256) if sha256 is not None else None
    return detail_answer(rows, terms=terms, today=today)


_ZERO = fen_json(0)  # the only text ``fen_json`` gives a zero amount (``view_of``'s money is ``fen_json``'s)


def detail_answer(rows: list[Any], *, terms: KfsTerms | None, today: date) -> dict[str, Any]:
    """The answer from ``DETAIL``'s rows (at least one; read any way: columns as attributes and by
    position) and the disclosure's terms (None: shown as a loan without a signed disclosure)."""
    parts = [Installment(*r[_FIRST_PART:]) for r in rows if r[_FIRST_PART] is not None]
    return loan_answer(rows[0], parts, terms=terms, today=today)


def loan_answer(
    loan: Any, parts: list[Installment], *, terms: KfsTerms | None, today: date
) -> dict[str, Any]:
    """The answer from a row of ``DETAIL`` or ``DETAIL_ONE_ROW`` (the loan's, the disclosure's and the
    payout's columns: as attributes and by position) and the loan's active instalments in period order."""
    view = view_of(loan, parts, as_of=today)
    signed = loan.kfs_sha256 is not None and terms is not None
    if terms is None:
        terms = _NO_KFS
    bill = []
    for row in view["schedule"]:
        if row["status"] in ("due", "overdue"):
            for part in ("principal", "interest", "fee"):
                amount = row[part]
                if amount != _ZERO:
                    clause = terms.fee_clause if part == "fee" else "S1"
                    bill.append({"period": row["period"], "item": part, "amount": amount, "clause": clause})
    if view["balances"]["penalties"] != _ZERO:
        bill.append(
            {"period": None, "item": "penalty", "amount": view["balances"]["penalties"], "clause": "P1"}
        )
    view["bill"] = bill
    payout = dict(zip(PAYOUT_FIELDS, loan[_FIRST_PAYOUT:_FIRST_PART], strict=True))
    sent = payout[PAYOUT_FIELDS[0]] is not None
    view["disbursement"] = disbursement_view(payout) if sent else None
    # a payout that arrived days after signing moved the loan's start (``payout.redate``): say so
    view["redated"] = (
        redated_of(payout["status"], payout["business_date"], payout["settled_on"], loan.start_on)
        if sent
        else None
    )
    # every fee the signed disclosure allows, with its clause (an up-front fee was kept back at disbursement)
    view["fee_terms"] = [dict(f) for f in terms.fees]
    view["lender"] = dict(terms.lender)
    view["disclosure"] = (
        {
            "sha256": loan.kfs_sha256,
            "signed_at": loan.kfs_signed_at.isoformat(),
            "lang": loan.kfs_lang,
            "apr_percent": terms.apr_percent,
        }
        if signed
        else None
    )
    return view
