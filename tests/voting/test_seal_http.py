"""Counting a secret ballot through the pages: the chair closes it (opening the chair's layer with the key
their session carries), a member of the secretariat opens the last layer with one tap, and a holder
whose session carries no key is asked for their password."""

from __future__ import annotations

from ecabinet.accounts.auth import CUSTODY_KEY
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import BallotStatus
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login
from tests.meetings.conftest import actor
from tests.voting.conftest import cvid, make_live


def _voted_secret_ballot(quorate, cabinet):
    ballot = make_live(quorate, cabinet, secret=True)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    for role, choice in (("member", "approve"), ("member2", "reject"), ("member3", "approve")):
        service.cast_vote(actor(cabinet[role]), ballot.id, choice, cvid())
    return ballot


def _post_from_page(client, page: str, path: str, data: dict | None = None):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={**(data or {}), "csrf_token": token})


def _status(ballot):
    db.session.expire_all()
    return service.get_ballot(ballot.id)


def test_the_chair_closes_and_the_secretariat_counts_in_one_tap(client, quorate, cabinet):
    ballot = _voted_secret_ballot(quorate, cabinet)
    page = f"/ballots/{ballot.id}"
    login(client, cabinet["chair"].email, PASSWORD)
    r = _post_from_page(client, page, f"/ballots/{ballot.id}/close")
    assert r.status_code == 302
    b = _status(ballot)
    assert b.status is BallotStatus.COUNTING and b.unsealed_layers == 1
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="counting"' in html and 'data-testid="open-seal"' not in html
    client.post("/logout", data={"csrf_token": csrf_from(html)})

    login(client, cabinet["secretary"].email, PASSWORD)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="ballots-to-count"' in home and f"/ballots/{ballot.id}" in home
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="open-seal"' in html and 'name="password"' not in html
    r = client.post(f"/ballots/{ballot.id}/open-seal", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 302
    b = _status(ballot)
    assert b.status is BallotStatus.CLOSED and b.result_data["questions"][0]["counts"]["approve"] == 2
    html = client.get(page).get_data(as_text=True)
    assert 'data-testid="receipts"' in html and 'data-testid="counting"' not in html


def test_a_holder_whose_session_has_no_key_is_asked_for_the_password(client, quorate, cabinet):
    ballot = _voted_secret_ballot(quorate, cabinet)
    login(client, cabinet["chair"].email, PASSWORD)
    with client.session_transaction() as s:  # signed in before holding a key
        s.pop(CUSTODY_KEY)
    _post_from_page(client, f"/ballots/{ballot.id}", f"/ballots/{ballot.id}/close")
    assert _status(ballot).unsealed_layers == 0
    html = client.get(f"/ballots/{ballot.id}").get_data(as_text=True)
    assert f'href="/ballots/{ballot.id}/open-seal"' in html
    form = client.get(f"/ballots/{ballot.id}/open-seal").get_data(as_text=True)
    assert 'name="password"' in form
    r = client.post(f"/ballots/{ballot.id}/open-seal", data={"csrf_token": csrf_from(form),
                                                               "password": "not-the-password"})
    assert r.status_code == 401 and _status(ballot).unsealed_layers == 0
    r = client.post(f"/ballots/{ballot.id}/open-seal", data={"csrf_token": csrf_from(form), "password": PASSWORD})
    assert r.status_code == 302 and _status(ballot).unsealed_layers == 1
    with client.session_transaction() as s:  # remembered for the rest of the session
        assert CUSTODY_KEY in s


def test_only_the_next_layers_holders_may_open_it(client, quorate, cabinet):
    ballot = _voted_secret_ballot(quorate, cabinet)
    service.close_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    for role in ("secretary", "member", "admin"):
        login(client, cabinet[role].email, PASSWORD)
        page = client.get("/").get_data(as_text=True)
        r = client.post(f"/ballots/{ballot.id}/open-seal", data={"csrf_token": csrf_from(page)})
        assert r.status_code in (403, 404), role
        client.post("/logout", data={"csrf_token": csrf_from(page)})
    assert _status(ballot).unsealed_layers == 0
