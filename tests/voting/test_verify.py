"""`flask ecabinet verify-ballot ID`: recomputes the result and checks it against the record and the chain;
a vote altered behind the application's back is detected."""

from __future__ import annotations

from sqlalchemy import text

from ecabinet.extensions import db
from ecabinet.voting import service
from tests.meetings.conftest import actor
from tests.voting.conftest import close_and_count, cvid, make_live


def _closed(quorate, cabinet, secret=False):
    ballot = make_live(quorate, cabinet, secret=secret)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    for role, choice in (("member", "approve"), ("member2", "approve"), ("member3", "reject")):
        service.cast_vote(actor(cabinet[role]), ballot.id, choice, cvid())
    close_and_count(ballot, cabinet)
    return ballot


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["ecabinet", *args])


def test_verify_ballot_ok(app, quorate, cabinet):
    ballot = _closed(quorate, cabinet)
    result = _cli(app, "verify-ballot", str(ballot.id))
    assert result.exit_code == 0, result.output
    assert "verified" in result.output and "FAIL" not in result.output


def test_verify_secret_ballot_ok(app, quorate, cabinet):
    ballot = _closed(quorate, cabinet, secret=True)
    assert _cli(app, "verify-ballot", str(ballot.id)).exit_code == 0


def test_verify_detects_a_tampered_vote(app, quorate, cabinet):
    ballot = _closed(quorate, cabinet)
    db.session.rollback()
    # Someone with database access bypasses the lock trigger and turns a "reject" into an "approve".
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE ballot_vote DISABLE TRIGGER ballot_vote_locked"))
        db.session.execute(text("UPDATE ballot_vote SET answers = replace(answers, 'reject', 'approve') "
                                "WHERE ballot_id = :b"), {"b": ballot.id})
        db.session.execute(text("ALTER TABLE ballot_vote ENABLE TRIGGER ballot_vote_locked"))
    else:
        db.session.execute(text("DROP TRIGGER ballot_vote_locked_update"))
        db.session.execute(text("UPDATE ballot_vote SET answers = replace(answers, 'reject', 'approve') "
                                "WHERE ballot_id = :b"), {"b": ballot.id})
    db.session.commit()
    result = _cli(app, "verify-ballot", str(ballot.id))
    assert result.exit_code == 1
    assert "do NOT match the digest" in result.output
    assert "FAILED" in result.output


def test_verify_detects_a_deleted_vote(app, quorate, cabinet):
    ballot = _closed(quorate, cabinet)
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE ballot_vote DISABLE TRIGGER ballot_vote_locked"))
        db.session.execute(text("DELETE FROM ballot_vote WHERE ballot_id = :b AND answers LIKE '%reject%'"),
                           {"b": ballot.id})
        db.session.execute(text("ALTER TABLE ballot_vote ENABLE TRIGGER ballot_vote_locked"))
    else:
        db.session.execute(text("DROP TRIGGER ballot_vote_locked_delete"))
        db.session.execute(text("DELETE FROM ballot_vote WHERE ballot_id = :b AND answers LIKE '%reject%'"),
                           {"b": ballot.id})
    db.session.commit()
    result = _cli(app, "verify-ballot", str(ballot.id))
    assert result.exit_code == 1 and "2 votes stored but 3 voters" in result.output


def test_verify_open_ballot_fails(app, live_open):
    result = _cli(app, "verify-ballot", str(live_open.id))
    assert result.exit_code == 1 and "not closed" in result.output


def test_verify_unknown_ballot_fails(app):
    assert _cli(app, "verify-ballot", "424242").exit_code == 1
