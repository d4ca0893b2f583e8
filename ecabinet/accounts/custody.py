"""Key holders' custody keys: created from the holder's password, re-wrapped when they change it,
dropped when an administrator resets it (nobody else can re-wrap it), opened with the wrapping key
their session carries.

Who holds keys is the accounts policy's rule (``policy.holds_custody_key``); which ballots' keys they
hold is the voting domain's.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import delete, select

from ecabinet.accounts import policy
from ecabinet.accounts.models import CustodyKey, User
from ecabinet.audit import service as audit
from ecabinet.core import sealing
from ecabinet.core.actor import Actor
from ecabinet.extensions import db


def key_for_password(actor: Actor, user: User, password: str) -> bytes | None:
    """After the password was checked (sign-in, confirmation): the wrapping key of the user's custody
    key, creating the key when the user holds keys and has none, or has one their password no longer
    opens (an administrator reset it). None for users who hold no keys."""
    if not policy.holds_custody_key(user):
        return None
    row = db.session.get(CustodyKey, user.id)
    if row is not None:
        wrapping = sealing.derive_wrapping_key(password, row.salt)
        try:
            sealing.unwrap(wrapping, row.wrapped_key)
            return wrapping
        except sealing.SealError:
            pass  # wrapped under an earlier password: make a new key, the old one cannot be opened
    return _new_key(actor, user, password, row)


def _new_key(actor: Actor, user: User, password: str, row: CustodyKey | None) -> bytes:
    salt = sealing.new_salt()
    wrapping = sealing.derive_wrapping_key(password, salt)
    private, public = sealing.new_key_pair()
    if row is None:
        row = CustodyKey(user_id=user.id)
        db.session.add(row)
    row.public_key, row.wrapped_key, row.salt = public, sealing.wrap(wrapping, private), salt
    db.session.flush()
    audit.record(actor, "custody.key_created", object_type="user", object_id=user.id,
                 details={"public_key": public})
    return wrapping


def rewrap(actor: Actor, user: User, old_password: str, new_password: str) -> bytes | None:
    """The user changes their own password: the same key, wrapped under the new one."""
    row = db.session.get(CustodyKey, user.id)
    if row is None or not policy.holds_custody_key(user):
        return key_for_password(actor, user, new_password)
    try:
        private = sealing.unwrap(sealing.derive_wrapping_key(old_password, row.salt), row.wrapped_key)
    except sealing.SealError:
        return _new_key(actor, user, new_password, row)
    row.salt = sealing.new_salt()
    wrapping = sealing.derive_wrapping_key(new_password, row.salt)
    row.wrapped_key = sealing.wrap(wrapping, private)
    return wrapping


def drop(actor: Actor, user: User) -> None:
    """An administrator set a new password: the key wrapped under the old one can be opened by nobody."""
    if db.session.execute(delete(CustodyKey).where(CustodyKey.user_id == user.id)).rowcount:
        audit.record(actor, "custody.key_dropped", object_type="user", object_id=user.id)


def unlock(user_id: int, wrapping_key: bytes | None) -> X25519PrivateKey | None:
    """The holder's private key, opened with the wrapping key from their session; None if it does not fit."""
    if not wrapping_key:
        return None
    row = db.session.get(CustodyKey, user_id)
    if row is None:
        return None
    try:
        return sealing.unwrap(wrapping_key, row.wrapped_key)
    except sealing.SealError:
        return None


def public_keys(user_ids: list[int]) -> dict[int, str]:
    """The custody public keys of these users (those who have one)."""
    if not user_ids:
        return {}
    return dict(db.session.execute(select(CustodyKey.user_id, CustodyKey.public_key)
                                   .where(CustodyKey.user_id.in_(user_ids))).all())
