"""The audit log in words: each entry told as a sentence in the reader's language.

An entry's words are built from its action code, its actor and its details; an action without a
sentence of its own still reads as words ("… performed «x.y» on the vote no. 12"). Names come from the
log itself (the titles that creating or renaming a meeting, an item or a document recorded) and, where
a higher domain offers them, from the ``names`` hook, which the audit log cannot import. Nothing here
reads more than the entry holds: a vote's entry holds who voted, never the choice, and so do its words.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.core.hooks import Hook
from ecabinet.extensions import db

# kind ("user", "meeting", "meeting_item", "ballot", "document") -> fn(ids) -> {id: name}. Filled by the
# domains that own those rows; a kind nobody fills falls back to the log's own titles, then to numbers.
names: Hook[Callable[[Collection[int]], Mapping[int, str]]] = Hook("audit.words.names")

# The actions whose details carry a title for their object, and which kind of object it is.
_TITLED = {"meeting.create": "meeting", "meeting.update": "meeting", "agenda.item_add": "meeting_item",
           "agenda.item_update": "meeting_item", "document.upload": "document",
           "document.rename": "document"}
# Details that name a person, in the order they are looked for.
_PERSON_KEYS = ("user", "member", "voter", "reader_id")

SENTENCES: dict[str, Any] = {
    # sign-in and accounts
    "login.success": _l("%(actor)s signed in"),
    "logout": _l("%(actor)s signed out"),
    "reauth.success": _l("%(actor)s confirmed their identity again"),
    "reauth.failed": _l("%(actor)s failed to confirm their identity again"),
    "session.address_changed": _l("%(actor)s went on with their session from a new address (%(from)s → %(to)s)"),
    "security.session_replayed": _l("A session of %(user)s was used from another browser and was ended"),
    "security.csrf_failed": _l("%(actor)s sent a form whose security token had expired or was missing"),
    "security.rate_limited": _l("%(actor)s was held back for sending too many requests"),
    "security.socket_refused": _l("A live connection from %(ip)s was refused"),
    "user.create": _l("%(actor)s created the account of %(user)s (%(email)s) as %(role)s"),
    "user.update": _l("%(actor)s changed the account of %(user)s: %(fields)s"),
    "user.activate": _l("%(actor)s enabled the account of %(user)s"),
    "user.deactivate": _l("%(actor)s disabled the account of %(user)s"),
    "user.password_reset": _l("%(actor)s set a new password for %(user)s"),
    "user.password_change_failed": _l("%(actor)s gave a wrong current password when changing it"),
    "user.totp_enable": _l("%(actor)s turned on two-factor sign-in for %(user)s"),
    "user.totp_disable": _l("%(actor)s turned off two-factor sign-in for %(user)s"),
    "custody.key_created": _l("A vote-sealing key was made for %(user)s"),
    "custody.key_dropped": _l("The vote-sealing key of %(user)s was dropped"),
    # meetings and agendas
    "meeting.create": _l("%(actor)s created the meeting %(meeting)s"),
    "meeting.update": _l("%(actor)s changed the meeting %(meeting)s: %(fields)s"),
    "meeting.copy": _l("%(actor)s copied the meeting %(meeting)s"),
    "meeting.publish": _l("%(actor)s published the agenda of the meeting %(meeting)s (version %(version)s)"),
    "meeting.start": _l("%(actor)s started the meeting %(meeting)s"),
    "meeting.adjourn": _l("%(actor)s adjourned the meeting %(meeting)s"),
    "meeting.resume": _l("%(actor)s resumed the meeting %(meeting)s"),
    "meeting.close": _l("%(actor)s closed the meeting %(meeting)s"),
    "live.pause": _l("%(actor)s paused the meeting %(meeting)s"),
    "live.resume": _l("%(actor)s went on with the meeting %(meeting)s after a pause"),
    "agenda.item_add": _l("%(actor)s added the item %(item)s to the agenda"),
    "agenda.item_update": _l("%(actor)s changed the agenda item %(item)s: %(fields)s"),
    "agenda.item_delete": _l("%(actor)s removed items from the agenda of the meeting %(meeting)s"),
    "agenda.reorder": _l("%(actor)s reordered the agenda of the meeting %(meeting)s"),
    "agenda.bulk_edit": _l("%(actor)s edited several items of the agenda of the meeting %(meeting)s"),
    "agenda.current_item": _l("%(actor)s moved the meeting on to the item %(item)s"),
    "consent.adopt": _l("%(actor)s adopted the consent agenda of the meeting %(meeting)s"),
    "participant.add": _l("%(actor)s invited %(user)s to the meeting %(meeting)s"),
    "participant.remove": _l("%(actor)s removed %(user)s from the meeting %(meeting)s"),
    "participant.respond": _l("%(actor)s answered the invitation to the meeting %(meeting)s"),
    "participant.invitation": _l("%(actor)s sent the invitation to the meeting %(meeting)s to %(count)s participants"),
    "participant.reminder": _l("%(actor)s reminded %(count)s participants of the meeting %(meeting)s"),
    "agenda.import": _l("%(actor)s imported items from a spreadsheet into the agenda of the meeting %(meeting)s"),
    "meeting.from_template": _l("%(actor)s filled the agenda of the meeting %(meeting)s from a template"),
    "participant.substitute_vote": _l("%(actor)s changed who votes for %(user)s in the meeting %(meeting)s"),
    "guest.invite": _l("%(actor)s invited %(user)s as a guest for the item %(item)s"),
    "guest.uninvite": _l("%(actor)s withdrew the invitation of %(user)s as a guest for the item %(item)s"),
    "attendance.check_in": _l("%(actor)s recorded %(user)s as present (%(mode)s)"),
    "attendance.check_out": _l("%(actor)s recorded %(user)s as having left"),
    "interest.declare": _l("%(actor)s recorded a declared interest of %(user)s in the item %(item)s"),
    "position.mark": _l("%(actor)s marked the position of %(user)s on the item %(item)s: %(position)s"),
    # the floor and the comments
    "floor.request": _l("%(actor)s asked to speak on the item %(item)s"),
    "floor.withdraw": _l("%(actor)s withdrew their request to speak on the item %(item)s"),
    "floor.grant": _l("%(actor)s gave the floor to %(user)s on the item %(item)s"),
    "floor.end": _l("%(actor)s ended the turn of %(user)s on the item %(item)s"),
    "floor.reorder": _l("%(actor)s reordered the speakers on the item %(item)s"),
    "floor.prefill": _l("%(actor)s filled in the speakers on the item %(item)s"),
    "comment.post": _l("%(actor)s commented on the item %(item)s"),
    "comment.hide": _l("%(actor)s hid a comment on the item %(item)s"),
    # votes
    "ballot.create": _l("%(actor)s prepared the vote %(ballot)s on the item %(item)s"),
    "ballot.approve": _l("%(actor)s approved the vote %(ballot)s"),
    "ballot.open": _l("%(actor)s opened the vote %(ballot)s"),
    "ballot.stop": _l("%(actor)s stopped the vote %(ballot)s"),
    "ballot.close": _l("%(actor)s closed the vote %(ballot)s"),
    "ballot.cancel": _l("%(actor)s cancelled the vote %(ballot)s"),
    "ballot.unseal": _l("%(actor)s opened a seal of the vote %(ballot)s"),
    "ballot.remind": _l("%(actor)s reminded %(count)s voters of the vote %(ballot)s"),
    "vote.cast": _l("%(actor)s voted in the vote %(ballot)s"),
    "vote.change": _l("%(actor)s changed their vote in the vote %(ballot)s"),
    # documents
    "document.upload": _l("%(actor)s uploaded the document %(document)s"),
    "document.rename": _l("%(actor)s renamed the document %(document)s"),
    "document.new_version": _l("%(actor)s uploaded version %(version)s of the document %(document)s"),
    "document.upload_refused": _l("%(actor)s tried to upload %(filename)s; it was refused"),
    "document.viewed": _l("%(actor)s opened the document %(document)s"),
    "document.downloaded": _l("%(actor)s downloaded the document %(document)s"),
    "calendar.feed_made": _l("%(actor)s made a calendar subscription address"),
    "calendar.feed_revoked": _l("%(actor)s stopped their calendar subscription"),
    "display.issued": _l("%(actor)s issued a link for the room screen %(label)s"),
    "display.revoked": _l("%(actor)s revoked the room screen %(label)s"),
    "document.annotated_copy": _l("%(actor)s downloaded the document %(document)s with their own notes"),
    "document.original_downloaded": _l("%(actor)s downloaded the original of the document %(document)s"),
    "document.copy_made": _l("A marked copy of the document %(document)s was made for %(reader)s"),
    "document.confidential": _l("%(actor)s marked the document %(document)s confidential"),
    "document.not_confidential": _l("%(actor)s marked the document %(document)s not confidential"),
    "document.annotation_added": _l("%(actor)s added a note to the document %(document)s"),
    "document.annotation_changed": _l("%(actor)s changed a note on the document %(document)s"),
    "document.annotation_deleted": _l("%(actor)s deleted a note on the document %(document)s"),
    "document.board_book_requested": _l("%(actor)s asked for the board book of the meeting %(meeting)s"),
    "document.board_book_built": _l("The board book of the meeting %(meeting)s was made for %(reader)s"),
    "document.board_book_downloaded": _l("%(actor)s downloaded the board book of the meeting %(meeting)s"),
    # minutes, conclusions, the record
    "minutes.draft": _l("%(actor)s started the minutes of the meeting %(meeting)s"),
    "minutes.correction": _l("%(actor)s started a correction of the minutes of the meeting %(meeting)s"),
    "minutes.save": _l("%(actor)s saved the minutes of the meeting %(meeting)s (revision %(revision)s)"),
    "minutes.circulate": _l("%(actor)s sent the minutes of the meeting %(meeting)s round for comments"),
    "minutes.comment": _l("%(actor)s commented on the minutes of the meeting %(meeting)s"),
    "minutes.approve": _l("%(actor)s approved the minutes of the meeting %(meeting)s (revision %(revision)s)"),
    "minutes.final": _l("The final minutes of the meeting %(meeting)s were produced"),
    "minutes.sign": _l("%(actor)s signed the minutes of the meeting %(meeting)s"),
    "conclusion.save": _l("%(actor)s saved the conclusion of the meeting %(meeting)s"),
    "conclusion.issue": _l("%(actor)s issued the conclusion of the meeting %(meeting)s"),
    "action.add": _l("%(actor)s assigned a task to %(ministry)s, due %(due)s"),
    "action.update": _l("%(actor)s updated a task: %(status)s"),
    "archive.export": _l("%(actor)s exported the record of the meeting %(meeting)s"),
    # the list of organisations
    "organisation.create": _l("%(actor)s added the organisation %(organisation)s"),
    "organisation.update": _l("%(actor)s changed the name of the organisation %(organisation)s"),
    "organisation.deactivate": _l("%(actor)s deactivated the organisation %(organisation)s"),
    "organisation.activate": _l("%(actor)s activated the organisation %(organisation)s again"),
    "organisation.move": _l("%(actor)s moved the organisation %(organisation)s to place %(position)s"),
    # offline packs on tablets
    "offline.device_registered": _l("%(actor)s registered a tablet for offline reading"),
    "offline.pack_taken": _l("%(actor)s took the meeting %(meeting)s offline on a tablet"),
    "offline.wipe_requested": _l("%(actor)s asked for a tablet's offline meetings to be wiped"),
    "offline.rule_set": _l("%(actor)s set whether the meeting %(meeting)s may be taken offline"),
    # ministries' submissions
    "submission.create": _l("%(actor)s sent the submission %(submission)s"),
    "submission.new_version": _l("%(actor)s sent version %(version)s of the submission %(submission)s"),
    "submission.return": _l("%(actor)s returned the submission %(submission)s for revision"),
    "submission.accept_meeting": _l("%(actor)s put the submission %(submission)s on a meeting's agenda"),
    "submission.accept_written": _l("%(actor)s sent the submission %(submission)s for written opinions"),
    "submission.withdraw": _l("%(actor)s withdrew the submission %(submission)s"),
    "submission.merge": _l("%(actor)s merged the submission %(submission)s into another"),
    "submission.merged_in": _l("%(actor)s merged another submission into the submission %(submission)s"),
    "submission.outcome": _l("A decision was reached on the submission %(submission)s"),
    "submission.file_read": _l("%(actor)s opened a document of the submission %(submission)s"),
    # the REST API's clients and webhooks
    "api.client_registered": _l("%(actor)s registered the API client %(client)s"),
    "api.token_issued": _l("%(actor)s issued a new token to an API client"),
    "api.client_revoked": _l("%(actor)s revoked the API client %(client)s"),
    "api.reads": _l("An API client read data %(reads)s times"),
    "api.document_copy": _l("The API client %(client)s downloaded a copy of the document %(document)s"),
    "api.submission_create": _l("The API client %(client)s sent the submission %(submission)s"),
    "api.submission_version": _l("The API client %(client)s sent a new version of the submission %(submission)s"),
    "api.submission_withdraw": _l("The API client %(client)s withdrew the submission %(submission)s"),
    "api.webhook_set": _l("%(actor)s set an API client's webhook address"),
    "api.webhook_removed": _l("%(actor)s removed an API client's webhook address"),
    "api.webhook_secret_rotated": _l("%(actor)s replaced an API client's webhook signing secret"),
    "api.webhook_resent": _l("%(actor)s sent a webhook delivery again"),
    # open data
    "publication.publish": _l("%(actor)s published a decision of the meeting %(meeting)s to the public"),
    "publication.withdraw": _l("%(actor)s withdrew a publication of the meeting %(meeting)s"),
}

# Variants chosen by a detail's value.
_VARIANTS: dict[tuple[str, str, Any], Any] = {
    ("role.totp_required", "required", True): _l("%(actor)s made two-factor sign-in mandatory for %(role)s"),
    ("role.totp_required", "required", False): _l("%(actor)s made two-factor sign-in optional for %(role)s"),
    ("minutes.sign", "signed", False): _l("%(actor)s tried to sign the minutes of the meeting %(meeting)s; "
                                          "the signature failed"),
    ("ballot.create", "item", None): _l("%(actor)s prepared the vote %(ballot)s"),
    ("publication.publish", "kind", "conclusion"): _l("%(actor)s published the conclusions of the meeting "
                                                      "%(meeting)s to the public"),
}

OWN_POSITION = _l("%(actor)s marked their own position on the item %(item)s: %(position)s")
GENERIC = _l("%(actor)s performed «%(action)s» on %(object)s")
GENERIC_NO_OBJECT = _l("%(actor)s performed «%(action)s»")

OBJECT_KINDS: dict[str, Any] = {
    "ballot": _l("the vote %(ref)s"),
    "meeting": _l("the meeting %(ref)s"),
    "meeting_item": _l("the item %(ref)s"),
    "document": _l("the document %(ref)s"),
    "user": _l("the account of %(ref)s"),
    "minutes": _l("the minutes no. %(id)s"),
    "conclusion": _l("the conclusion no. %(id)s"),
    "action_item": _l("the task no. %(id)s"),
    "speaker_request": _l("the request to speak no. %(id)s"),
    "live_comment": _l("the comment no. %(id)s"),
    "meeting_participant": _l("the participant no. %(id)s"),
    "document_annotation": _l("the note no. %(id)s"),
    "board_book": _l("the board book of the meeting no. %(id)s"),
    "organisation": _l("the organisation %(ref)s"),
    "submission": _l("the submission no. %(id)s"),
    "api_client": _l("the API client no. %(id)s"),
    "publication": _l("the publication no. %(id)s"),
}

ROLES = {"admin": _l("Administrator"), "secretary": _l("Secretariat"), "chair": _l("Chair"),
         "member": _l("Member"), "guest": _l("Guest"), "liaison": _l("Ministry liaison")}
POSITIONS = {"agree": _l("agrees"), "disagree": _l("disagrees"), "other": _l("another opinion"),
             "abstain": _l("abstains")}
MODES = {"room": _l("in the room"), "remote": _l("remotely")}
STATUSES = {"open": _l("open"), "in_progress": _l("in progress"), "done": _l("done"),
            "cancelled": _l("cancelled")}
REASONS = {"bad_credentials": _l("wrong email or password"), "disabled": _l("the account is disabled"),
           "bad_totp": _l("wrong code"), "invalid_form": _l("incomplete form")}
# The fields an update changed, named as the forms name them: an account's title is a job title, a
# meeting's or an item's is its heading.
ACCOUNT_FIELDS = {"name": _l("Full name"), "email": _l("Email"), "title": _l("Title"),
                  "organisation": _l("Ministry or organisation"), "role": _l("Role")}
MEETING_FIELDS = {"title": _l("Heading"), "starts_at": _l("Start"), "ends_at": _l("End"), "place": _l("Place"),
                  "chair_id": _l("Chair")}
SYSTEM_LABELS = {"anonymous": _l("Someone not signed in")}

# The families of actions a reader can filter by (the code's first word), in the order they are offered.
FAMILIES: dict[str, Any] = {
    "login": _l("Sign-ins"), "logout": _l("Sign-outs"), "reauth": _l("Identity checks"),
    "session": _l("Sessions"), "security": _l("Security events"), "user": _l("Accounts"),
    "role": _l("Role settings"), "custody": _l("Vote-sealing keys"), "meeting": _l("Meetings"),
    "live": _l("The meeting room"), "agenda": _l("Agendas"), "consent": _l("Consent agendas"),
    "participant": _l("Participants"), "guest": _l("Guests"), "attendance": _l("Attendance"),
    "interest": _l("Declared interests"), "position": _l("Positions on items"), "floor": _l("Speakers"),
    "comment": _l("Comments"), "ballot": _l("Votes"), "vote": _l("Votes cast"), "document": _l("Documents"),
    "minutes": _l("Minutes"), "conclusion": _l("Conclusions"), "action": _l("Tasks"),
    "archive": _l("Record exports"), "organisation": _l("Organisations"), "submission": _l("Submissions"),
    "api": _l("API clients"), "publication": _l("Open data"),
}


def details_of(entry: AuditEntry) -> dict[str, Any]:
    try:
        value = json.loads(entry.details or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _as_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


def _title(value: Any) -> str | None:
    """A recorded title: a string, or the new value of an ``[old, new]`` change."""
    if isinstance(value, list) and len(value) == 2:
        value = value[1]
    return value.strip() or None if isinstance(value, str) else None


@dataclass
class Refs:
    """What one entry is about, as ids by kind."""

    actor: int | None = None
    meeting: int | None = None
    item: int | None = None
    ballot: int | None = None
    document: int | None = None
    user: int | None = None


def refs_of(entry: AuditEntry, details: Mapping[str, Any]) -> Refs:
    kind, oid = entry.object_type, _as_id(entry.object_id)
    person = next((_as_id(details[k]) for k in _PERSON_KEYS if _as_id(details.get(k)) is not None), None)
    return Refs(
        actor=entry.actor_id,
        meeting=entry.meeting_id or _as_id(details.get("meeting")) or (oid if kind in ("meeting", "board_book")
                                                                       else None),
        item=_as_id(details.get("item")) or (oid if kind == "meeting_item" else None),
        ballot=oid if kind == "ballot" else None,
        document=oid if kind == "document" else _as_id(details.get("document")),
        user=oid if kind == "user" else person,
    )


@dataclass
class Names:
    """The names of what a page of entries mentions, looked up once for the whole page."""

    by_kind: dict[str, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))

    @classmethod
    def for_ids(cls, wanted: Mapping[str, set[int]]) -> Names:
        found = cls()
        titled = {kind: ids for kind, ids in wanted.items() if kind in _TITLED.values() and ids}
        if titled:
            found._from_log(titled)
        for kind, ids in wanted.items():
            fill = names.get(kind)
            if fill is not None and ids:
                found.by_kind[kind].update({i: n for i, n in fill(ids).items() if n})
        return found

    @classmethod
    def for_entries(cls, entries: Iterable[AuditEntry]) -> Names:
        wanted: dict[str, set[int]] = defaultdict(set)
        for entry in entries:
            refs = refs_of(entry, details_of(entry))
            for kind, value in (("user", refs.actor), ("user", refs.user), ("meeting", refs.meeting),
                                ("meeting_item", refs.item), ("ballot", refs.ballot), ("document", refs.document)):
                if value is not None:
                    wanted[kind].add(value)
        return cls.for_ids(wanted)

    def _from_log(self, wanted: Mapping[str, set[int]]) -> None:
        # The latest title each object was given, read from the entries that recorded it.
        keys = [str(i) for ids in wanted.values() for i in ids]
        rows = db.session.execute(
            select(AuditEntry.object_type, AuditEntry.object_id, AuditEntry.details)
            .where(AuditEntry.action.in_(list(_TITLED)), AuditEntry.object_id.in_(keys))
            .order_by(AuditEntry.id)).all()
        for kind, oid, raw in rows:
            number = _as_id(oid)
            if kind not in wanted or number not in wanted[kind]:
                continue
            try:
                title = _title(json.loads(raw).get("title"))
            except (ValueError, AttributeError):
                title = None
            if title:
                self.by_kind[kind][number] = title

    def name(self, kind: str, number: int | None) -> str | None:
        return None if number is None else self.by_kind.get(kind, {}).get(number)


def _ref(names_: Names, kind: str, number: int | None) -> str:
    """«Title» when the name is known, else "no. 12"."""
    if number is None:
        return "—"
    known = names_.name(kind, number)
    return f"«{known}»" if known else _("no. %(id)s", id=number)


def _person(names_: Names, number: int | None, label: str | None = None) -> str:
    known = names_.name("user", number)
    if known:
        return known
    if number is not None:
        return label or _("the user no. %(id)s", id=number)
    if label in SYSTEM_LABELS:
        return str(SYSTEM_LABELS[label])
    return _("The system (%(label)s)", label=label or "?")


def _label(table: Mapping[str, Any], value: Any) -> str:
    return str(table[value]) if isinstance(value, str) and value in table else str(value if value is not None else "—")


def _template(action: str, details: Mapping[str, Any]) -> Any:
    for (code, key, value), template in _VARIANTS.items():
        if code == action and details.get(key) == value:
            return template
    return SENTENCES.get(action)


def describe(entry: AuditEntry, names_: Names) -> str:
    """One entry as a sentence in the reader's language."""
    details = details_of(entry)
    refs = refs_of(entry, details)
    fields = ACCOUNT_FIELDS if entry.action == "user.update" else MEETING_FIELDS
    changed = [str(fields.get(k, k)) for k in details] if entry.action.endswith("update") else []
    recipients = details.get("recipients")
    values: dict[str, Any] = {
        "actor": _person(names_, refs.actor, entry.actor_label),
        "user": _person(names_, refs.user, details.get("email") if isinstance(details.get("email"), str) else None),
        "meeting": _ref(names_, "meeting", refs.meeting),
        "item": _ref(names_, "meeting_item", refs.item),
        "ballot": _ref(names_, "ballot", refs.ballot),
        "document": _ref(names_, "document", refs.document),
        "email": details.get("email") or "—",
        "role": _label(ROLES, details.get("role", entry.object_id if entry.object_type == "role" else None)),
        "mode": _label(MODES, details.get("mode")),
        "status": _label(STATUSES, details.get("status")),
        "fields": ", ".join(changed) or "—",
        "version": details.get("version", "—"),
        "revision": details.get("revision", "—"),
        "filename": f"«{details.get('filename') or '—'}»",
        "reader": details.get("reader") or "—",
        "ministry": details.get("ministry") or "—",
        "due": details.get("due") or "—",
        "organisation": f"«{details['name']}»" if isinstance(details.get("name"), str) else "—",
        "client": f"«{details.get('name') or details.get('client')}»"
        if isinstance(details.get("name") or details.get("client"), str) else "—",
        "reads": details.get("reads", "—"),
        "submission": f"«{details['title']}»" if entry.object_type == "submission"
        and isinstance(details.get("title"), str) else "—",
        "position": details.get("position", "—") if entry.action == "organisation.move" else
        _label(POSITIONS, details.get("position")),
        "count": len(recipients) if isinstance(recipients, list) else "—",
        "from": details.get("from") or "—",
        "to": details.get("to") or "—",
        "ip": entry.ip or "—",
        "action": entry.action,
    }
    if entry.action == "login.failed":
        reason = _label(REASONS, details.get("reason"))
        who = details.get("email")
        if who:
            return _("A sign-in as %(who)s failed: %(reason)s", who=who, reason=reason)
        return _("A sign-in failed: %(reason)s", reason=reason)
    template = _template(entry.action, details)
    if entry.action == "position.mark" and refs.user is not None and refs.user == refs.actor:
        template = OWN_POSITION
    if template is None:
        template = GENERIC if entry.object_type else GENERIC_NO_OBJECT
        kind = entry.object_type or ""
        ref = {"ballot": values["ballot"], "meeting": values["meeting"], "meeting_item": values["item"],
               "document": values["document"], "user": values["user"],
               "organisation": values["organisation"]}.get(kind)
        phrase = OBJECT_KINDS.get(kind)
        if phrase is not None:
            values["object"] = str(phrase) % {"ref": ref, "id": entry.object_id or "—"}
        else:
            values["object"] = f"{kind} {entry.object_id or ''}".strip()
    return str(template) % values


def family_label(family: str) -> str:
    return str(FAMILIES[family]) if family in FAMILIES else family
