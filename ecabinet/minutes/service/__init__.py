"""Minutes rules: the draft from the meeting record, revisions with edit-conflict detection, circulation,
the chair's approval, the final signed PDF, corrections, conclusions and action items, and the archive
export; one module per sub-capability, every public name re-exported here.

Every change takes the acting ``Actor``, checks the rule, records it in the audit log and publishes it
to the meeting room (``domain_events``); the boundary (view, job, CLI) commits. A broken rule raises
``MinutesError`` (a ``DomainError``, which dooms the unit of work).

| module | what |
|---|---|
| drafting | the draft, revisions, restoring and comparing them, corrections |
| approval | circulation and comments, the chair's approval, the final signed PDF, signing again |
| conclusions | conclusions and action items |
| archive | the archive, its search, the export of a meeting's record |
| shared | errors, the sanitiser, lookups, role checks |
"""

from __future__ import annotations

from ecabinet.minutes.queries import get_action, get_minutes
from ecabinet.minutes.service.approval import (
    add_comment,
    approve,
    circulate,
    final_pdf,
    finalise,
    sign_again,
    signature_report,
)
from ecabinet.minutes.service.archive import (
    EXPORT_FILES,
    archive_meetings,
    archive_years,
    export_record,
    extra_export_files,
    search_archive,
)
from ecabinet.minutes.service.conclusions import (
    ActionData,
    actions_for,
    add_action,
    conclusion_of,
    is_overdue,
    issue_conclusion,
    save_conclusion,
    update_action,
)
from ecabinet.minutes.service.drafting import (
    compare,
    create_draft,
    draft_html,
    make_correction,
    restore_revision,
    save_revision,
)
from ecabinet.minutes.service.shared import (
    ALLOWED_TAGS,
    MAX_BODY,
    EditConflict,
    MinutesError,
    current_body,
    get_revision,
    minutes_of,
    sanitise,
)

__all__ = [
    "ALLOWED_TAGS", "EXPORT_FILES", "MAX_BODY", "ActionData", "EditConflict", "MinutesError", "actions_for",
    "add_action", "add_comment", "approve", "archive_meetings", "archive_years", "circulate", "compare",
    "conclusion_of", "create_draft", "current_body", "draft_html", "export_record", "extra_export_files",
    "final_pdf", "finalise", "get_action", "get_minutes", "get_revision", "is_overdue", "issue_conclusion",
    "make_correction", "minutes_of", "restore_revision", "sanitise", "save_conclusion", "save_revision",
    "search_archive", "sign_again", "signature_report", "update_action",
]
