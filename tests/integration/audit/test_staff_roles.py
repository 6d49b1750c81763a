"""An admin changes a staff member's roles, on SQLite and PostgreSQL: audited, takes effect on the next
request (API tokens too), and the last admin cannot lose the admin role."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xiaodai.accounts import service as accounts
from xiaodai.db.tables import AuditEventRow, UserRow

PASSWORD = "correct horse 1"


def _staff(s: Session, email: str, *roles: str) -> int:
    return accounts.sign_up(s, email=email, name=email[:3], password=PASSWORD, kind="staff", roles=roles).id


def _get(s: Session, user_id: int) -> UserRow:
    row = s.get(UserRow, user_id)
    assert row is not None
    return row


def test_roles_change_is_audited_and_the_last_admin_stays(factory: sessionmaker[Session]) -> None:
    with factory() as s, s.begin():
        admin = _staff(s, "adm@example.com", "admin")
        clerk = _staff(s, "clk@example.com", "collector")
        borrower = accounts.sign_up(s, email="b@example.com", name="张三", password=PASSWORD).id
    with factory() as s, s.begin():
        done = accounts.set_roles(s, admin=_get(s, admin), user_id=clerk, roles=["auditor", "collector"])
    assert done == {"user_id": clerk, "roles": ["auditor", "collector"], "changed": True}
    with factory() as s, s.begin():
        assert accounts.roles_of(_get(s, clerk)) == {"auditor", "collector"}
        event = s.execute(select(AuditEventRow).where(AuditEventRow.action == "roles-change")).scalar_one()
        assert (event.actor, event.subject) == (f"user:{admin}", f"user:{clerk}")
        assert json.loads(event.payload)["before"] == ["collector"]
        assert json.loads(event.payload)["after"] == ["auditor", "collector"]
    for roles, error in (
        ([], "choose at least one role"),
        (["wizard"], "unknown roles"),
    ):
        with factory() as s, s.begin(), pytest.raises(accounts.AccountError, match=error):
            accounts.set_roles(s, admin=_get(s, admin), user_id=clerk, roles=roles)
    with factory() as s, s.begin(), pytest.raises(accounts.AccountError, match="only staff"):
        accounts.set_roles(s, admin=_get(s, admin), user_id=borrower, roles=["auditor"])
    with factory() as s, s.begin(), pytest.raises(accounts.ForbiddenError, match="ROLE_REQUIRED"):
        accounts.set_roles(s, admin=_get(s, clerk), user_id=clerk, roles=["admin"])
    # the only admin removing their own admin role: refused, nothing changed
    with factory() as s, s.begin(), pytest.raises(accounts.ForbiddenError, match="LAST_ADMIN"):
        accounts.set_roles(s, admin=_get(s, admin), user_id=admin, roles=["auditor"])
    with factory() as s, s.begin():
        assert accounts.roles_of(_get(s, admin)) == {"admin"}
        # with a second admin, the first may step down
        accounts.set_roles(s, admin=_get(s, admin), user_id=clerk, roles=["admin"])
    with factory() as s, s.begin():
        accounts.set_roles(s, admin=_get(s, admin), user_id=admin, roles=["auditor"])
    with factory() as s, s.begin():
        assert accounts.roles_of(_get(s, admin)) == {"auditor"}
        with pytest.raises(accounts.ForbiddenError, match="LAST_ADMIN"):
            accounts.set_roles(s, admin=_get(s, clerk), user_id=clerk, roles=["collector"])
