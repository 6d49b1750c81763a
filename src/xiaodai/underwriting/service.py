"""Model registry, decisions and replay (shell): loads artifacts, stores decision records.

Every decision, model registration and activation and every new policy version is written to the audit
trail (``xiaodai.audit``) with the actor, a reason code and the model/policy version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from xiaodai.audit.trail import record
from xiaodai.db.tables import DecisionRow, ModelRow, PolicyVersionRow
from xiaodai.features.assemble import assemble
from xiaodai.features.catalogue import Catalogue, FeatureInputError, default_catalogue, refuse_looked_up
from xiaodai.features.model_inputs import default_mapping
from xiaodai.pricing.caps import default_cap_book
from xiaodai.underwriting.artifact import CompiledScorecard
from xiaodai.underwriting.decision import Application, ApplicationError, Decision, decide
from xiaodai.underwriting.policy import Policy, default_policy, parse_policy
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


def active_model(session: Session) -> LoadedModel:
    row = session.execute(select(ModelRow).where(ModelRow.active.is_(True))).scalar_one_or_none()
    if row is None:
        raise RegistryError("no active model: train one and `xiaodai model register DIR --activate`")
    return load_artifact(row.path)


def model_by_version(session: Session, version: str) -> LoadedModel:
    row = session.get(ModelRow, version)
    if row is None:
        raise RegistryError(f"model {version} is not registered")
    return load_artifact(row.path)


def _store_policy(session: Session, policy: Policy, actor: str) -> None:
    """A policy version takes effect with the first decision taken under it: stored once, audited once.

    Concurrent first decisions race to store it: the insert does nothing when the version is there
    (``ON CONFLICT DO NOTHING``; PostgreSQL waits for a concurrent insert of the same version to commit),
    only the transaction whose row went in audits the activation, and every other one checks the stored
    document instead of failing on the primary key."""
    bind = session.get_bind()
    known = (policy.version, hashlib.sha256(policy.document.encode("utf-8")).hexdigest())
    if known in _STORED_POLICIES.get(bind, ()):
        return  # this process saw it stored and committed in this database: policy versions never change
    inserted = session.execute(
        _insert_policy(session)
        .values(version=policy.version, document=policy.document)
        .on_conflict_do_nothing(index_elements=["version"])
        .returning(PolicyVersionRow.version)
    ).first()
    if inserted is not None:
        session.info.setdefault(_INSERTED_HERE, set()).add(known)
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
    if known not in session.info.get(_INSERTED_HERE, ()):  # found, and not our own uncommitted row
        _STORED_POLICIES.setdefault(bind, set()).add(known)


# Per database engine: the (policy version, document SHA-256) pairs seen already stored and committed, so
# later decisions skip the insert and the comparison (two round trips). Only a row another transaction had
# committed is remembered (never one this transaction inserted: it could still roll back); the decision's
# foreign key to policy_versions would refuse a decision whose policy row were missing.
_STORED_POLICIES: WeakKeyDictionary[Any, set[tuple[str, str]]] = WeakKeyDictionary()
_INSERTED_HERE = (
    "xiaodai.policy.inserted"  # session.info: policy rows this session inserted (maybe not committed)
)


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
        )
    except FeatureInputError as exc:
        raise _refuse(exc) from exc
    # a model trained on catalogue features (the synthetic population) reads them by name; one trained on a
    # public set reads the mapped columns; a request's ``features`` only fill columns neither provides
    inputs = {**features, **assembled.values, **mapping.inputs(assembled.values)}
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
            "mapping_version": mapping.version,
            "values": {name: inputs.get(name) for name in model.scorer.feature_names},
        },
        "decided": decided,
    }
    return decided, record_json


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
    chosen = policy or default_policy()
    check_rule_sources(chosen, default_catalogue())
    model = active_model(session)
    decided, record_json = _decision_input(
        session, application_json=application_json, user_id=user_id, model=model, actor=actor
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
    row = DecisionRow(
        application_id=application.application_id,
        outcome=decision.outcome,
        score=decision.score,
        pd=decision.pd,
        grade=decision.grade,
        model_version=model.version,
        policy_version=chosen.version,
        application_json=json.dumps(application_json, sort_keys=True, ensure_ascii=False),
        result_json=json.dumps(result, sort_keys=True, ensure_ascii=False),
        features_json=json.dumps(record_json, sort_keys=True, ensure_ascii=False),
    )
    session.add(row)
    session.flush()
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
