"""The serving process's collector settings: applied by the uvicorn factory, start-up objects frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from xiaodai.api.gc_tuning import SERVING_THRESHOLDS, tune_for_serving


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_gc")
def test_tuning_sets_the_thresholds_and_freezes_what_start_up_made() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    tune_for_serving()
    assert gc.get_threshold() == SERVING_THRESHOLDS
    assert gc.get_freeze_count() > 1_000  # the imported modules' objects at least
    assert SERVING_THRESHOLDS[0] > 700  # a young generation larger than CPython's default


@pytest.mark.usefixtures("restored_gc")
def test_the_served_app_factory_applies_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from xiaodai.api import app as app_module

    called: list[bool] = []
    monkeypatch.setattr("xiaodai.api.gc_tuning.tune_for_serving", lambda: called.append(True))
    monkeypatch.setattr("xiaodai.logging_setup.configure", lambda **_: None)
    monkeypatch.setattr(app_module, "create_app", lambda: SimpleNamespace(state=SimpleNamespace(engine=None)))
    monkeypatch.setattr(app_module, "auth_notices_url", lambda engine: None)  # no listener started here
    app_module.served_app()
    assert called == [True]
