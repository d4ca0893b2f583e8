"""The list of organisations: added, renamed, reordered and deactivated, never deleted (users, agenda
items and action items keep pointing at them).

Every change is audited in the same transaction; the caller's boundary commits it. Other domains pick an
organisation through ``usable``: the one of that id when it is active (or is the one already linked).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select

from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.core.hooks import Hook
from ecabinet.extensions import db
from ecabinet.organisations import policy
from ecabinet.organisations.models import Organisation

NAME_MAX = 200
SHORT_NAME_MAX = 60
# New organisations go to the end, this far after the last one; reordering swaps neighbours' numbers.
PRECEDENCE_STEP = 10


# Domains that copy an organisation's name into their rows (a user's organisation, an action's ministry)
# refresh the copies of rows linked to it: ``fn(organisation_id, new_name)``, in the renaming transaction.
renamed: Hook[Callable[[int, str], None]] = Hook("organisations.renamed")


class OrganisationError(DomainError):
    """A change to the list of organisations that cannot be made; the message says why."""


def folded(text: str | None) -> str:
    """Lower case without diacritics, so that "bo tai chinh" finds "Bộ Tài chính"."""
    decomposed = unicodedata.normalize("NFD", (text or "").replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split())


@dataclass
class OrganisationData:
    name: str
    short_name: str = ""

    def cleaned(self) -> OrganisationData:
        name = " ".join((self.name or "").split())
        short_name = " ".join((self.short_name or "").split())
        if not name:
            raise OrganisationError("The name of the organisation is required.")
        if len(name) > NAME_MAX:
            raise OrganisationError("The name can hold at most %(n)s characters.", n=NAME_MAX)
        if len(short_name) > SHORT_NAME_MAX:
            raise OrganisationError("The short name can hold at most %(n)s characters.", n=SHORT_NAME_MAX)
        return OrganisationData(name=name, short_name=short_name)


def _require_manager(actor: Actor) -> None:
    if actor.user is not None and not policy.can_manage_organisations(actor.user):
        raise OrganisationError("Only administrators and the secretariat may change the list of organisations.")


# --- reading -------------------------------------------------------------------------------------------

def get(organisation_id: int) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def list_organisations(active_only: bool = False) -> list[Organisation]:
    query = select(Organisation).order_by(Organisation.precedence, Organisation.name)
    if active_only:
        query = query.where(Organisation.active.is_(True))
    return list(db.session.scalars(query))


def usable(organisation_id: int | None, keep: int | None = None) -> Organisation | None:
    """The organisation a form picked: an active one, or the one the row already has (``keep``), which
    may have been deactivated since. None when the id names no such organisation."""
    if organisation_id is None:
        return None
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not (organisation.active or organisation.id == keep):
        return None
    return organisation


def find_by_name(name: str | None) -> Organisation | None:
    """The organisation of that name (or short name), compared without case, accents or extra spaces:
    how text typed before the list existed, or read from a spreadsheet, is linked to it."""
    wanted = folded(name)
    if not wanted:
        return None
    for organisation in list_organisations():
        if wanted in (folded(organisation.name), folded(organisation.short_name)):
            return organisation
    return None


class UnusableOrganisation(LookupError):
    """A form picked an organisation that is unknown or no longer active: each domain says so in its own
    words (a user's organisation, an item's presenting ministry, an action's ministry)."""


def resolve(organisation_id: int | None, typed_name: str | None, keep: int | None = None) -> Organisation | None:
    """The organisation a form means: the picked one (``usable``), else the one whose name was typed, else
    None (the typed text stays as it is). Raises ``UnusableOrganisation`` when the picked one is unusable."""
    if organisation_id is not None:
        organisation = usable(organisation_id, keep=keep)
        if organisation is None:
            raise UnusableOrganisation(organisation_id)
        return organisation
    return find_by_name(typed_name) if typed_name else None


def _name_taken(name: str, except_id: int | None = None) -> bool:
    """Another organisation has this name, ignoring case (accents count: they tell Vietnamese words apart)."""
    wanted = name.casefold()
    return any(o.name.casefold() == wanted for o in list_organisations() if o.id != except_id)


# --- changing ------------------------------------------------------------------------------------------

def create(actor: Actor, data: OrganisationData) -> Organisation:
    _require_manager(actor)
    data = data.cleaned()
    if _name_taken(data.name):
        raise OrganisationError("An organisation named “%(name)s” already exists.", name=data.name)
    last = db.session.scalar(select(func.max(Organisation.precedence))) or 0
    organisation = Organisation(name=data.name, short_name=data.short_name, precedence=last + PRECEDENCE_STEP,
                                active=True)
    db.session.add(organisation)
    db.session.flush()
    audit.record(actor, "organisation.create", object_type="organisation", object_id=organisation.id,
                 details={"name": organisation.name})
    return organisation


def update(actor: Actor, organisation: Organisation, data: OrganisationData) -> Organisation:
    _require_manager(actor)
    data = data.cleaned()
    if _name_taken(data.name, except_id=organisation.id):
        raise OrganisationError("An organisation named “%(name)s” already exists.", name=data.name)
    changes = {}
    for field in ("name", "short_name"):
        old, new = getattr(organisation, field), getattr(data, field)
        if old != new:
            changes[field] = [old, new]
            setattr(organisation, field, new)
    if changes:
        db.session.flush()
        if "name" in changes:
            for refresh in renamed:
                refresh(organisation.id, organisation.name)
        audit.record(actor, "organisation.update", object_type="organisation", object_id=organisation.id,
                     details={"name": organisation.name, "changed": changes})
    return organisation


def set_active(actor: Actor, organisation: Organisation, active: bool) -> None:
    _require_manager(actor)
    if organisation.active == active:
        return
    organisation.active = active
    db.session.flush()
    audit.record(actor, "organisation.activate" if active else "organisation.deactivate",
                 object_type="organisation", object_id=organisation.id, details={"name": organisation.name})


def move(actor: Actor, organisation: Organisation, direction: str) -> bool:
    """Move one place up or down the order of precedence (swapping with its neighbour). False when it is
    already first or last."""
    _require_manager(actor)
    if direction not in ("up", "down"):
        raise OrganisationError("An organisation moves up or down.")
    ordered = list_organisations()
    _spread(ordered)
    index = ordered.index(organisation)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    neighbour = ordered[other]
    organisation.precedence, neighbour.precedence = neighbour.precedence, organisation.precedence
    db.session.flush()
    audit.record(actor, "organisation.move", object_type="organisation", object_id=organisation.id,
                 details={"name": organisation.name, "direction": direction, "position": other + 1})
    return True


def _spread(ordered: list[Organisation]) -> None:
    """Give distinct, evenly spaced numbers in the current order, so that a swap always changes it."""
    numbers = [o.precedence for o in ordered]
    if len(set(numbers)) != len(numbers):
        for index, organisation in enumerate(ordered, start=1):
            organisation.precedence = index * PRECEDENCE_STEP


def ensure(actor: Actor, names: list[tuple[str, str]]) -> list[Organisation]:
    """The organisations of these (name, short name) pairs, created where missing and placed in the
    given order: how the demo and an installation load the Government's list."""
    result = []
    for index, (name, short_name) in enumerate(names, start=1):
        organisation = find_by_name(name)
        if organisation is None:
            organisation = create(actor, OrganisationData(name=name, short_name=short_name))
        organisation.precedence = index * PRECEDENCE_STEP
        result.append(organisation)
    db.session.flush()
    return result
