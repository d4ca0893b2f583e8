"""Voting: live votes in the meeting, written-opinion ballots between meetings, consent adoption;
rules enforced in the database; receipts voters can check. See docs/voting.md."""
