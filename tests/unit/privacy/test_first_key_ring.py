"""The first key ring of an embedded install is created once, whoever asks first: workers starting
together (``xiaodai serve --workers N`` with no ring provisioned) all get the same ring, and the file is
never half-written. Before, each wrote its own ring through one shared temporary name: a worker could read
a truncated file (a 500 at its first sign-up) or encrypt with a ring another worker then replaced."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

from xiaodai.privacy import keys
from xiaodai.privacy.crypto import KeyRing, create_file, load_file, save_file


def _first_ring(args: tuple[str, object]) -> str:
    path, barrier = args
    os.environ["XIAODAI_KEYRING_FILE"] = path
    os.environ.pop("XIAODAI_KEYRING", None)
    keys._cache.clear()
    barrier.wait()  # type: ignore[attr-defined]
    return json.dumps(keys.current_ring().to_json(), sort_keys=True)


def test_processes_starting_together_share_one_ring(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keyring.json"
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        barrier = manager.Barrier(8)
        with context.Pool(8) as pool:
            rings = pool.map(_first_ring, [(str(path), barrier)] * 8)
    assert len(set(rings)) == 1  # one ring for everyone
    assert json.dumps(load_file(path).to_json(), sort_keys=True) == rings[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["keyring.json"]  # no temporary file left


def test_create_file_never_replaces_and_save_file_does(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    first, second = KeyRing.generate(), KeyRing.generate()
    assert create_file(first, path) is True
    assert create_file(second, path) is False
    assert load_file(path).to_json() == first.to_json()
    save_file(second, path)  # a rotation replaces it
    assert load_file(path).to_json() == second.to_json()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["keyring.json"]
