"""The demo's trained model, trained once per test run and shared by every xdist worker.

``xiaodai.demo.seed.train_demo_model`` (20,000 synthetic applicants, 2-fold scorecard) costs ~15 s of CPU.
The demo world tests, the browser demo and the no-plaintext demo run each need it; each xdist worker used to
train it again. The first worker to ask trains it into the run's shared temporary folder under an exclusive
file lock; the others wait on the lock and read the finished artifact (``register_model`` copies it into its
own model store, so nobody writes to the shared folder afterwards). The folder belongs to this run only:
nothing is reused across runs or source changes.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

_DONE = "artifact-path.txt"


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The temporary folder of the whole run: the parent of each worker's own basetemp under xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared_demo_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of the demo's trained artifact (the same one ``xiaodai demo seed`` would train)."""
    folder = run_folder(tmp_path_factory) / "shared-demo-model"
    folder.mkdir(exist_ok=True)
    done = folder / _DONE
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                from xiaodai.demo.seed import train_demo_model

                artifact = train_demo_model(folder / "work")
                done.write_text(str(artifact), encoding="utf-8")  # written last: the artifact is complete
            return Path(done.read_text(encoding="utf-8"))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
