"""Verifying a closed ballot: the result recomputed from the stored votes, against the recorded result,
the audit log's entries and the audit chain (``flask ecabinet verify-ballot``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import func, select

from ecabinet.audit import service as audit
from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from ecabinet.voting.models import BallotKind, BallotParticipation, BallotStatus
from ecabinet.voting.queries import get_ballot
from ecabinet.voting.service import sealing
from ecabinet.voting.service.closing import compute_result
from ecabinet.voting.service.shared import vote_rows, votes_digest


@dataclass
class VerifyReport:
    ballot_id: int
    ok: bool
    lines: list[str]


def verify_ballot(ballot_id: int) -> VerifyReport:
    """Recompute the result from the stored votes; compare it with the recorded result, the close entry
    of the audit log, the participation, and check the audit chain."""
    ballot = get_ballot(ballot_id)
    if ballot is None:
        return VerifyReport(ballot_id, False, [f"Ballot {ballot_id}: not found."])
    lines = [f"Ballot {ballot.id}: {ballot.title} ({ballot.kind.value}, {ballot.status.value}, "
             f"{'secret' if ballot.secret else 'named'}, rule {ballot.rule.value})"]
    ok = True

    def check(condition: bool, good: str, bad: str) -> None:
        nonlocal ok
        lines.append(("OK    " if condition else "FAIL  ") + (good if condition else bad))
        ok = ok and condition

    if ballot.status is not BallotStatus.CLOSED:
        check(False, "", "the ballot is not closed: there is no recorded result to verify")
        return VerifyReport(ballot.id, ok, lines)
    if ballot.kind is BallotKind.CONSENT:
        lines.append("      consent adoption: decided from pre-meeting positions, no votes")
    recorded = ballot.result_data
    rows = vote_rows(ballot.id)
    parts = db.session.scalar(select(func.count()).select_from(BallotParticipation)
                              .where(BallotParticipation.ballot_id == ballot.id)) or 0
    check(len(rows) == parts, f"{len(rows)} votes stored, {parts} voters recorded as having voted",
          f"{len(rows)} votes stored but {parts} voters recorded as having voted")
    check(len(rows) == recorded["voted"], f"the recorded result counted {recorded['voted']} votes",
          f"the recorded result counted {recorded['voted']} votes, {len(rows)} are stored")
    digest = votes_digest(rows)
    check(digest == recorded["digest"], "the stored votes match the digest recorded at close",
          "the stored votes do NOT match the digest recorded at close (a vote was altered, added or removed)")
    if ballot.kind is not BallotKind.CONSENT:
        recomputed = compute_result(ballot, rows, recorded["quorum"]["reached"], recorded["quorum"])
        recomputed["closed_by"] = recorded.get("closed_by")
        for q_new, q_old in zip(recomputed["questions"], recorded["questions"], strict=False):
            check(q_new["counts"] == q_old["counts"] and q_new["outcome"] == q_old["outcome"],
                  f"question {q_new['position']}: recomputed {q_new['counts']} → {q_new['outcome']}",
                  f"question {q_new['position']}: recomputed {q_new['counts']} → {q_new['outcome']}, "
                  f"recorded {q_old['counts']} → {q_old['outcome']}")
        check(recomputed["outcome"] == ballot.outcome == recorded["outcome"],
              f"outcome {ballot.outcome} under rule {recorded['rule']}",
              f"outcome recomputed {recomputed['outcome']}, recorded {recorded['outcome']} / {ballot.outcome}")
    entries = db.session.execute(select(AuditEntry.action, AuditEntry.details).where(
        AuditEntry.object_type == "ballot", AuditEntry.object_id == str(ballot.id))).all()
    actions = [e.action for e in entries]
    closing = [json.loads(e.details) for e in entries if e.action in ("ballot.close", "ballot.consent")]
    check(len(closing) == 1, "the audit log holds the closing entry", "the audit log has no single closing entry")
    if closing and ballot.kind is not BallotKind.CONSENT:
        check(closing[0].get("digest") == digest and closing[0].get("outcome") == ballot.outcome,
              "the closing audit entry records the same digest and outcome",
              "the closing audit entry disagrees with the stored votes or outcome")
        check("ballot.open" in actions, "the audit log holds the opening entry", "no opening entry in the audit log")
    if ballot.sealed:
        layers = ballot.seal_layers
        opened = [json.loads(e.details) for e in entries if e.action == "ballot.unseal"]
        check(actions.count("ballot.stop") == 1 and [o.get("layer") for o in opened] == list(range(len(layers))),
              f"the seal's {len(layers)} layers were opened in order, each recorded "
              f"({', '.join(str(o.get('side')) for o in opened)})",
              "the audit log does not record the seal's layers opened once each, in order")
        check(all(o.get("votes") == parts for o in opened), f"each layer opened {parts} sealed votes",
              "a layer opened a number of sealed votes other than the number of voters")
        left = {what: n for what, n in sealing.seal_remains(ballot.id).items() if n}
        check(not left, "nothing of the seal is left stored (no sealed vote, no key share)",
              f"still stored after the count: {left}")
    cast_entries = actions.count("vote.cast")
    check(cast_entries == parts, f"{cast_entries} 'vote.cast' audit entries, one per voter",
          f"{cast_entries} 'vote.cast' audit entries for {parts} voters")
    chain = audit.verify_chain()
    check(chain.ok, f"audit chain verifies ({chain.entries} entries)",
          f"audit chain broken at entry {chain.first_broken_id}: {chain.problem}")
    return VerifyReport(ballot.id, ok, lines)


