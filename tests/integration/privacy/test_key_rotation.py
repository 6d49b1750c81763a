"""Key rotation: approved by a second admin, re-encrypts in committed batches; killed mid-way (fault injection
and a real SIGKILL) and resumed, every record stays readable and ends under the new key. Both databases."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.accounts.service import sign_up
from xiaodai.approvals import service as approvals
from xiaodai.db.tables import DataRequestRow, PersonalDataRow, UserRow
from xiaodai.privacy import service as privacy
from xiaodai.privacy import store
from xiaodai.privacy.keys import current_ring

PEOPLE = 120


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xiaodai.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _versions(factory: sessionmaker[Session]) -> dict[int, int]:
    with factory() as s:
        rows = s.execute(
            select(PersonalDataRow.key_version, func.count()).group_by(PersonalDataRow.key_version)
        ).all()
    return {int(v): int(n) for v, n in rows}


def _all_readable(factory: sessionmaker[Session]) -> None:
    ring = current_ring()
    with factory() as s:
        for row in s.execute(select(PersonalDataRow)).scalars():
            data = store.read_fields(ring, row)
            assert data["phone"] == f"139{row.user_id:08d}"
            assert data["name"] == f"借款人{row.user_id}"


def test_rotation_killed_and_resumed(
    db_url: str, factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIAODAI_KEYRING_FILE", str(tmp_path / "ring.json"))
    ring = current_ring()
    with factory() as s, s.begin():
        admins = [
            sign_up(
                s,
                email=f"admin{i}@x.cn",
                name="a",
                password="correct horse 1",
                kind="staff",
                roles=("admin",),
            )
            for i in (1, 2)
        ]
        for n in range(PEOPLE):
            user = UserRow(kind="borrower", email=f"b{n}@x.cn", password_hash="!", roles="")
            s.add(user)
            s.flush()
            user.set_name(f"借款人{user.id}")
            store.write_fields(s, ring, user.id, {"name": f"借款人{user.id}", "phone": f"139{user.id:08d}"})
        maker, checker = admins[0].id, admins[1].id
        for user in s.execute(select(UserRow).where(UserRow.kind == "borrower").limit(3)).scalars():
            privacy.request_correction(
                s, user=user, changes={"address": "上海市浦东新区世纪大道1号"}, ring=ring
            )
    assert _versions(factory) == {1: PEOPLE}
    env = {**os.environ, "XIAODAI_DATABASE_URL": db_url, "XIAODAI_KEYRING_FILE": str(tmp_path / "ring.json")}
    added = _cli(env, "keys", "add", "--json")
    assert added.returncode == 0, added.stderr
    with factory() as s, s.begin():
        request = approvals.request(
            s,
            maker=s.get(UserRow, maker),  # type: ignore[arg-type]
            operation="key_rotate",
            params={"version": 2},
            reason="annual key rotation",
        )
    with factory() as s, s.begin(), pytest.raises(Exception, match="CHECKER_IS_MAKER"):
        approvals.approve(s, checker=s.get(UserRow, maker), approval_id=request["id"])  # type: ignore[arg-type]
    with factory() as s, s.begin():
        approvals.approve(s, checker=s.get(UserRow, checker), approval_id=request["id"])  # type: ignore[arg-type]
    assert current_ring().current == 2
    _all_readable(factory)  # nothing re-encrypted yet, everything readable

    crashed = _cli(
        {**env, "XIAODAI_FAULT_ROTATE_AFTER_BATCHES": "3"}, "keys", "rotate", "--batch", "10", "--json"
    )
    assert crashed.returncode == 137
    assert _versions(factory) == {1: PEOPLE - 30, 2: 30}
    _all_readable(factory)

    proc = subprocess.Popen(  # a real kill at a random moment
        [sys.executable, "-m", "xiaodai.cli.main", "keys", "rotate", "--batch", "1", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.uniform(1.0, 2.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _all_readable(factory)

    status = _cli(env, "keys", "status", "--json")
    assert status.returncode == 0, status.stderr
    resumed = _cli(env, "keys", "rotate", "--batch", "25", "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert _versions(factory) == {2: PEOPLE}
    _all_readable(factory)
    with factory() as s:
        tokens = s.execute(select(DataRequestRow.request_enc)).scalars().all()
    assert len(tokens) == 3
    assert all(t.startswith("v2.") for t in tokens)
    with factory() as s:
        names = s.execute(select(UserRow.name_enc)).scalars().all()
        assert all(str(t).startswith("v2.") for t in names), "account names are re-encrypted too"
        borrower = s.execute(select(UserRow).where(UserRow.kind == "borrower").limit(1)).scalar_one()
        assert borrower.name == f"借款人{borrower.id}"
    assert '"rows_to_reencrypt": 0' in _cli(env, "keys", "status", "--json").stdout
