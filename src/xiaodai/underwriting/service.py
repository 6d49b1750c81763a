"""Model registry, decisions and replay (shell): loads artifacts, stores decision records.

Every decision, model registration and activation and every new policy version is written to the audit
trail (``xiaodai.audit``) with the actor, a reason code and the model/policy version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import weakref
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, bindparam, event, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from xiaodai import json_text
from xiaodai.audit.trail import record
from xiaodai.db.inserts import execute_compiled, insert_loaded, queue_loaded, write_queued
from xiaodai.db.tables import DecisionRow, ModelRow, PolicyVersionRow
from xiaodai.features.assemble import (
    ApplicantContext,
    assemble,
    context_from,
    context_params,
    context_source,
)
from xiaodai.features.catalogue import Catalogue, FeatureInputError, default_catalogue, refuse_looked_up
from xiaodai.features.model_inputs import ModelInputMapping, default_mapping
from xiaodai.pricing.caps import default_cap_book
from xiaodai.underwriting.artifact import CompiledScorecard
from xiaodai.underwriting.decision import Application, ApplicationError, Decision, decide
from xiaodai.underwriting.policy import Policy, default_policy, parse_policy
from xiaodai.underwriting.reasons import Explainable, applicant_reasons, explainable, positive_factors
from xiaodai.underwriting.scorer import CompiledScorer


class RegistryError(ValueError):
    status = 400


def model_store() -> Path:
    return Path(os.environ.get("XIAODAI_MODEL_DIR", "var/models"))


@dataclass(frozen=True, slots=True)
class LoadedModel:
    version: str
    scorer: CompiledScorer
    protected: tuple[str, ...]
    manifest: dict[str, Any]


@lru_cache(maxsize=16)
def load_artifact(path: str) -> LoadedModel:
    folder = Path(path)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        card = CompiledScorecard.from_json(
            json.loads((folder / "scorecard.json").read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, KeyError) as exc:
        raise RegistryError(f"not a model artifact: {folder} ({exc})") from exc
    return LoadedModel(
        str(manifest["version"]), CompiledScorer(card), tuple(manifest.get("protected", [])), manifest
    )


def register_model(
    session: Session, *, artifact: Path, activate: bool = False, actor: str = "system"
) -> ModelRow:
    """Copy an artifact into the model store and record it; optionally make it the active model."""
    loaded = load_artifact(str(artifact.resolve()))
    existing = session.get(ModelRow, loaded.version)
    if existing is None:
        target = model_store() / loaded.version
        if artifact.resolve() != target.resolve():
            shutil.copytree(artifact, target, dirs_exist_ok=True)
        metrics = artifact / "metrics.json"
        existing = ModelRow(
            version=loaded.version,
            path=str(target.resolve()),
            manifest_json=json.dumps(loaded.manifest, ensure_ascii=False),
            metrics_json=metrics.read_text(encoding="utf-8") if metrics.exists() else "{}",
            active=False,
        )
        session.add(existing)
        session.flush()
        record(
            session,
            actor=actor,
            action="model-register",
            subject=f"model:{loaded.version}",
            reason="REGISTERED",
            payload={"path": existing.path, "features": list(loaded.manifest.get("features", []))},
            version=loaded.version,
        )
    if activate:
        activate_model(session, version=loaded.version, actor=actor)
    return existing


def activate_model(
    session: Session, *, version: str, actor: str = "system", approval_id: int | None = None
) -> None:
    """Make ``version`` the active model. The first model of a deployment is activated directly (there is
    nothing to replace); replacing an active model needs an executed maker-checker approval."""
    if session.get(ModelRow, version) is None:
        raise RegistryError(f"model {version} is not registered")
    previous = session.execute(select(ModelRow.version).where(ModelRow.active.is_(True))).scalars().all()
    if approval_id is None and any(v != version for v in previous):
        raise RegistryError(
            "replacing the active model needs a second person (MAKER_CHECKER_REQUIRED): "
            f"xiaodai approvals request model_activate --param version={version} --actor … --reason …"
        )
    session.execute(update(ModelRow).values(active=False))
    session.execute(update(ModelRow).where(ModelRow.version == version).values(active=True))
    session.flush()
    record(
        session,
        actor=actor,
        action="model-activate",
        subject=f"model:{version}",
        reason="ACTIVATED",
        payload={"previous": sorted(previous)},
        version=version,
    )


NO_ACTIVE_MODEL = "no active model: train one and `xiaodai model register DIR --activate`"


def active_model(session: Session) -> LoadedModel:
    path = session.execute(select(ModelRow.path).where(ModelRow.active.is_(True))).scalar_one_or_none()
    if path is None:
        raise RegistryError(NO_ACTIVE_MODEL)
    return load_artifact(path)


def model_by_version(session: Session, version: str) -> LoadedModel:
    """A registered model by version. A version's artifact path never changes once registered, so each
    process asks each database for it once (the applicant's reasons are recomputed on every application)."""
    engine = session.get_bind().engine
    known = _MODEL_PATHS.setdefault(engine, {})
    path = known.get(version)
    if path is None:
        row = session.get(ModelRow, version)
        if row is None:
            raise RegistryError(f"model {version} is not registered")
        path = known[version] = row.path
    return load_artifact(path)


# per database engine: model version -> artifact path (registered rows are never re-pointed)
_MODEL_PATHS: weakref.WeakKeyDictionary[Engine, dict[str, str]] = weakref.WeakKeyDictionary()


# (version, document) of the policies each database (engine) is known to hold, committed
_STORED_POLICIES: weakref.WeakKeyDictionary[Engine, set[tuple[str, str]]] = weakref.WeakKeyDictionary()
_INSERTED_HERE = "xiaodai.underwriting.policies_inserted"  # session.info: inserted by the open transaction


@event.listens_for(Session, "after_transaction_end")
def _forget_inserted(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_INSERTED_HERE, None)


def _store_policy(session: Session, policy: Policy, actor: str) -> None:
    """A policy version takes effect with the first decision taken under it: stored once, audited once.

    Concurrent first decisions race to store it: the insert does nothing when the version is there
    (``ON CONFLICT DO NOTHING``; PostgreSQL waits for a concurrent insert of the same version to commit),
    only the transaction whose row went in audits the activation, and every other one checks the stored
    document instead of failing on the primary key."""
    bind = session.get_bind()
    key = (policy.version, policy.document)
    if key in _STORED_POLICIES.get(bind.engine, ()):
        return
    inserted = session.execute(
        _insert_policy(session)
        .values(version=policy.version, document=policy.document)
        .on_conflict_do_nothing(index_elements=["version"])
        .returning(PolicyVersionRow.version)
    ).first()
    if inserted is not None:
        session.info.setdefault(_INSERTED_HERE, set()).add(key)
        record(
            session,
            actor=actor,
            action="policy-activate",
            subject=f"policy:{policy.version}",
            reason="FIRST_USE",
            payload={"sha256": hashlib.sha256(policy.document.encode("utf-8")).hexdigest()},
            version=policy.version,
        )
        return
    stored = session.execute(
        select(PolicyVersionRow.document).where(PolicyVersionRow.version == policy.version)
    ).scalar_one()
    if stored != policy.document:
        raise RegistryError(f"policy version {policy.version} changed without a new version number")
    if key not in session.info.get(_INSERTED_HERE, ()):
        # committed by an earlier transaction: this database has it for good (policy versions are never
        # deleted), so this process stops asking
        _STORED_POLICIES.setdefault(bind.engine, set()).add(key)


def _refuse(exc: FeatureInputError) -> ApplicationError:
    return ApplicationError(str(exc))


def check_rule_sources(policy: Policy, catalogue: Catalogue) -> None:
    """A rule that says it reads a platform or bureau value must name a feature of that source."""
    features = catalogue.by_name()
    for rule in policy.knock_out:
        if rule.source == "application":
            continue
        declared = features.get(rule.field)
        if declared is None or declared.source != rule.source:
            raise RegistryError(
                f"policy {policy.version}: rule {rule.code} reads {rule.field!r} as a {rule.source} value, "
                f"but the feature catalogue {catalogue.version} says "
                f"{'nothing about it' if declared is None else declared.source}"
            )


def _decision_input(
    session: Session,
    *,
    application_json: dict[str, Any],
    user_id: int | None,
    model: LoadedModel,
    actor: str,
    known: ApplicantContext | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The application as decided (assembled features and model inputs) and the record of their sources."""
    catalogue = default_catalogue()
    subject = user_id if user_id is not None else application_json.get("user_id")
    if "application_id" not in application_json:
        raise ApplicationError("application is missing 'application_id'")
    if subject is None or isinstance(subject, bool) or not str(subject).isdigit():
        raise ApplicationError(
            "the application must name the applicant (user_id): platform and bureau values are looked up "
            "for that person, never taken from the request"
        )
    applicant = application_json.get("applicant", {})
    request = application_json.get("request", {})
    features = application_json.get("features", {})
    if not all(isinstance(part, dict) for part in (applicant, request, features)):
        raise ApplicationError("applicant, request and features must be JSON objects")
    try:
        for section, part in (("the request", request), ("features", features)):
            refuse_looked_up(catalogue, part, section=section)
        mapping = default_mapping()
        catalogued = catalogue.by_name()
        computed = sorted(name for name in features if name in mapping.names() or name in catalogued)
        if computed:
            raise FeatureInputError(
                f"features may not supply {', '.join(computed)}: model inputs are the catalogue's features "
                f"(stated ones go in applicant) or computed from them ({mapping.version})"
            )
        stated = dict(applicant)
        for name in ("amount", "term"):
            if name in request and name not in stated:
                stated[name] = request[name]
        assembled = assemble(
            session,
            user_id=int(subject),
            application_id=str(application_json.get("application_id", "")),
            stated=stated,
            as_of=_as_of(application_json),
            catalogue=catalogue,
            actor=actor,
            known=known,
        )
    except FeatureInputError as exc:
        raise _refuse(exc) from exc
    inputs, mapping_version = model_inputs(model, assembled.values, features)
    decided = {
        "application_id": application_json.get("application_id"),
        "as_of": application_json.get("as_of"),
        "applicant": assembled.values,
        "features": inputs,
        "request": {"amount": assembled.values.get("amount", "0"), "term": assembled.values.get("term", 12)},
    }
    record_json = {
        **assembled.to_json(),
        "user_id": int(subject),
        "model_inputs": {
            "mapping_version": mapping_version,
            "values": {name: inputs.get(name) for name in model.scorer.feature_names},
        },
        "decided": decided,
    }
    return decided, record_json


def reads_catalogue(model: LoadedModel, catalogue: Catalogue | None = None) -> bool:
    """Whether every input of the model is a catalogue feature (a model trained on the synthetic population
    or on the lender's own catalogue data): it then reads the assembled values by name, with no mapping."""
    names = (catalogue or default_catalogue()).by_name()
    return all(name in names for name in model.scorer.feature_names)


def model_inputs(
    model: LoadedModel, values: dict[str, Any], features: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str | None]:
    """The model's inputs from an assembled feature vector, and the version of the mapping used (None: the
    model reads catalogue features by name). A model trained on a public set reads the columns the mapping
    computes (``features/data/model_inputs.json``); a request's ``features`` only fill columns neither
    provides."""
    extra = features or {}
    if reads_catalogue(model):
        return {**extra, **values}, None
    mapping = default_mapping()
    return {**extra, **values, **mapping.inputs(values)}, mapping.version


@lru_cache(maxsize=4)
def _decision_context(dialect: str) -> Any:
    """One statement for a decision: an earlier decision of this application, the active model's artifact and
    the applicant's context (``features.assemble.context_source``: on PostgreSQL the server-side function
    ``applicant_context``, whose plan the server keeps); on PostgreSQL also the ids a new credit-report pull
    and the decision take (so both are written with the audit events, in one statement); built once per
    dialect."""
    allocate = (
        func.nextval(literal_column("'bureau_pulls_id_seq'")).label("d_next_pull"),
        func.nextval(literal_column("'decisions_id_seq'")).label("d_next_decision"),
    )
    columns, source = context_source(dialect)
    statement = select(
        select(DecisionRow.id)
        .where(DecisionRow.application_id == bindparam("p_application", type_=String))
        .scalar_subquery()
        .label("d_previous"),
        select(ModelRow.path).where(ModelRow.active.is_(True)).scalar_subquery().label("d_model"),
        *columns,
        *(allocate if dialect == "postgresql" else ()),
    )
    return statement if source is None else statement.select_from(source)


def _plain_id(value: Any) -> bool:
    return value is not None and not isinstance(value, bool) and str(value).isdigit()


def _iso_date(value: Any) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


_CHECKED: set[tuple[str, str]] = set()  # (policy document, catalogue version) whose rule sources were checked


def _check_rule_sources_once(policy: Policy) -> None:
    """``check_rule_sources``, once per policy document and catalogue version in this process."""
    catalogue = default_catalogue()
    key = (policy.document, catalogue.version)
    if key in _CHECKED:
        return
    check_rule_sources(policy, catalogue)
    _CHECKED.add(key)


def _as_of(application_json: dict[str, Any]) -> date:
    try:
        return date.fromisoformat(str(application_json["as_of"]))
    except KeyError:
        raise ApplicationError("application is missing 'as_of'") from None
    except ValueError:
        raise ApplicationError(f"as_of {application_json['as_of']!r} is not a date (YYYY-MM-DD)") from None


def _legacy_input(application_json: dict[str, Any]) -> dict[str, Any]:
    """A record decided before feature sources (0020): the applicant then carried existing_overdue_days."""
    applicant = dict(application_json.get("applicant", {}))
    applicant.setdefault("worst_dpd_now", applicant.get("existing_overdue_days"))
    return {**application_json, "applicant": applicant}


def _insert_policy(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(PolicyVersionRow)
    return sqlite_insert(PolicyVersionRow)


def decide_and_record(
    session: Session,
    *,
    application_json: dict[str, Any],
    policy: Policy | None = None,
    actor: str = "system",
    user_id: int | None = None,
    new_application: bool = False,
) -> dict[str, Any]:
    """Decide with the active model and policy, store the record; the same application id returns it again.
    ``new_application``: the caller created the application in this transaction, so it has no decision yet
    (the look-up for one is skipped).

    The applicant (``user_id``, or ``application_json["user_id"]``) states only ``application`` features; the
    platform values come from xiaodai's records and the bureau values from one credit-report pull under the
    credit_check consent. A request carrying a platform/bureau value is refused (``ApplicationError``).
    """
    application_id = application_json.get("application_id")
    chosen = policy or default_policy()
    subject = user_id if user_id is not None else application_json.get("user_id")
    known: ApplicantContext | None = None
    path: str | None = None
    next_decision_id: int | None = None
    if _plain_id(subject) and application_id is not None and _iso_date(application_json.get("as_of")):
        # one statement: an earlier decision of this application, the active model and everything the
        # database knows about the applicant (platform vector, consents, earlier pull, identity); plain
        # columns, so it runs on the session's connection (after a flush, and after the rows queued by an
        # earlier decision of this transaction) without the ORM's execution layer
        session.flush()
        write_queued(session)
        connection = session.connection()
        context = execute_compiled(  # as its SQL text where no type converts a value (PostgreSQL)
            connection,
            _decision_context(connection.dialect.name),
            context_params(
                int(str(subject)), date.fromisoformat(str(application_json["as_of"])), str(application_id)
            ),
        ).one()
        previous_id, path = context.d_previous, context.d_model
        known = context_from(context, user_id=int(str(subject)))
        if "d_next_pull" in context._fields:  # PostgreSQL: the ids the pull and the decision take
            known = dataclasses.replace(known, next_pull_id=int(context.d_next_pull))
            next_decision_id = int(context.d_next_decision)
        previous: DecisionRow | None = None if previous_id is None else session.get(DecisionRow, previous_id)
    else:
        previous = (
            None
            if application_id is None or new_application
            else session.execute(
                select(DecisionRow).where(DecisionRow.application_id == str(application_id))
            ).scalar_one_or_none()
        )
    if previous is not None:
        if json.loads(previous.application_json) != application_json:
            raise RegistryError(f"application {application_id} was already decided with other data")
        return {**json.loads(previous.result_json), "decision_id": previous.id, "replayed": True}
    _check_rule_sources_once(chosen)
    if known is None:
        model = active_model(session)
    elif path is None:
        raise RegistryError(NO_ACTIVE_MODEL)
    else:
        model = load_artifact(path)  # cached per artifact path: the active flag is read every time
    decided, record_json = _decision_input(
        session, application_json=application_json, user_id=user_id, model=model, actor=actor, known=known
    )
    application = Application.from_json(decided)
    _store_policy(session, chosen, actor)
    decision = decide(
        application,
        scorer=model.scorer,
        model_version=model.version,
        policy=chosen,
        cap_book=default_cap_book(),
        protected=model.protected,
    )
    result = decision.to_json()
    values = {
        "application_id": application.application_id,
        "outcome": decision.outcome,
        "score": decision.score,
        "pd": decision.pd,
        "grade": decision.grade,
        "model_version": model.version,
        "policy_version": chosen.version,
        # keys sorted, read back with the same values (json_text: orjson where it writes them exactly)
        "application_json": json_text.stored(application_json),
        "result_json": json_text.stored(result),
        "features_json": json_text.stored(record_json),
        "loan_id": None,
    }
    if next_decision_id is None:
        row = insert_loaded(session, DecisionRow, values, server_defaults=("decided_at",))
    else:
        # written with the transaction's next insert (the application's) or with the audit chain's head at
        # commit, together with the queued pull: one statement (``db.inserts.queue_loaded``)
        row = queue_loaded(session, DecisionRow, {"id": next_decision_id, **values})
    # held for the transaction: the caller's view of the application (reasons for the applicant) reads the
    # row from the session's identity map (weak) instead of the database
    session.info.setdefault("xiaodai.underwriting.recorded", []).append(row)
    record(
        session,
        actor=actor,
        action="credit-decision",
        subject=f"application:{application.application_id}"[:100],
        reason=_decision_reason(decision),
        payload={
            "decision_id": row.id,
            "outcome": decision.outcome,
            "reasons": [r.code for r in decision.reasons],
            "model_version": model.version,
            "policy_version": chosen.version,
            "catalogue_version": record_json["catalogue_version"],
            "bureau_pull_id": record_json["bureau_pull_id"],
        },
        version=f"model:{model.version} policy:{chosen.version}",
    )
    sources = {name: entry["source"] for name, entry in record_json["features"].items()}
    return {**result, "decision_id": row.id, "replayed": False, "feature_sources": sources}


def _decision_reason(decision: Decision) -> str:
    """The audit reason code: APPROVED, or the first (policy) reason of a decline or a referral."""
    if decision.outcome == "approve":
        return "APPROVED"
    return decision.reasons[0].code[:60] if decision.reasons else decision.outcome.upper()


def replay(session: Session, *, decision_id: int) -> dict[str, Any]:
    """Recompute a stored decision from its inputs with the model and policy versions it used."""
    row = session.get(DecisionRow, decision_id)
    if row is None:
        raise RegistryError(f"decision {decision_id} does not exist")
    policy_row = session.get(PolicyVersionRow, row.policy_version)
    assert policy_row is not None
    model = model_by_version(session, row.model_version)
    decision: Decision = decide(
        Application.from_json(
            json.loads(row.features_json)["decided"]
            if row.features_json
            else _legacy_input(json.loads(row.application_json))
        ),
        scorer=model.scorer,
        model_version=model.version,
        policy=parse_policy(policy_row.document),
        cap_book=default_cap_book(),
        protected=model.protected,
    )
    recomputed = decision.to_json()
    stored = json.loads(row.result_json)
    return {
        "decision_id": row.id,
        "identical": recomputed == stored,
        "stored": stored,
        "recomputed": recomputed,
    }


def applicant_explanation(session: Session, decision: DecisionRow) -> dict[str, list[dict[str, Any]]]:
    """What the applicant reads about a stored decision: the policy reasons as recorded, then what lowered
    the score and (approve, refer) what raised it — recomputed from the recorded model inputs with the
    model the decision used, citing only features with a catalogue source (``reasons.explainable``). The
    stored record is not changed (replay compares it as decided)."""
    result = json_text.parsed(decision.result_json)
    recorded = list(result.get("reasons", []))
    policy = [r for r in recorded if not str(r.get("code", "")).startswith("SCORE_")]
    record_json = json_text.parsed(decision.features_json) if decision.features_json else {}
    values = record_json.get("model_inputs", {}).get("values")
    if decision.score is None or values is None:  # knocked out, or decided before 0020: as recorded
        return {"reasons": recorded, "positive": []}
    model = model_by_version(session, decision.model_version)
    allowed = _explainable(model, default_catalogue(), default_mapping())
    scored = model.scorer.score_row(values).features
    adverse = applicant_reasons(model.scorer.card, scored, allowed=allowed, protected=model.protected)
    positive = (
        positive_factors(model.scorer.card, scored, allowed=allowed, protected=model.protected)
        if decision.outcome in ("approve", "refer")
        else []
    )
    return {
        "reasons": [*policy, *(r.to_json() for r in adverse)][: max(4, len(policy))],
        "positive": [r.to_json() for r in positive],
    }


# (model version and features, catalogue version, mapping version) -> what the model may cite: the same for
# every applicant (``reasons.explainable``), so computed once per versions in this process
_EXPLAINABLE: dict[tuple[str, tuple[str, ...], str, str], Explainable] = {}


def _explainable(model: LoadedModel, catalogue: Catalogue, mapping: ModelInputMapping) -> Explainable:
    key = (model.version, model.scorer.feature_names, catalogue.version, mapping.version)
    found = _EXPLAINABLE.get(key)
    if found is None:
        found = _EXPLAINABLE[key] = explainable(
            model.scorer.feature_names, catalogue=catalogue, mapping=mapping
        )
    return found
