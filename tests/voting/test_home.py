"""The member's home lists the ballots waiting for their vote, and counts them per meeting."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.helpers import login


def test_home_lists_pending_ballots(written_open, cabinet, client):
    login(client, "member@example.gov.vn", PASSWORD)
    page = client.get("/").get_data(as_text=True)
    assert "Phiếu đang chờ tôi biểu quyết" in page and written_open.title in page
    assert f"/ballots/{written_open.id}" in page


def test_live_ballot_counts_on_its_meeting(live_open, cabinet):
    from ecabinet.meetings.service import member_home

    home = member_home(cabinet["member"])
    assert [h.pending_ballots for h in home.upcoming if h.meeting.id == live_open.meeting_id] == [1]
