"""What one more tablet's join costs the database: the parts every reader shares are read once per
meeting and event number (live/service/snapshots.py), so 2,000 tablets joining at once make a few
statements each, whatever the meeting holds (on PostgreSQL each statement is a round trip)."""

from __future__ import annotations

from ecabinet.extensions import socketio
from tests.conftest import PASSWORD, IsolatedClient
from tests.helpers import login, statements_of
from tests.live.conftest import in_session  # noqa: F401 - fixture


def _joined(app, email: str, meeting_id: int):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login(client, email, PASSWORD)
    tablet = socketio.test_client(app, flask_test_client=client, headers={"Origin": "http://localhost"})
    assert tablet.is_connected()
    return tablet


def test_a_further_join_reads_only_what_is_its_own(app, in_session, cabinet):  # noqa: F811
    first = _joined(app, cabinet["member"].email, in_session.id)
    first_ack = first.emit("join", {"meeting_id": in_session.id, "last_seq": None}, callback=True)
    assert first_ack["ok"]
    meeting_id = in_session.id  # read now: the sign-in's commit expired the test's copy of the meeting
    second = _joined(app, cabinet["chair"].email, meeting_id)

    ack, statements = statements_of(lambda: second.emit("join", {"meeting_id": meeting_id, "last_seq": None},
                                                         callback=True))

    assert ack["ok"] and ack["snapshot"]["seq"] == first_ack["snapshot"]["seq"]
    # The reader's sign-in session with its user (every event reads it), the meeting and the reader's part
    # in it (the policy, then the room), their connection, the event number, the items they may see, the
    # open ballots.
    assert len(statements) <= 6, [" ".join(s.split())[:90] for s in statements]
    for shared in ("live_comment", "speaker_request", "meeting_event", "item_position"):
        assert not any(shared in s for s in statements), (shared, statements)


def test_a_connection_reads_its_session_once(app, in_session, cabinet):  # noqa: F811
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login(client, cabinet["member"].email, PASSWORD)

    tablet, statements = statements_of(lambda: socketio.test_client(
        app, flask_test_client=client, headers={"Origin": "http://localhost"}))

    assert tablet.is_connected()
    # The sign-in session (with its user) is read once and the connection recorded; nothing is read again
    # after the commit that records it.
    flat = [" ".join(s.split())[:90] for s in statements]
    inserted = next(i for i, s in enumerate(flat) if s.startswith("INSERT INTO live_connection"))
    assert not any(s.startswith("SELECT") for s in flat[inserted:]), flat


def test_a_rejoin_by_number_is_one_read_of_the_events(app, in_session, cabinet):  # noqa: F811
    tablet = _joined(app, cabinet["member"].email, in_session.id)
    meeting_id = in_session.id
    last_seq = tablet.emit("join", {"meeting_id": meeting_id, "last_seq": None}, callback=True)["snapshot"]["seq"]

    ack, statements = statements_of(lambda: tablet.emit("join", {"meeting_id": meeting_id, "last_seq": last_seq},
                                                         callback=True))

    assert ack["ok"] and ack["events"] == []
    flat = [" ".join(s.split())[:90] for s in statements]
    # The session, the meeting and the reader's part in it, the events from the tablet's own last one (not
    # the meeting's number first), the ballots; a member of a meeting whose declared interests do not hide
    # items sees every item, known without reading the agenda.
    assert len(flat) <= 5, flat
    assert not any("meeting_item" in s or "live_state" in s for s in flat), flat


def test_a_tablet_ahead_of_the_database_gets_a_snapshot(app, in_session, cabinet):  # noqa: F811
    tablet = _joined(app, cabinet["member"].email, in_session.id)
    meeting_id = in_session.id
    head = tablet.emit("join", {"meeting_id": meeting_id, "last_seq": None}, callback=True)["snapshot"]["seq"]
    assert head > 0

    # Restored from a backup taken before the tablet's last event: it cannot be replayed from there.
    ahead = tablet.emit("join", {"meeting_id": meeting_id, "last_seq": head + 5}, callback=True)
    assert ahead["ok"] and ahead["snapshot"]["seq"] == head and "events" not in ahead
    # From the start: every event, in order.
    everything = tablet.emit("join", {"meeting_id": meeting_id, "last_seq": 0}, callback=True)
    assert [e["seq"] for e in everything["events"]] == list(range(1, head + 1))
    # Up to date: nothing to replay.
    assert tablet.emit("join", {"meeting_id": meeting_id, "last_seq": head}, callback=True)["events"] == []
    # One behind: the last event.
    assert [e["seq"] for e in tablet.emit("join", {"meeting_id": meeting_id, "last_seq": head - 1},
                                          callback=True)["events"]] == [head]
