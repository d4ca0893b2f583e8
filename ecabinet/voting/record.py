"""The voting domain's part of the meeting record, for the minutes (and their ZIP export).

The minutes domain sits above voting and imports ``record_section`` (voting never imports the minutes)."""

from __future__ import annotations

from typing import Any

from ecabinet.accounts.models import User
from ecabinet.meetings.models import Meeting
from ecabinet.voting import policy, service

RULES = {"majority_cast": "đa số phiếu biểu quyết", "majority_all": "quá nửa tổng số thành viên",
         "two_thirds": "hai phần ba số phiếu biểu quyết", "unanimity": "nhất trí"}
# The default options' names in the minutes, which are an official document in Vietnamese.
OPTIONS = {"approve": "tán thành", "reject": "không tán thành", "abstain": "không biểu quyết", "agree": "đồng ý",
           "disagree": "không đồng ý", "other": "ý kiến khác"}
OUTCOMES = {"adopted": "thông qua", "rejected": "không thông qua", "no_quorum": "không đủ số lượng",
            "partly_adopted": "thông qua một phần"}


def record_section(meeting: Meeting, reader: User | None = None) -> dict[str, Any]:
    """The closed ballots of the meeting, each question with its counts, rule, result and receipts, also
    grouped by agenda item.

    For a ``reader`` (the record's export), only the ballots the voting policy shows them: none on an
    item hidden from them. Without one, every ballot (the minutes' draft, made by the secretariat)."""
    items: dict[int, dict[str, list]] = {}
    ballots = []
    for closed in service.results_for_meeting(meeting):
        result = closed["result"] or {}
        ballot = service.get_ballot(closed["ballot_id"])
        if reader is not None and (ballot is None or not policy.may_see(reader, ballot)):
            continue
        receipts = service.published_receipts(ballot) if ballot is not None else []
        for question in result.get("questions", []):
            title = closed["title"] if len(result["questions"]) == 1 else f"{closed['title']}: {question['text']}"
            labels = {o["key"]: o["label"] for q in ballot.questions if q.id == question["question_id"]
                      for o in q.option_list} if ballot is not None else {}
            entry = {"title": title, "counts": question["counts"],
                     "counts_named": [(OPTIONS.get(key, labels.get(key, key)), n)
                                      for key, n in question["counts"].items()],
                     "rule": RULES.get(result.get("rule"), result.get("rule")) +
                     ("" if result.get("abstentions_count") else ", không tính phiếu trắng"),
                     "result": OUTCOMES.get(question["outcome"], question["outcome"]),
                     "secret": closed["secret"],
                     "receipts": [{"receipt": r["receipt"],
                                   "choice": (r["answers"].get(str(question["question_id"])) or {}).get("choice")}
                                  for r in receipts]}
            ballots.append(entry)
            if closed["item_id"]:
                items.setdefault(closed["item_id"], {"ballots": []})["ballots"].append(entry)
    return {"items": items, "ballots": ballots}
