"""Key holders' custody keys (the secret ballot's keys are sealed to them): made for chairs and the
secretariat only, opened only with the key the holder's own session carries, never stored openable."""

from __future__ import annotations

import base64

from sqlalchemy import inspect, select, text

from ecabinet.accounts import custody
from ecabinet.accounts import service as accounts
from ecabinet.accounts.auth import CUSTODY_KEY
from ecabinet.accounts.models import CustodyKey, Role
from ecabinet.core import sealing
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import login

SYSTEM = Actor.system("test")
NEW_PASSWORD = "another-long-password-2026"


def _key_row(user) -> CustodyKey | None:
    db.session.expire_all()
    return db.session.get(CustodyKey, user.id)


def test_chairs_and_the_secretariat_hold_keys_nobody_else(users):
    holders = {role for role, user in users.items() if _key_row(user) is not None}
    assert holders == {Role.CHAIR.value, Role.SECRETARY.value}


def test_signing_in_gives_the_session_the_key_and_the_database_nothing_that_opens_it(app, client, users):
    chair = users["chair"]
    login(client, chair.email, PASSWORD)
    with client.session_transaction() as s:
        wrapping = base64.b64decode(s[CUSTODY_KEY])
    assert custody.unlock(chair.id, wrapping) is not None
    # Nothing stored holds the wrapping key or the private key, in any table.
    private = sealing.private_bytes(custody.unlock(chair.id, wrapping))
    needles = {base64.b64encode(wrapping).decode(), wrapping.hex(), base64.b64encode(private).decode(), private.hex()}
    db.session.rollback()
    for table in inspect(db.engine).get_table_names():
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 - catalogue names
            dump = " ".join(str(v) for v in row)
            assert not any(n in dump for n in needles), table


def test_members_sessions_carry_no_key(client, users):
    login(client, users["member"].email, PASSWORD)
    with client.session_transaction() as s:
        assert CUSTODY_KEY not in s


def test_a_wrong_or_missing_key_opens_nothing(users):
    assert custody.unlock(users["chair"].id, None) is None
    assert custody.unlock(users["chair"].id, b"\x00" * 32) is None
    assert custody.unlock(users["member"].id, b"\x00" * 32) is None


def test_changing_ones_own_password_keeps_the_key_under_the_new_password(users):
    secretary = users["secretary"]
    before = _key_row(secretary).public_key
    new_wrapping = accounts.change_own_password(Actor(secretary), secretary, PASSWORD, NEW_PASSWORD)
    db.session.commit()
    row = _key_row(secretary)
    assert row.public_key == before
    assert custody.unlock(secretary.id, new_wrapping) is not None
    assert custody.unlock(secretary.id, sealing.derive_wrapping_key(PASSWORD, row.salt)) is None


def test_an_administrators_reset_drops_the_key_and_the_next_sign_in_makes_a_new_one(client, users):
    chair = users["chair"]
    before = _key_row(chair).public_key
    accounts.reset_password(Actor(users["admin"]), chair, NEW_PASSWORD)
    db.session.commit()
    assert _key_row(chair) is None
    login(client, chair.email, NEW_PASSWORD)
    row = _key_row(chair)
    assert row is not None and row.public_key != before
    actions = db.session.scalars(text("SELECT action FROM audit_entry WHERE action LIKE 'custody.%' "
                                      "ORDER BY id")).all()
    assert actions[-2:] == ["custody.key_dropped", "custody.key_created"]


def test_a_role_change_to_chair_gives_a_key_at_the_next_sign_in(client, users):
    member = users["member"]
    accounts.update_user(Actor(users["admin"]), member, accounts.UserData(
        email=member.email, name=member.name, title=member.title, organisation=member.organisation, role=Role.CHAIR))
    db.session.commit()
    assert _key_row(member) is None
    login(client, member.email, PASSWORD)
    assert _key_row(member) is not None
    assert db.session.scalar(select(CustodyKey.user_id).where(CustodyKey.user_id == member.id)) == member.id
