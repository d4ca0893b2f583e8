"""Payload schemas of the voting Socket.IO events (see ecabinet/core/schemas.py).

Shapes and bounds only: whether an option exists, a comment is required or too long, and a client vote
id is well formed are the ballot's rules, refused by the service with a translated message.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ecabinet.core.schemas import Id, Payload, Text, one_message

MAX_KEY = 64  # an option key or a question id
MAX_COMMENT = 20_000  # a transport bound; the ballot's own limit is the service's (COMMENT_MAX)
MAX_CLIENT_VOTE_ID = 64
MAX_QUESTIONS = 500


class ListBallots(Payload):
    meeting_id: Id


class BallotAction(Payload):
    """chair.open_vote and chair.close_vote."""

    meeting_id: Id
    ballot_id: Id


class Answer(Payload):
    choice: Text(MAX_KEY)
    comment: Text(MAX_COMMENT) | None = None


ANSWERS_MESSAGE = "must be an option, or an object of question ids to an option or {choice, comment}"

# One message for the whole field: its union would otherwise name each alternative it tried.
ByQuestion = Annotated[dict[Text(MAX_KEY), Text(MAX_KEY) | Answer], Field(max_length=MAX_QUESTIONS)]
Answers = Annotated[Text(MAX_KEY) | ByQuestion, one_message("answers", lambda _: ANSWERS_MESSAGE)]


class CastVote(BallotAction):
    """``choice`` (a single-question ballot) or ``answers``; ``answers`` wins when both are given."""

    choice: Text(MAX_KEY) | None = None
    answers: Answers | None = None
    client_vote_id: Text(MAX_CLIENT_VOTE_ID)
