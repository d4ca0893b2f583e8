"""No side door: what a page refuses a reader, neither the record's export nor the live room's events
hand them.

For each role (the secretariat, the chair, a member, a member who declared an interest in one item under
the "hide" policy, a guest invited to one item, a member not invited) the pages decide first what is
refused: the agenda items answered 404, the draft minutes answered 404. Then a scripted meeting runs
with every role's tablet in the room (the chair moves through every item, a member has the floor on the
hidden item, a ballot on it opens and closes), the draft minutes are written, and each role downloads
the export and rejoins the room from the start. No byte of any ZIP member, of any event, snapshot or
catch-up they received may hold a refused title or text, nor name a refused item or its ballot by id.
"""

from __future__ import annotations

import contextvars
import io
import json
import zipfile
from typing import Any

import pytest
from flask.globals import _cv_app

from ecabinet.extensions import db
from tests.conftest import PASSWORD, IsolatedClient
from tests.helpers import login
from tests.meetings.conftest import actor, make_outsider

ROLES = ["secretary", "chair", "member", "conflicted", "guest", "outsider"]
EMAILS = {"conflicted": "member2@example.gov.vn", "outsider": "outsider@example.gov.vn"}
HIDDEN_TITLE = "Decision B"  # the item the conflicted member declared an interest in
DRAFT_SECRET = "Ghi chép nội bộ chưa lưu hành 7f3a"
# Keys whose value names an agenda item.
ITEM_KEYS = {"item_id", "current_item_id", "item"}


def _isolated(fn):
    """Run ``fn`` in an app context of its own, as the server runs every socket event."""
    db.session.rollback()

    def run():
        _cv_app.set(None)
        return fn()

    return contextvars.copy_context().run(run)


def _commit() -> None:
    """The boundary of the scripted step: commit, so the room numbers and broadcasts it."""
    db.session.commit()


@pytest.fixture
def world(app, published, cabinet):
    from ecabinet.meetings import service
    from ecabinet.meetings.models import ConflictPolicy

    first, second, _third = published.items
    assert second.title == HIDDEN_TITLE
    published.conflict_policy = ConflictPolicy.HIDE
    secretary = actor(cabinet["secretary"])
    service.invite_guest(secretary, first, cabinet["guest"])
    service.declare_interest(actor(cabinet["member2"]), second, "Người thân là bên liên quan")
    db.session.commit()
    make_outsider()
    return published


def _browser(app, role: str):
    client = app.test_client()
    assert isinstance(client, IsolatedClient)
    login(client, EMAILS.get(role, f"{role}@example.gov.vn"), PASSWORD)
    return client


def _refused(client, meeting, minutes_id: int) -> tuple[set[int], set[str]]:
    """The items (ids and titles) and texts the pages refuse this reader."""
    items, texts = set(), set()
    for item in meeting.items:
        status = client.get(f"/meetings/{meeting.id}/items/{item.id}").status_code
        assert status in (200, 404), (item.title, status)
        if status == 404:
            items.add(item.id)
            texts.add(item.title)
    if client.get(f"/minutes/{minutes_id}").status_code == 404:
        texts.add(DRAFT_SECRET)
    return items, texts


def _named_items(value: Any, found: set[int], parent: str = "") -> None:
    """Every item id a payload names: under an item key, or as a key of the per-item maps."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if parent in ("queues", "outcomes") and str(key).isdigit():
                found.add(int(key))
            if key in ITEM_KEYS and isinstance(inner, int):
                found.add(inner)
            _named_items(inner, found, key)
    elif isinstance(value, list):
        for inner in value:
            _named_items(inner, found, parent)


def _ballot_ids(value: Any, found: set[int]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "ballot_id" and isinstance(inner, int):
                found.add(inner)
            _ballot_ids(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _ballot_ids(inner, found)


def _ensure_app_context_for_client(app):
    app.test_client_class = IsolatedClient


def test_no_side_door_in_the_export_or_the_room(app, world, cabinet):
    from ecabinet.live import service as live
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import CheckInMode
    from ecabinet.minutes import service as minutes
    from ecabinet.voting import service as voting

    _ensure_app_context_for_client(app)
    meeting = world
    meeting_id = meeting.id
    first, second, third = meeting.items
    hidden_id = second.id
    chair, secretary = actor(cabinet["chair"]), actor(cabinet["secretary"])

    browsers = {role: _browser(app, role) for role in ROLES}
    sockets, received = {}, {role: [] for role in ROLES}
    for role, client in browsers.items():
        # Connected in an app context of its own, as the server connects each socket: the signed-in user
        # is looked up per connection, not carried over from the previous one.
        sio = _isolated(lambda client=client: app.extensions["socketio"].test_client(
            app, flask_test_client=client, headers={"Origin": "http://localhost"}))
        assert sio.is_connected(), role
        joined = _isolated(lambda sio=sio: sio.emit("join", {"meeting_id": meeting_id, "last_seq": None},
                                                    callback=True))
        assert joined["ok"] is (role != "outsider"), (role, joined)
        received[role].append(joined)
        sockets[role] = sio

    # The scripted meeting: in session, members present, every item in turn; on the hidden item a member
    # has the floor and a ballot opens and closes.
    db.session.rollback()
    meeting = meetings.get_meeting(meeting_id)
    meetings.start_meeting(chair, meeting)
    _commit()
    for name in ("chair", "member", "member2", "member3"):
        meetings.check_in(secretary, meeting, meetings.participant_of(meeting, cabinet[name]), CheckInMode.ROOM)
    _commit()
    ballot_id = None
    for item_id in (first.id, hidden_id, third.id):
        live.set_item(chair, meeting, item_id)
        _commit()
        if item_id == hidden_id:
            request = live.request_floor(actor(cabinet["member"]), meeting, hidden_id)
            _commit()
            live.grant_floor(chair, meeting, request.id)
            _commit()
            ballot = voting.create_ballot(secretary, voting.BallotData(
                title=f"Biểu quyết {HIDDEN_TITLE}", kind="live", meeting_id=meeting_id, item_id=hidden_id))
            _commit()
            ballot_id = ballot.id
            voting.open_ballot(chair, ballot)
            _commit()
            voting.close_ballot(chair, voting.get_ballot(ballot_id))
            _commit()
            live.set_paused(chair, meeting, True)  # a meeting-wide event while the floor is on the hidden item
            _commit()
            live.set_paused(chair, meeting, False)
            _commit()
    live.set_item(chair, meeting, None)
    _commit()

    # The draft minutes, written from the whole record, with a note of the secretariat's own.
    draft = minutes.create_draft(secretary, meeting)
    body = minutes.current_body(draft) + f"<p>{DRAFT_SECRET}</p>"
    minutes.save_revision(secretary, draft, body, draft.revisions[-1].number)
    _commit()
    draft_id = draft.id
    assert HIDDEN_TITLE in body

    for role, sio in sockets.items():
        received[role].extend(p["args"] for p in sio.get_received())
        if role != "outsider":  # a tablet that rejoins from the start gets the whole replay
            replay = _isolated(lambda sio=sio: sio.emit("join", {"meeting_id": meeting_id, "last_seq": 0},
                                                        callback=True))
            assert replay["ok"], (role, replay)
            assert replay.get("events"), (role, replay)
            received[role].append(replay)
        sio.disconnect()

    meeting = meetings.get_meeting(meeting_id)
    checked = set()
    for role, client in browsers.items():
        hidden_items, hidden_texts = _refused(client, meeting, draft_id)
        expected = {"secretary": set(), "chair": set(), "member": set(), "conflicted": {hidden_id},
                    "guest": {hidden_id, third.id}, "outsider": {first.id, hidden_id, third.id}}[role]
        assert hidden_items == expected, role
        if role in ("member", "conflicted", "guest", "outsider"):
            assert DRAFT_SECRET in hidden_texts, role
        hidden_ballots = {ballot_id} if hidden_id in hidden_items else set()

        # The export: every member's raw bytes.
        response = client.get(f"/meetings/{meeting_id}/export.zip")
        assert response.status_code in (200, 403, 404), (role, response.status_code)
        # The record is its participants' other than guests (minutes.policy.can_see_record).
        assert (response.status_code == 200) is (role not in ("guest", "outsider")), (role, response.status_code)
        if response.status_code == 200:
            archive = zipfile.ZipFile(io.BytesIO(response.data))
            names = archive.namelist()
            assert (f"minutes-{draft_id}.html" in names) is (DRAFT_SECRET not in hidden_texts), (role, names)
            assert ("audit.json" in names) is (role == "secretary"), (role, names)
            for name in names:
                raw = archive.read(name)
                for text in hidden_texts:
                    assert text.encode() not in raw, (role, name, text)
                if name.endswith(".json"):
                    named: set[int] = set()
                    _named_items(json.loads(raw), named)
                    assert not named & hidden_items, (role, name)
            if hidden_ballots:
                assert HIDDEN_TITLE.encode() not in archive.read("ballots.json"), role
            checked.add(("export", role))

        # The room: every event, snapshot and catch-up this reader's tablet received.
        for message in received[role]:
            raw = json.dumps(message, ensure_ascii=False, default=str)
            for text in hidden_texts:
                assert text not in raw, (role, text, raw[:300])
            named: set[int] = set()
            _named_items(message, named)
            assert not named & hidden_items, (role, sorted(named & hidden_items), raw[:500])
            ballots: set[int] = set()
            _ballot_ids(message, ballots)
            assert not ballots & hidden_ballots, (role, raw[:500])
        checked.add(("room", role))

    # The ones who may see everything did receive the hidden item: the scripted meeting did name it.
    everything = json.dumps(received["secretary"], default=str)
    assert f'"current_item_id": {hidden_id}' in everything
    assert {("export", r) for r in ("secretary", "chair", "member", "conflicted")} <= checked
