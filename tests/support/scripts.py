"""A script of ``benchmarks/`` imported as a module (the scripts are not a package), for the tests of its
pure parts; registered in ``sys.modules`` under its file name, loaded once per process."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@functools.cache
def benchmark_script(name: str) -> Any:
    """``benchmarks/<name>.py`` as a module."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module
