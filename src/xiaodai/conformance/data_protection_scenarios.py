"""The ``data_protection`` suite of the scenario format, translated into the product's typed inputs.

Each action is answered by the code the product itself runs, with nothing filled in that the product would
not have (a scenario without a justification gets the product's answer to an empty justification):

* ``view_profile`` / ``view_unmasked`` → ``privacy.access.decide_view`` and ``privacy.masking.display``: what
  ``privacy.service.view_person`` runs behind the staff console (``/staff/people/{id}``) and the API
  (``/api/staff/people/{id}``, ``…/unmask``), without the database; assignment is the scenario's
  ``viewer.assigned_accounts`` instead of the collection cases.
* ``write_log`` → ``privacy.policy.decide_log_line`` (``privacy.redaction``, as every log record is redacted).
* ``export_accounts_to_agency`` → ``privacy.policy.decide_agency_export`` (``collections.workflow``).
* ``request_permission`` → ``privacy.policy.decide_permission``.

A fact the product cannot take (a record value that is not text, a flag that is not true/false) raises
``ScenarioError`` naming it; the runner turns that into the scenario's error line. A record field the product
does not hold (``email``, …) is never shown: it is listed in ``not_held``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from xiaodai.conformance.scenario_format import ScenarioError
from xiaodai.privacy.access import AccessVerdict, decide_view
from xiaodai.privacy.masking import display
from xiaodai.privacy.policy import (
    Agency,
    AgencyExport,
    DataVerdict,
    PermissionRequest,
    decide_agency_export,
    decide_log_line,
    decide_permission,
)

# Scenario field name → the product's personal-data field.
RECORD_FIELDS = {
    "name": "name",
    "id_number": "id_number",
    "mobile": "phone",
    "phone": "phone",
    "bank_card": "bank_card",
    "address": "address",
    "emergency_contacts": "emergency_contacts",
}
ACCOUNT_KEYS = frozenset({"account", "account_id", "loan_id"})  # which account: not personal data
ROLE_ALIASES = {"risk_analyst": "risk", "complaints_officer": "complaint_officer"}
EXPORT_FIELD_ALIASES = {
    "phone": "mobile",
    "account": "loan_id",
    "account_id": "loan_id",
    "id_number_masked": "masked_id",
    "overdue_days": "days_past_due",
}
CONSENT_WORDS = {"granted": True, "given": True, "withdrawn": False, "refused": False}

Result = dict[str, Any]


def _obj(value: Any, where: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None:
        if required:
            raise ScenarioError(f"missing required fact {where}")
        return {}
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where} must be an object, not {type(value).__name__}")
    return value


def _text(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ScenarioError(f"missing required fact {where}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ScenarioError(f"{where} must be text, not {type(value).__name__}")
    return str(value)


def _flag(value: Any, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ScenarioError(f"{where} must be true or false, not {value!r}")
    return value


def _result(verdict: AccessVerdict | DataVerdict, **extra: Any) -> Result:
    decision = "allow" if verdict.allowed else "block"
    return {"decision": decision, "reason": verdict.reason, "reasons": list(verdict.reasons), **extra}


# --- views ---


def _roles(viewer: Mapping[str, Any]) -> set[str]:
    raw = viewer.get("roles", viewer.get("role"))
    names = [raw] if isinstance(raw, str) else raw or []
    if not isinstance(names, list):
        raise ScenarioError(f"given.viewer.role must be text or a list, not {type(raw).__name__}")
    return {ROLE_ALIASES.get(str(n), str(n)) for n in names}


def _record(given: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The record as the product holds it, product field → the scenario's name for it, and the scenario's
    fields the product does not hold (a staff view never shows them)."""
    data: dict[str, Any] = {}
    names: dict[str, str] = {}
    not_held: list[str] = []
    for key, value in _obj(given.get("record"), "given.record").items():
        if key in ACCOUNT_KEYS or value is None:
            continue
        field = RECORD_FIELDS.get(key)
        if field is None:
            not_held.append(str(key))
            continue
        if field == "emergency_contacts":
            data[field] = _contacts(value)
        else:
            data[field] = _text(value, f"given.record.{key}")
        names[field] = key
    return data, names, not_held


def _contacts(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ScenarioError("given.record.emergency_contacts must be a list")
    out = []
    for i, item in enumerate(value):
        where = f"given.record.emergency_contacts[{i}]"
        contact = _obj(item, where, required=True)
        name = _text(contact.get("name"), f"{where}.name", required=True)
        phone = _text(contact.get("phone", contact.get("mobile")), f"{where}.phone", required=True)
        out.append({"name": str(name), "phone": str(phone), "relation": str(contact.get("relation") or "")})
    return out


def _account(given: Mapping[str, Any], when: Mapping[str, Any]) -> str | None:
    asked = _text(when.get("account"), "when.account")
    held = _text(_obj(given.get("record"), "given.record").get("account"), "given.record.account")
    if asked is not None and held is not None and asked != held:
        raise ScenarioError(f"when.account {asked!r} is not the account of given.record ({held!r})")
    return asked if asked is not None else held


def _view(given: Mapping[str, Any], when: Mapping[str, Any], unmask: tuple[str, ...]) -> Result:
    viewer = _obj(given.get("viewer"), "given.viewer", required=True)
    data, names, not_held = _record(given)
    account = _account(given, when)
    listed = viewer.get("assigned_accounts") or []
    if not isinstance(listed, list):
        raise ScenarioError("given.viewer.assigned_accounts must be a list")
    justification = _text(when.get("justification"), "when.justification") or ""
    verdict = decide_view(
        _roles(viewer),
        is_self=False,  # the staff console and the staff API never show a person to themselves
        assigned=account is not None and account in {str(a) for a in listed},
        unmask=unmask,
        justification=justification,
        break_glass=_flag(when.get("break_glass"), "when.break_glass"),
    )
    if not verdict.allowed:
        return _result(verdict)
    shown = display(data, verdict.unmask)
    shown.pop("unmasked")
    extra = {"not_held": not_held} if not_held else {}
    return _result(verdict, display={names[field]: value for field, value in shown.items()}, **extra)


def view_profile(given: Mapping[str, Any], when: Mapping[str, Any]) -> Result:
    return _view(given, when, ())


def view_unmasked(given: Mapping[str, Any], when: Mapping[str, Any]) -> Result:
    raw = when.get("fields", when.get("field"))
    if raw is None:
        raise ScenarioError("missing required fact when.field")
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names:
        raise ScenarioError("when.field must name a field")
    # A name the product does not hold goes through as it is: the product refuses it (UNKNOWN_FIELD).
    return _view(given, when, tuple(RECORD_FIELDS.get(str(n), str(n)) for n in names))


# --- log lines, exports, permissions ---


def write_log(given: Mapping[str, Any], when: Mapping[str, Any]) -> Result:
    event = _obj(given.get("log_event"), "given.log_event")
    line = _text(event.get("line", when.get("line")), "given.log_event.line", required=True)
    answer = decide_log_line(str(line))
    return _result(answer.verdict, written=answer.written, identifiers=list(answer.identifiers))


def _unreachable(given: Mapping[str, Any]) -> bool:
    flags = _obj(given.get("flags"), "given.flags")
    record = _obj(given.get("record"), "given.record")
    raw = flags.get("debtor_unreachable", record.get("debtor_unreachable", given.get("borrower_unreachable")))
    if isinstance(raw, Mapping):
        return str(raw.get("status", "unreachable")).lower() not in ("reachable", "false", "no")
    return _flag(raw, "given.flags.debtor_unreachable")


def _consent(given: Mapping[str, Any]) -> bool | None:
    record = _obj(given.get("record"), "given.record")
    consents = _obj(given.get("consents", record.get("consents")), "given.consents")
    raw = consents.get("agency_sharing")
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in CONSENT_WORDS:
        return CONSENT_WORDS[raw.lower()]
    raise ScenarioError(
        f"given.consents.agency_sharing must be true, false, granted or withdrawn, not {raw!r}"
    )


def export_accounts_to_agency(given: Mapping[str, Any], when: Mapping[str, Any]) -> Result:
    raw = _obj(given.get("agency"), "given.agency", required=True)
    agency = Agency(
        id=_text(raw.get("id"), "given.agency.id"),
        on_whitelist=_flag(raw.get("on_whitelist"), "given.agency.on_whitelist"),
        entrustment_contract_id=_text(
            raw.get("entrustment_contract_id"), "given.agency.entrustment_contract_id"
        ),
        pia_id=_text(raw.get("pia_id"), "given.agency.pia_id"),
    )
    fields = when.get("fields") or []
    if not isinstance(fields, list):
        raise ScenarioError("when.fields must be a list")
    export = AgencyExport(
        fields=tuple(EXPORT_FIELD_ALIASES.get(str(f), str(f)) for f in fields),
        purpose=_text(when.get("purpose"), "when.purpose"),
        borrower_unreachable=_unreachable(given),
        agency_sharing_consent=_consent(given),
    )
    return _result(decide_agency_export(agency, export))


def request_permission(given: Mapping[str, Any], when: Mapping[str, Any]) -> Result:
    app = _obj(given.get("app"), "given.app")
    request = PermissionRequest(
        permission=str(_text(when.get("permission"), "when.permission", required=True)),
        flow=_text(app.get("flow"), "given.app.flow"),
        purpose=_text(when.get("purpose"), "when.purpose"),
    )
    return _result(decide_permission(request))


ACTIONS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Result]] = {
    "view_profile": view_profile,
    "view_unmasked": view_unmasked,
    "write_log": write_log,
    "export_accounts_to_agency": export_accounts_to_agency,
    "request_permission": request_permission,
}


def evaluate_data_protection(scenario: Mapping[str, Any]) -> Result:
    given = _obj(scenario.get("given"), "given")
    when = _obj(scenario.get("when"), "when", required=True)
    action = when.get("action")
    if action not in ACTIONS:
        raise ScenarioError(f"unknown data_protection action {action!r} in when.action")
    return ACTIONS[str(action)](given, when)
