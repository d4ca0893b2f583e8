"""The API's bodies and answers (pydantic 2), from which the OpenAPI description is generated."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from spectree.model_adapter.pydantic_adapter import BaseFile


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: dict[str, str] | None = None


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=500)


class MeetingsQuery(PageQuery):
    status: Literal["published", "in_session", "adjourned", "closed"] | None = None


class ActionsQuery(PageQuery):
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None


class Item(BaseModel):
    id: int
    position: int
    title: str
    ministry: str
    organisation_id: int | None
    kind: str
    confidentiality: str
    duration_minutes: int
    outcome: str | None


class MeetingSummary(BaseModel):
    id: int
    title: str
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    place: str
    mode: str


class Meeting(MeetingSummary):
    agenda_version: int
    items: list[Item]


class MeetingPage(BaseModel):
    data: list[MeetingSummary]
    next_cursor: str | None


class Document(BaseModel):
    id: int
    meeting_id: int
    item_id: int
    title: str
    version: int
    page_count: int
    confidential: bool


class DocumentList(BaseModel):
    data: list[Document]


class BallotOutcome(BaseModel):
    id: int
    item_id: int | None
    title: str
    secret: bool
    closed_at: datetime | None
    outcome: str | None
    votes_cast: int
    eligible_count: int


class ItemOutcome(BaseModel):
    item_id: int
    title: str
    outcome: str


class Outcomes(BaseModel):
    meeting_id: int
    items: list[ItemOutcome]
    ballots: list[BallotOutcome]


class Action(BaseModel):
    id: int
    meeting_id: int
    title: str
    ministry: str
    due_date: date
    status: str


class ActionPage(BaseModel):
    data: list[Action]
    next_cursor: str | None


class Conclusion(BaseModel):
    meeting_id: int
    body: str
    issued_at: datetime
    actions: list[Action]


class ActionUpdateIn(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    status: Literal["open", "in_progress", "done", "cancelled"]
    note: str = Field(default="", max_length=5000)


class ActionUpdateOut(BaseModel):
    id: int
    action_id: int
    status: str
    note: str
    created_at: datetime


# --- submissions ---------------------------------------------------------------------------------

class SubmissionsQuery(PageQuery):
    status: Literal["submitted", "returned", "accepted", "withdrawn", "merged"] | None = None


def _as_list(value: object) -> object:
    """A form with one file gives the file itself; with several, a list."""
    return value if isinstance(value, list) else [value]


class SubmissionIn(BaseModel):
    """A new submission, as multipart/form-data: its fields and one or more PDF `files`."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=1000)
    kind: Literal["decree", "resolution", "decision", "report", "other"]
    handling: Literal["meeting", "written"]
    urgency: Literal["normal", "urgent", "very_urgent"] = "normal"
    deadline: AwareDatetime
    summary: str = Field(default="", max_length=20000)
    files: list[BaseFile] = Field(min_length=1, max_length=10, description="PDF documents")

    _files = field_validator("files", mode="before")(_as_list)


class VersionIn(BaseModel):
    """A new version after a return, as multipart/form-data: a note and one or more PDF `files`."""

    model_config = ConfigDict(extra="ignore")

    note: str = Field(default="", max_length=2000)
    files: list[BaseFile] = Field(min_length=1, max_length=10, description="PDF documents")

    _files = field_validator("files", mode="before")(_as_list)


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    reason: str = Field(default="", max_length=2000)


class SubmissionFile(BaseModel):
    id: int
    position: int
    title: str
    filename: str
    size: int
    page_count: int
    sha256: str


class SubmissionVersion(BaseModel):
    number: int
    note: str
    created_at: datetime
    documents: list[SubmissionFile]


class SubmissionComment(BaseModel):
    step: str
    version_number: int
    body: str
    created_at: datetime


class SubmissionOutcome(BaseModel):
    """What the submission became and, once decided, the decision: the item's or the ballot's outcome,
    the meeting's issued conclusions (unless the meeting had a confidential item) and the ministry's own
    action items from them."""

    became: Literal["agenda_item", "written_opinion"]
    meeting_id: int | None
    item_id: int | None
    ballot_id: int | None
    value: str | None
    decided: bool
    decided_at: datetime | None
    conclusions: str | None
    actions: list[Action]


class SubmissionSummary(BaseModel):
    id: int
    title: str
    kind: str
    handling: str
    urgency: str
    status: str
    deadline: datetime
    current_version: int
    created_at: datetime
    updated_at: datetime


class Submission(SubmissionSummary):
    summary: str
    decided_at: datetime | None
    merged_into_id: int | None
    versions: list[SubmissionVersion]
    comments: list[SubmissionComment]
    outcome: SubmissionOutcome | None


class SubmissionPage(BaseModel):
    data: list[SubmissionSummary]
    next_cursor: str | None
