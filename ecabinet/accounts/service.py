"""Account rules: creating and changing users, signing in and out, two-factor codes.

Every change is audited in the same transaction; the caller's boundary commits it. Revoking a sign-in
session sends the ``session_revoked`` signal once the revocation has committed, which the live domain
answers by closing that session's sockets.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from blinker import signal
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import joinedload

from ecabinet.accounts import custody
from ecabinet.accounts.models import Role, RoleSetting, User, UserSession
from ecabinet.audit import service as audit
from ecabinet.core import uow
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.organisations import service as organisations

# Sent with the ids of UserSession rows that were just revoked (after commit).
session_revoked = signal("ecabinet.accounts.session_revoked")

# argon2id with the library's defaults (RFC 9106 low-memory profile). The test suite alone may ask for
# a cheap profile, so that hundreds of sign-ins do not dominate its run time.
_hasher = (PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
           if os.environ.get("ECABINET_FAST_PASSWORD_HASH_FOR_TESTS") == "1" else PasswordHasher())
# A real hash, so that an unknown email costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
FIELD_LIMITS = {"name": 120, "title": 200, "organisation": 200, "email": 254}
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(DomainError):
    """A request about accounts that cannot be carried out; the message says why."""


# --- passwords -----------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("The password must have at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("The password must have at most %(n)s characters.", n=MAX_PASSWORD_LENGTH)


def _password_matches(user: User | None, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# --- users ---------------------------------------------------------------------------------------

@dataclass
class UserData:
    email: str
    name: str
    title: str = ""
    organisation: str = ""
    role: Role = Role.MEMBER
    # The organisation picked from the list; when None, ``organisation`` is matched to the list by name.
    organisation_id: int | None = None

    def cleaned(self) -> UserData:
        data = UserData(
            email=self.email.strip().lower(),
            name=self.name.strip(),
            title=self.title.strip(),
            organisation=self.organisation.strip(),
            role=Role(self.role),
            organisation_id=self.organisation_id,
        )
        if not data.name:
            raise AccountError("The name is required.")
        if not _EMAIL_RE.match(data.email):
            raise AccountError("The email address is not valid.")
        for field, limit in FIELD_LIMITS.items():
            if len(getattr(data, field)) > limit:
                raise AccountError("The field %(field)s is longer than %(n)s characters.", field=field, n=limit)
        return data


def _with_organisation(data: UserData, keep: int | None = None) -> UserData:
    """The data with its organisation resolved against the list: the picked one (active, or the one the
    user already has), else the one of the typed name, else the typed name alone."""
    try:
        organisation = organisations.resolve(data.organisation_id, data.organisation, keep=keep)
    except organisations.UnusableOrganisation as exc:
        raise AccountError("Please choose the ministry or organisation from the list: "
                           "the one given is unknown or no longer active.") from exc
    if organisation is not None:
        data.organisation, data.organisation_id = organisation.name, organisation.id
    return data


@organisations.renamed.register("accounts")
def _organisation_renamed(organisation_id: int, name: str) -> None:
    """Users keep their organisation's name (the tasks page finds a ministry's tasks by it)."""
    db.session.execute(update(User).where(User.organisation_id == organisation_id).values(organisation=name))


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def list_users(role: Role | None = None) -> list[User]:
    query = select(User).order_by(User.role, User.name)
    if role is not None:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def _email_taken(email: str, except_id: int | None = None) -> bool:
    query = select(func.count()).select_from(User).where(User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    return bool(db.session.scalar(query))


def create_user(actor: Actor, data: UserData, password: str) -> User:
    data = _with_organisation(data.cleaned())
    if _email_taken(data.email):
        raise AccountError("A user with this email address already exists.")
    user = User(email=data.email, name=data.name, title=data.title, organisation=data.organisation,
                organisation_id=data.organisation_id, role=data.role, password_hash=hash_password(password),
                active=True)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", object_type="user", object_id=user.id,
                 details={"email": user.email, "role": user.role.value})
    custody.key_for_password(actor, user, password)
    return user


def update_user(actor: Actor, user: User, data: UserData) -> User:
    data = _with_organisation(data.cleaned(), keep=user.organisation_id)
    if _email_taken(data.email, except_id=user.id):
        raise AccountError("A user with this email address already exists.")
    if user.id == actor.user_id and data.role is not user.role:
        raise AccountError("You cannot change your own role.")
    changes = {}
    for field in ("email", "name", "title", "organisation", "role"):
        old, new = getattr(user, field), getattr(data, field)
        if old != new:
            changes[field] = [str(old), str(new)]
            setattr(user, field, new)
    user.organisation_id = data.organisation_id
    if not changes:
        return user
    revoked: list[int] = []
    if "role" in changes:
        # A new role means new rights: make every device sign in again under the new role.
        revoked = _revoke_all_sessions(user)
    audit.record(actor, "user.update", object_type="user", object_id=user.id, details=changes)
    _announce(revoked)
    return user


def set_active(actor: Actor, user: User, active: bool) -> None:
    if user.id == actor.user_id and not active:
        raise AccountError("You cannot deactivate your own account.")
    if user.active == active:
        return
    user.active = active
    revoked = [] if active else _revoke_all_sessions(user)
    audit.record(actor, "user.activate" if active else "user.deactivate", object_type="user", object_id=user.id)
    _announce(revoked)


def reset_password(actor: Actor, user: User, new_password: str) -> None:
    """An administrator sets a new password. The user's custody key, wrapped under the old one, is
    dropped: nobody can re-wrap it (the next sign-in makes a new one)."""
    _set_password(actor, user, new_password, "user.password_reset")
    custody.drop(actor, user)


def change_own_password(actor: Actor, user: User, current: str, new_password: str) -> bytes | None:
    """The user changes their own password: their custody key is re-wrapped under the new one. Returns
    its new wrapping key, for the session the user goes on with (None for users who hold no keys)."""
    if not _password_matches(user, current):
        audit.record(actor, "user.password_change_failed", object_type="user", object_id=user.id)
        raise AccountError.recorded_refusal("The current password is wrong.")
    _set_password(actor, user, new_password, "user.password_reset")
    return custody.rewrap(actor, user, current, new_password)


# --- own display preferences ----------------------------------------------------------------------

# The interface's text size: "large" grows every page (templates/base.html puts it on <html>).
TEXT_SIZES = ("normal", "large")


def set_text_size(user: User, size: str) -> None:
    """The user's own text size, for every page on every device. A reading preference that changes
    nobody's rights or records, so it is not written to the audit log."""
    if size not in TEXT_SIZES:
        raise AccountError("Please choose a text size from the list: normal or large.")
    user.text_size = size
    db.session.flush()


def _set_password(actor: Actor, user: User, new_password: str, action: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    revoked = _revoke_all_sessions(user)
    audit.record(actor, action, object_type="user", object_id=user.id)
    _announce(revoked)


# --- two-factor ----------------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str, issuer: str = "e-Cabinet") -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def totp_valid(secret: str, code: str) -> bool:
    code = (code or "").strip().replace(" ", "")
    return bool(re.fullmatch(r"\d{6}", code)) and pyotp.TOTP(secret).verify(code, valid_window=1)


def enable_totp(actor: Actor, user: User, secret: str, code: str) -> None:
    if not totp_valid(secret, code):
        raise AccountError("The code does not match. Check the time on your phone and try again.")
    user.totp_secret = secret
    audit.record(actor, "user.totp_enable", object_type="user", object_id=user.id)


def disable_totp(actor: Actor, user: User) -> None:
    if totp_required_for(user.role):
        raise AccountError("Two-factor sign-in is mandatory for this role.")
    user.totp_secret = None
    audit.record(actor, "user.totp_disable", object_type="user", object_id=user.id)


def totp_required_for(role: Role) -> bool:
    setting = db.session.get(RoleSetting, role)
    return bool(setting and setting.require_totp)


def role_settings() -> dict[Role, bool]:
    stored = {s.role: s.require_totp for s in db.session.scalars(select(RoleSetting))}
    return {role: stored.get(role, False) for role in Role}


def set_totp_required(actor: Actor, role: Role, required: bool) -> None:
    setting = db.session.get(RoleSetting, role) or RoleSetting(role=role)
    setting.require_totp = required
    db.session.add(setting)
    audit.record(actor, "role.totp_required", object_type="role", object_id=role.value,
                 details={"required": required})


# --- signing in and out --------------------------------------------------------------------------

@dataclass
class PasswordCheck:
    user: User | None
    needs_totp: bool = False
    needs_totp_enrolment: bool = False
    custody_key: bytes | None = None  # the wrapping key of a key holder's custody key, for their session


def check_password(actor: Actor, email: str, password: str) -> PasswordCheck:
    """First step of signing in. A failure is audited and answered with one message for every cause
    except a disabled account, whose owner needs to know to call the secretariat."""
    email = (email or "").strip().lower()[:FIELD_LIMITS["email"]]
    user = find_user_by_email(email) if email else None
    if not _password_matches(user, (password or "")[:MAX_PASSWORD_LENGTH]):
        audit.record(actor, "login.failed", object_type="user", object_id=user.id if user else None,
                     details={"email": email, "reason": "bad_credentials"})
        raise AccountError.recorded_refusal("The email or password is wrong.")
    assert user is not None
    if not user.active:
        audit.record(actor, "login.failed", object_type="user", object_id=user.id,
                     details={"email": email, "reason": "disabled"})
        raise AccountError.recorded_refusal("This account is disabled. Please contact the secretariat.")
    return PasswordCheck(user=user, needs_totp=user.totp_enabled,
                         needs_totp_enrolment=not user.totp_enabled and totp_required_for(user.role),
                         custody_key=custody.key_for_password(actor, user, password))


def record_invalid_login(actor: Actor, fields: list[str]) -> None:
    audit.record(actor, "login.failed", details={"reason": "invalid_form", "fields": fields})


def check_second_factor(actor: Actor, user: User, code: str) -> None:
    if not user.totp_secret or not totp_valid(user.totp_secret, code):
        audit.record(actor, "login.failed", object_type="user", object_id=user.id,
                     details={"email": user.email, "reason": "bad_totp"})
        raise AccountError.recorded_refusal("The code is wrong or has expired.")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(actor: Actor, user: User, user_agent: str | None) -> str:
    """Record a sign-in; return the secret token the caller keeps in the signed session cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, created_at=now,
                               last_seen_at=now, authenticated_at=now, ip=actor.ip,
                               user_agent=(user_agent or "")[:300]))
    audit.record(Actor(user, actor.ip), "login.success", object_type="user", object_id=user.id)
    return token


# The user in the same statement, built once: these run for every request and every socket event,
# and building a select costs about as much Python as running it.
_SESSION_AND_USER = (select(UserSession).options(joinedload(UserSession.user))
                     .where(UserSession.token_hash == bindparam("token_hash")))


_SESSION_AND_USER_BY_ID = (select(UserSession).options(joinedload(UserSession.user))
                           .where(UserSession.id == bindparam("session_id")))


def live_session(session_id: int, user_id: int) -> UserSession | None:
    """A socket's session by its id (the socket's handshake was checked in full), or None once it has
    been revoked, its user disabled, or it is not that user's: one statement, with the user."""
    row = db.session.scalar(_SESSION_AND_USER_BY_ID, {"session_id": session_id})
    if row is None or row.user_id != user_id or row.revoked_at is not None or not row.user.active:
        return None
    return row


def session_for_token(token: str | None) -> UserSession | None:
    """The live session behind a cookie token, or None if it is unknown, revoked, or its user is disabled."""
    if not token:
        return None
    row = db.session.scalar(_SESSION_AND_USER, {"token_hash": _token_hash(token)})
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row


# How stale a session's last_seen_at may get before a use rewrites it. The idle limit is hours, so
# minutes of precision are plenty; a shorter step made a room voting at once also write 2,000 sessions
# (a socket's every event reads its session, and a vote is often a tablet's first event in minutes).
SESSION_TOUCH_EVERY = timedelta(minutes=5)


def touch_session(row: UserSession, lifetime: timedelta) -> bool:
    """Keep a session alive on use; return False (and revoke it) once it has been idle too long.

    The caller commits the change (``row`` is then modified): the touch is a unit of work of its own."""
    now = utcnow()
    if now - row.last_seen_at > lifetime:
        row.revoked_at = now
        _announce([row.id])
        return False
    if now - row.last_seen_at > SESSION_TOUCH_EVERY:
        row.last_seen_at = now
    return True


# --- holding a session to its browser -------------------------------------------------------------
# A sign-in is held to the browser it was made in, not to an address: a tablet moves between the
# meeting room's Wi-Fi and 4G (its address changes, legitimately), but its browser does not. Version
# numbers are left out of the comparison, so that the browser or the tablet's system updating itself
# during a sign-in keeps it. A User-Agent is the client's own claim: this refuses a cookie copied into
# another browser or program as it is, not a thief who also copies the User-Agent.

_VERSIONS = re.compile(r"\d+(?:[._]\d+)*")
AGENT_IN_AUDIT = 120  # characters of each User-Agent kept in the audit entry of a replayed cookie


def browser_fingerprint(user_agent: str | None) -> str:
    """The browser a User-Agent names, without its version numbers."""
    return _VERSIONS.sub("#", (user_agent or "")[:300]).strip()


def hold_to_browser(actor: Actor, row: UserSession, user_agent: str | None) -> bool:
    """Whether this use of a session comes from the browser it was signed in with.

    If not, the cookie was replayed elsewhere: the session is revoked (its owner signs in again; the
    copy is worthless) and the replay audited with both User-Agents. From the same browser at another
    address, the session goes on and the new address is recorded: ``ip`` becomes the last address, and
    the change is audited. The caller commits (``row`` is then modified)."""
    if browser_fingerprint(user_agent) != browser_fingerprint(row.user_agent):
        row.revoked_at = utcnow()
        audit.record(actor, "security.session_replayed", object_type="user", object_id=row.user_id,
                     details={"session_id": row.id,
                              "signed_in_with": (row.user_agent or "")[:AGENT_IN_AUDIT],
                              "replayed_with": (user_agent or "")[:AGENT_IN_AUDIT]})
        _announce([row.id])
        return False
    if actor.ip != row.ip:
        audit.record(Actor(row.user, actor.ip), "session.address_changed", object_type="user",
                     object_id=row.user_id, details={"session_id": row.id, "from": row.ip, "to": actor.ip})
        row.ip = actor.ip
    return True


def reauthenticate(actor: Actor, row: UserSession, password: str, code: str | None = None) -> bytes | None:
    """Confirm a signed-in user's password again, for acts that need a fresh sign-in. Returns the
    wrapping key of their custody key (None for users who hold no keys), for their session."""
    user = row.user
    if not _password_matches(user, password or ""):
        audit.record(actor, "reauth.failed", object_type="user", object_id=user.id)
        raise AccountError.recorded_refusal("The password is wrong.")
    if user.totp_secret and not totp_valid(user.totp_secret, code or ""):
        audit.record(actor, "reauth.failed", object_type="user", object_id=user.id)
        raise AccountError.recorded_refusal("The code is wrong or has expired.")
    row.authenticated_at = utcnow()
    audit.record(actor, "reauth.success", object_type="user", object_id=user.id)
    return custody.key_for_password(actor, user, password)


def end_session(actor: Actor, token: str | None) -> None:
    row = session_for_token(token)
    if row is None:
        return
    row.revoked_at = utcnow()
    audit.record(actor, "logout", object_type="user", object_id=row.user_id)
    _announce([row.id])


def _revoke_all_sessions(user: User) -> list[int]:
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now
    return [row.id for row in rows]


def _announce(session_ids: list[int]) -> None:
    """Close the sockets of these sessions once their revocation has committed (never on a rollback)."""
    if session_ids:
        uow.after_commit(session_revoked.send, None, session_ids=session_ids)
