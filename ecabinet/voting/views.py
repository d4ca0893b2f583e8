"""Ballot pages: the list, drafting, one page per ballot (vote, participation, result, receipts),
the chair's and the secretariat's steps, and the fresh sign-in written opinions need."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ecabinet.accounts import custody
from ecabinet.accounts.auth import current_session, custody_key, remember_custody_key
from ecabinet.accounts.service import AccountError, reauthenticate
from ecabinet.audit import words as audit_words
from ecabinet.core.actor import current_actor
from ecabinet.core.policy import guard
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import ItemKind
from ecabinet.voting import policy, service
from ecabinet.voting.forms import LABELS, EmptyForm, LiveBallotForm, ReauthForm, SealForm, WrittenBallotForm
from ecabinet.voting.models import Ballot, BallotKind, BallotStatus
from ecabinet.voting.service import BallotData, KeyNeeded, VotingError

bp = Blueprint("voting", __name__)
_KEYS = "vote_keys"  # this browser's client vote id per ballot (kept in the signed cookie, not the server)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"voting_labels": LABELS}


def _ballot(ballot_id: int) -> Ballot:
    ballot = service.get_ballot(ballot_id)
    if ballot is None:
        abort(404)
    return ballot


def _attempt(action: Callable[..., Any], *args: Any, done: str | None = None, **kwargs: Any) -> Any:
    try:
        result = action(*args, **kwargs)
    except VotingError as exc:
        flash(exc.translated(), "error")
        return None
    if done:
        flash(done, "info")
    return result if result is not None else True


def _form_errors(form) -> None:  # noqa: ANN001
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")


def _to_show(ballot_id: int):  # noqa: ANN202
    return redirect(url_for("voting.show", ballot_id=ballot_id))


@bp.route("/ballots")
@guard(policy.can_list_ballots)
def index():
    visible = [b for b in service.list_ballots()
               if b.kind is not BallotKind.CONSENT and policy.may_see(current_user, b)]
    return render_template("voting/index.html", pending=service.pending_ballots_for(current_user), ballots=visible,
                           can_draft=policy.can_draft_written(current_user))


@bp.route("/ballots/new", methods=["GET", "POST"])
@guard(policy.can_draft_written)
def new_written():
    form = WrittenBallotForm()
    if form.validate_on_submit():
        zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
        attachments = []
        for line in (form.attachments.data or "").splitlines():
            if line.strip():
                title, _sep, url = line.partition("|")
                attachments.append({"title": title.strip(), "url": url.strip()})
        data = BallotData(title=form.title.data, kind=BallotKind.WRITTEN, description=form.description.data or "",
                          questions=(form.questions.data or "").splitlines(), rule=form.rule.data,
                          abstentions_count=form.abstentions_count.data, secret=form.secret.data,
                          allow_change=form.allow_change.data, deadline=form.deadline.data.replace(tzinfo=zone),
                          attachments=attachments)
        ballot = _attempt(service.create_ballot, current_actor(), data, done=_("The draft is saved."))
        if ballot:
            return _to_show(ballot.id)
    else:
        _form_errors(form)
    return render_template("voting/form.html", form=form, meeting=None), 400 if request.method == "POST" else 200


@bp.route("/meetings/<int:meeting_id>/ballots/new", methods=["GET", "POST"])
@guard(policy.can_draft_live)
def new_live(meeting_id: int):
    meeting = meetings.get_meeting(meeting_id)
    form = LiveBallotForm()
    form.item_id.choices = [(i.id, f"{i.position}. {i.title}") for i in meeting.items if i.kind is ItemKind.DECISION]
    if form.validate_on_submit():
        data = BallotData(title=form.title.data, kind=BallotKind.LIVE, meeting_id=meeting.id, item_id=form.item_id.data,
                          rule=form.rule.data, abstentions_count=form.abstentions_count.data, secret=form.secret.data,
                          allow_change=form.allow_change.data, show_running=form.show_running.data,
                          allow_substitutes=form.allow_substitutes.data)
        ballot = _attempt(service.create_ballot, current_actor(), data, done=_("The vote is prepared."))
        if ballot:
            return _to_show(ballot.id)
    else:
        _form_errors(form)
    return render_template("voting/form.html", form=form, meeting=meeting), 400 if request.method == "POST" else 200


_ANSWERS = "vote_answers"  # the voter's own answers per ballot, in their signed cookie only
_ANSWERS_KEPT = 3
_ANSWERS_BYTES = 1500  # a cookie holds about 4 KB: long comments are kept shortened


def _keep_answers(ballot_id: int, answers: dict[str, dict[str, str]]) -> None:
    """The answers as given, for the voter to see on the ballot page (the server cannot show a secret
    vote: it is sealed). Kept on the voter's device, in the session cookie, for the last few ballots."""
    kept = {qid: {k: v for k, v in a.items() if v} for qid, a in answers.items()}
    while len(json.dumps(kept, ensure_ascii=False).encode()) > _ANSWERS_BYTES:
        longest = max(kept.values(), key=lambda a: len(a.get("comment", "")))
        if not longest.get("comment"):
            break
        longest["comment"] = longest["comment"][: len(longest["comment"]) // 2] + "…"
    stored = {k: v for k, v in session.get(_ANSWERS, {}).items() if k != str(ballot_id)}
    stored[str(ballot_id)] = kept
    session[_ANSWERS] = dict(list(stored.items())[-_ANSWERS_KEPT:])


def _client_vote_id(ballot: Ballot) -> str:
    keys = session.get(_KEYS, {})
    return keys.get(str(ballot.id)) or service.new_client_vote_id()


@bp.route("/ballots/<int:ballot_id>")
@guard(policy.can_view_ballot)
def show(ballot_id: int):
    ballot = _ballot(ballot_id)
    user = current_user
    row = current_session()
    return render_template(
        "voting/show.html", ballot=ballot, empty=EmptyForm(), client_vote_id=_client_vote_id(ballot),
        eligible=service.is_eligible(ballot, user), voted=service.has_voted(ballot, user),
        needs_reauth=service.needs_reauth(ballot, row.authenticated_at if row else None),
        can_vote=policy.can_vote(user, ballot_id=ballot.id), can_approve=policy.can_approve(user, ballot_id=ballot.id),
        can_send=policy.can_send(user, ballot_id=ballot.id), can_run=policy.can_run_live(user, ballot_id=ballot.id),
        can_cancel=policy.can_cancel(user, ballot_id=ballot.id),
        can_open_seal=policy.can_open_seal(user, ballot_id=ballot.id),
        seal_needs_password=policy.can_open_seal(user, ballot_id=ballot.id) and not holds_working_key(user.id),
        seal_form=SealForm(), next_seal_side=policy.next_seal_side(ballot),
        missing=service.missing_voters(ballot) if policy.can_follow_up(user, ballot_id=ballot.id)
        and ballot.status is BallotStatus.OPEN else None,
        summary=service.summary(ballot), receipts=service.published_receipts(ballot),
        running=service.running_counts(ballot), my_receipt=session.get("vote_receipts", {}).get(str(ballot.id)),
        my_answers=session.get(_ANSWERS, {}).get(str(ballot.id)))


@bp.route("/ballots/<int:ballot_id>/vote", methods=["POST"])
@guard(policy.can_vote)
def vote(ballot_id: int):
    ballot = _ballot(ballot_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    answers = {str(q.id): {"choice": request.form.get(f"q{q.id}", ""), "comment": request.form.get(f"c{q.id}", "")}
               for q in ballot.questions}
    row = current_session()
    key = request.form.get("client_vote_id", "")
    receipt = _attempt(service.cast_vote, current_actor(), ballot.id, answers, key,
                       authenticated_at=row.authenticated_at if row else None)
    if receipt:
        session[_KEYS] = {**session.get(_KEYS, {}), str(ballot.id): key}
        session["vote_receipts"] = {**session.get("vote_receipts", {}), str(ballot.id): receipt.code}
        _keep_answers(ballot.id, answers)
        flash(_("Your vote was recorded — receipt %(code)s", code=receipt.code), "info")
    elif service.needs_reauth(ballot, row.authenticated_at if row else None):
        return redirect(url_for("voting.reauth", ballot_id=ballot.id))
    return _to_show(ballot.id)


@bp.route("/ballots/<int:ballot_id>/reauth", methods=["GET", "POST"])
@guard(policy.can_vote)
def reauth(ballot_id: int):
    ballot = _ballot(ballot_id)
    form = ReauthForm()
    if form.validate_on_submit():
        try:
            key = reauthenticate(current_actor(), current_session(), form.password.data, form.code.data)
        except AccountError as exc:
            flash(exc.translated(), "error")
        else:
            remember_custody_key(key)
            flash(_("Thank you. You can submit your opinion now."), "info")
            return _to_show(ballot.id)
    return render_template("voting/reauth.html", ballot=ballot, form=form,
                           window=current_app.config.get("REAUTH_WINDOW_MINUTES", 10))


def _step(ballot_id: int, action: Callable[..., Any], done: str):  # noqa: ANN202
    ballot = _ballot(ballot_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _attempt(action, current_actor(), ballot, done=done)
    return _to_show(ballot.id)


@bp.route("/ballots/<int:ballot_id>/approve", methods=["POST"])
@guard(policy.can_approve)
def approve(ballot_id: int):
    return _step(ballot_id, service.approve_ballot, _("The form is approved."))


@bp.route("/ballots/<int:ballot_id>/send", methods=["POST"])
@guard(policy.can_send)
def send(ballot_id: int):
    return _step(ballot_id, service.send_ballot, _("The ballot is sent to the members."))


@bp.route("/ballots/<int:ballot_id>/open", methods=["POST"])
@guard(policy.can_run_live)
def open_vote(ballot_id: int):
    return _step(ballot_id, service.open_ballot, _("The vote is open."))


@bp.route("/ballots/<int:ballot_id>/close", methods=["POST"])
@guard(policy.can_run_live)
def close_vote(ballot_id: int):
    ballot = _ballot(ballot_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    result = _attempt(service.close_ballot, current_actor(), ballot, wrapping_key=custody_key())
    if result is True:  # a secret ballot: voting has ended, the key holders count it
        flash(_("Voting has ended. The secret ballot is counted when its key holders open its seal."), "info")
    elif result:
        flash(_("The vote is closed."), "info")
    return _to_show(ballot.id)


def holds_working_key(user_id: int) -> bool:
    """The session carries the key that opens this holder's custody key (no password needed)."""
    return custody.unlock(user_id, custody_key()) is not None


@bp.route("/ballots/<int:ballot_id>/open-seal", methods=["GET", "POST"])
@guard(policy.can_open_seal)
def open_seal(ballot_id: int):
    """A key holder opens the next layer of a secret ballot's seal; with their password when their
    session carries no key (signed in before they held one)."""
    ballot = _ballot(ballot_id)
    form = SealForm()
    needs_password = not holds_working_key(current_user.id)
    if form.validate_on_submit():
        key = custody_key()
        if form.password.data:
            try:
                key = reauthenticate(current_actor(), current_session(), form.password.data, form.code.data)
            except AccountError as exc:
                flash(exc.translated(), "error")
                return render_template("voting/open_seal.html", ballot=ballot, form=form, needs_password=True), 401
            remember_custody_key(key)
        try:
            result = service.open_seal(current_actor(), ballot, key)
        except KeyNeeded as exc:
            flash(exc.translated(), "error")
            return render_template("voting/open_seal.html", ballot=ballot, form=form, needs_password=True), 401
        except VotingError as exc:
            flash(exc.translated(), "error")
            return _to_show(ballot.id)
        flash(_("The ballot is counted.") if result else
              _("Your layer of the seal is open. A member of the secretariat opens the next one."), "info")
        return _to_show(ballot.id)
    return render_template("voting/open_seal.html", ballot=ballot, form=form, needs_password=needs_password)


@bp.route("/ballots/<int:ballot_id>/cancel", methods=["POST"])
@guard(policy.can_cancel)
def cancel(ballot_id: int):
    return _step(ballot_id, service.cancel_ballot, _("The ballot is withdrawn."))


@audit_words.names.register("ballot")
def _ballot_titles_for_audit(ids: Collection[int]) -> Mapping[int, str]:
    """The audit log tells a ballot by its title; it sits below voting and cannot look it up."""
    return dict(db.session.execute(select(Ballot.id, Ballot.title).where(Ballot.id.in_(list(ids)))).all())
