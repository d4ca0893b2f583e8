"""JSON bodies of the submission steps (for clients other than the pages' forms, such as the REST API).

They check shapes only; the services keep the rules (a known kind, a deadline in the future, a meeting
that exists) and say what is wrong in the user's words."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime

from ecabinet.core.schemas import Id, Payload, Text


class NewSubmission(Payload):
    title: Text(1000)
    kind: Text(32)
    handling: Text(32)
    urgency: Text(32) = "normal"
    deadline: AwareDatetime
    summary: Text(20000) = ""


class ReturnBody(Payload):
    comment: Text(10000)


class AcceptToMeeting(Payload):
    meeting_id: Id
    duration_minutes: int = 15
    confidential: bool = False


class AcceptToWrittenOpinion(Payload):
    deadline: AwareDatetime


class WithdrawBody(Payload):
    reason: Text(10000) = ""


class MergeBody(Payload):
    into_id: Id
    comment: Text(10000) = ""


__all__ = ["AcceptToMeeting", "AcceptToWrittenOpinion", "MergeBody", "NewSubmission", "ReturnBody",
           "WithdrawBody", "datetime"]
