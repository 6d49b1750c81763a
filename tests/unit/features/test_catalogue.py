"""The feature catalogue, the validation of stated values, the model-input mapping and the sandbox bureau."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from xiaodai.features.catalogue import (
    CatalogueError,
    FeatureInputError,
    default_catalogue,
    parse_catalogue,
    refuse_looked_up,
    validate_application,
)
from xiaodai.features.model_inputs import MappingError, default_mapping, parse_mapping
from xiaodai.features.providers.bureau import CreditReport, FileBureau, SandboxBureau
from xiaodai.underwriting.policy import PolicyError, default_policy, parse_policy

CAT = default_catalogue()
STATED = {"age": 30, "monthly_income": "9000"}


def test_catalogue_declares_every_source_and_the_knock_outs_read_declared_features() -> None:
    sources = {f.source for f in CAT.features}
    assert sources == {"application", "platform", "bureau", "ecosystem"}
    assert all(f.consent == "credit_check" for f in CAT.from_source("bureau"))
    features = CAT.by_name()
    for rule in default_policy().knock_out:
        if rule.source != "application":
            assert features[rule.field].source == rule.source, rule.code
    assert {r.field for r in default_policy().knock_out if r.source == "platform"} == {
        "worst_dpd_now",
        "applications_last_30d",
        "blocklisted",
        "age_id_mismatch",
    }


def test_malformed_catalogues_are_refused() -> None:
    base = json.loads(_catalogue_text())
    bad_source = {**base, "features": [{**base["features"][0], "source": "rumour"}]}
    with pytest.raises(CatalogueError, match="unknown source"):
        parse_catalogue(json.dumps(bad_source))
    duplicate = {**base, "features": [base["features"][0], base["features"][0]]}
    with pytest.raises(CatalogueError, match="unique"):
        parse_catalogue(json.dumps(duplicate))
    bureau = next(f for f in base["features"] if f["source"] == "bureau")
    unconsented = {**base, "features": [{**bureau, "consent": None}]}
    with pytest.raises(CatalogueError, match="credit_check"):
        parse_catalogue(json.dumps(unconsented))


def _catalogue_text() -> str:
    from importlib import resources

    return resources.files("xiaodai.features").joinpath("data/catalogue.json").read_text("utf-8")


@pytest.mark.parametrize(
    "name",
    [
        "existing_overdue_days",
        "worst_dpd_now",
        "blocklisted",
        "bureau_inquiries_3m",
        "ecosystem_device_age_days",
    ],
)
def test_looked_up_names_and_aliases_are_refused(name: str) -> None:
    with pytest.raises(FeatureInputError, match=name):
        refuse_looked_up(CAT, {name: 0}, section="the application")
    refuse_looked_up(CAT, {"monthly_income": "1"}, section="the application")  # stated: fine


@pytest.mark.parametrize(
    ("stated", "error"),
    [
        ({"monthly_income": "9000"}, "age"),  # required
        ({**STATED, "age": "thirty"}, "whole number"),
        ({**STATED, "age": "３０"}, "whole number"),  # full-width digits
        ({**STATED, "amount": "１２"}, "not an amount"),
        ({**STATED, "amount": "1e2"}, "not an amount"),
        ({**STATED, "monthly_income": "1,000"}, "not an amount"),
        ({**STATED, "monthly_income": "9000.001"}, "not an amount"),
        ({**STATED, "age": 30.5}, "number written as text"),
        ({**STATED, "employment_tenure_years": "2.5"}, "whole number"),
        ({**STATED, "dependants": 21}, "at most 20"),
        ({**STATED, "monthly_income": "-1"}, "not an amount"),
        ({**STATED, "amount": "30000.01"}, "at most 30000"),
        ({**STATED, "term": 2}, "at least 3"),
        ({**STATED, "housing": "castle"}, "must be one of"),
        ({**STATED, "monthly_income": "NaN"}, "not an amount"),
        ({**STATED, "dependants": -1}, "whole number"),
        ({**STATED, "debt_to_income": "0.1"}, "may not state debt_to_income"),
    ],
)
def test_stated_values_are_validated_with_units(stated: dict[str, Any], error: str) -> None:
    with pytest.raises(FeatureInputError, match=error):
        validate_application(CAT, stated)


def test_stated_values_at_their_limits_pass_and_defaults_fill_in() -> None:
    values = validate_application(
        CAT, {**STATED, "amount": "30000", "term": 24, "dependants": 20, "housing": "rent"}
    )
    assert values["amount"] == "30000"
    assert (values["term"], values["dependants"], values["housing"]) == (24, 20, "rent")
    assert values["monthly_debt_payments"] == "0"  # default
    assert validate_application(CAT, {**STATED, "term": 3})["term"] == 3
    assert "purpose" not in validate_application(CAT, STATED)  # optional, not stated: absent


def test_model_inputs_are_computed_from_the_catalogue() -> None:
    mapping = default_mapping()
    values = {
        "employment_tenure_years": 8,
        "housing": "mortgage",
        "employment_type": "part_time",
        "monthly_income": "7500",
        "amount": "6000",
        "term": 12,
        "age": 30,
        "exposure_outstanding": "600.00",
        "bureau_balance_outstanding": "1200.00",
        "worst_dpd_12m": 0,
        "bureau_overdue_accounts_now": 0,
        "bureau_overdue_months_24m": 0,
    }
    inputs = mapping.inputs(values)
    assert inputs["Seniority"] == 8
    assert inputs["Time"] == 12
    assert (inputs["Home"], inputs["Job"]) == ("owner", "partime")
    assert (inputs["Income"], inputs["Amount"], inputs["Debt"]) == (125.0, 100.0, 30.0)
    assert inputs["Records"] == "no"
    assert inputs["Assets"] is None
    assert inputs["Price"] is None
    assert mapping.inputs({**values, "bureau_overdue_months_24m": 1})["Records"] == "yes"
    assert mapping.inputs({**values, "worst_dpd_12m": 1})["Records"] == "yes"
    assert mapping.inputs({k: v for k, v in values.items() if k != "housing"})["Home"] is None
    with pytest.raises(MappingError, match="unknown op"):
        parse_mapping(json.dumps({"version": "x", "money_scale": "1", "columns": {"A": {"op": "guess"}}}))


def test_sandbox_bureau_is_deterministic_and_never_invents_a_delinquency() -> None:
    sandbox = SandboxBureau()
    on = date(2026, 12, 1)
    reports = [sandbox.pull(subject_ref=f"user:{n}", as_of=on) for n in range(400)]
    assert reports[7] == sandbox.pull(subject_ref="user:7", as_of=on)
    assert any(not r.found for r in reports)
    assert any(r.found for r in reports)
    for r in reports:
        f = r.features()
        assert f["bureau_overdue_accounts_now"] == 0
        assert f["bureau_max_overdue_months"] < 3
        assert f["bureau_inquiries_1m"] <= f["bureau_inquiries_3m"] <= f["bureau_inquiries_6m"]
        assert f["bureau_inquiries_6m"] <= f["bureau_inquiries_12m"]
        assert f["bureau_utilisation"] is None or 0 <= float(f["bureau_utilisation"]) < 1


def test_credit_report_utilisation_and_file_provider(tmp_path: Path) -> None:
    report = CreditReport("s", "2026-12-01", True, card_limit_total="10000", card_used_total="2500")
    assert report.features()["bureau_utilisation"] == "0.2500"
    assert CreditReport("s", "2026-12-01", True).features()["bureau_utilisation"] is None
    staged = tmp_path / "reports.json"
    staged.write_text(json.dumps({"user:1": {"overdue_accounts_now": 2}}), encoding="utf-8")
    provider = FileBureau(staged)
    assert provider.pull(subject_ref="user:1", as_of=date(2026, 12, 1)).overdue_accounts_now == 2
    assert provider.pull(subject_ref="user:2", as_of=date(2026, 12, 1)) == SandboxBureau().pull(
        subject_ref="user:2", as_of=date(2026, 12, 1)
    )


def test_policy_rules_declare_a_known_source() -> None:
    raw = json.loads(default_policy().document)
    raw["knock_out"][0]["source"] = "gossip"
    with pytest.raises(PolicyError, match="source"):
        parse_policy(json.dumps(raw))


def test_a_rule_claiming_a_source_its_field_does_not_have_is_refused() -> None:
    from xiaodai.underwriting.service import RegistryError, check_rule_sources

    check_rule_sources(default_policy(), CAT)
    raw = json.loads(default_policy().document)
    raw["knock_out"].append(
        {"code": "KO_X", "field": "monthly_income", "source": "platform", "op": "lt", "value": 1}
    )
    with pytest.raises(RegistryError, match="monthly_income"):
        check_rule_sources(parse_policy(json.dumps(raw)), CAT)
