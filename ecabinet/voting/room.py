"""Voting's part of the live room, through the hooks the live domain declares (ecabinet/live/hooks.py):
the payload of numbered ``ballot.*`` events, and the open ballots' tallies in a catch-up (they are not
numbered events, so a replay of the meeting's events would not bring them).

Imported at app start (by voting/events.py), so the hooks are filled before the first commit.
"""

from __future__ import annotations

from ecabinet.live import hooks
from ecabinet.voting.service.results import ballot_payload
from ecabinet.voting.tally import for_meeting

hooks.event_payloads.register("ballot.")(ballot_payload)
hooks.catch_up_sections.register("tallies")(for_meeting)
