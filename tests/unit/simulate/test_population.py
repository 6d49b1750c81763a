"""The synthetic population: reproducible, named after the catalogue, and its defaults follow its true PD."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from xiaodai.features.catalogue import default_catalogue
from xiaodai.simulate.population import INTERCEPT, generate

N = 200_000


@pytest.fixture(scope="module")
def population() -> dict[str, np.ndarray]:
    return generate(N, 11).columns


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    a, b, c = generate(2000, 5).columns, generate(2000, 5).columns, generate(2000, 6).columns
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=a[name].dtype.kind == "f"), name
    assert not np.array_equal(a["monthly_income"], c["monthly_income"])
    with pytest.raises(ValueError, match="at least 1"):
        generate(0, 1)


def test_columns_are_catalogue_features_within_their_units(population: dict[str, np.ndarray]) -> None:
    features = default_catalogue().by_name()
    extra = {"applicant_id", "true_pd", "defaulted"}
    assert {name for name in population if name not in extra} <= set(features)
    for name, values in population.items():
        feature = features.get(name)
        if feature is None:
            continue
        if feature.choices:
            assert set(values) <= set(feature.choices), name
        finite = values[~np.isnan(values)] if values.dtype.kind == "f" else values
        if feature.minimum is not None and finite.dtype.kind in "if":
            assert finite.min() >= float(feature.minimum), name
        if feature.maximum is not None and finite.dtype.kind in "if":
            assert finite.max() <= float(feature.maximum), name
    assert population["amount"].min() >= 500
    assert np.median(population["monthly_income"]) == pytest.approx(6700, rel=0.15)
    assert population["bureau_inquiries_1m"].max() <= population["bureau_inquiries_12m"].max()
    assert (population["bureau_inquiries_3m"] <= population["bureau_inquiries_6m"]).all()


def test_defaults_follow_the_true_pd(population: dict[str, np.ndarray]) -> None:
    pd_, bad = population["true_pd"], population["defaulted"]
    assert ((pd_ > 0) & (pd_ < 1)).all()
    assert 0.04 < pd_.mean() < 0.12
    tolerance = 4 * np.sqrt(pd_.mean() * (1 - pd_.mean()) / N)
    assert abs(bad.mean() - pd_.mean()) < tolerance
    edges = np.quantile(pd_, np.linspace(0, 1, 11))
    band = np.clip(np.searchsorted(edges, pd_, side="right") - 1, 0, 9)
    for b in range(10):  # calibration of the truth itself, decile by decile
        inside = band == b
        expected = pd_[inside].mean()
        assert (
            abs(bad[inside].mean() - expected) < 4 * np.sqrt(expected * (1 - expected) / inside.sum()) + 1e-3
        )


def test_the_truth_moves_the_way_it_is_documented(population: dict[str, np.ndarray]) -> None:
    pd_ = population["true_pd"]
    overdue = population["bureau_overdue_accounts_now"] == 1
    assert pd_[overdue].mean() > 2 * pd_[~overdue].mean()
    base = 1 / (1 + np.exp(-INTERCEPT))
    assert Decimal(str(round(base, 4))) == Decimal("0.018")  # the intercept alone: 1.8%
