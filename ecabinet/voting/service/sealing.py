"""The secret ballot's seal: votes sealed on arrival, opened at the close one layer at a time by the
key holders, each layer's contents written as one shuffled batch under new random keys.

Why (docs/voting.md, "Threat model"): whatever is written when a vote arrives sits beside the voter's
participation row in the database's files (the same commit's WAL frames, neighbouring transaction
ids, physical order), and a copy of those files is all an insider needs. So what is written then must
be unreadable without keys the server does not store:

- at the opening, one key pair per layer (``policy.SEAL_SIDES``: the chair's, then the secretariat's);
  each layer's private key is stored only sealed (HPKE) to every current holder of that side's custody
  key (accounts/custody.py), and the private key itself is forgotten;
- each vote (receipt code and answers, padded to a fixed size class) is sealed to the innermost layer,
  then to each outer one, and stored on the voter's participation row;
- at the close, a holder of the outer side, signed in with their password (their session carries the
  wrapping key), opens that layer: every vote's outer seal is removed, the inner seals are written in a
  shuffled order under new random keys, the participation rows' seals and the layer's key shares are
  erased, all in one transaction. A holder of the next side does the same; the last layer yields the
  votes, written into ``ballot_vote`` the same way, and the result is computed.

Linking a vote to its voter then needs every layer's key: a chair's and a secretariat member's
passwords as well as the files.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import delete, func, insert, select, update

from ecabinet.accounts import custody
from ecabinet.accounts.models import User
from ecabinet.core import sealing
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.voting import policy
from ecabinet.voting.models import (
    Ballot,
    BallotKeyShare,
    BallotKind,
    BallotParticipation,
    BallotSealedVote,
    BallotStatus,
    BallotVote,
)
from ecabinet.voting.service.shared import COMMENT_MAX, VotingError, canonical, record_change

_NO_HOLDER = {
    "chair": "A secret vote needs a key holder on each side: no chair has a ballot key yet. "
             "A key is made when they next sign in.",
    "secretariat": "A secret vote needs a key holder on each side: no member of the secretariat has a ballot "
                   "key yet. A key is made when they next sign in.",
}


class KeyNeeded(VotingError):
    """The holder's session does not carry the key that opens their custody key: they must confirm
    their password first."""


def _layer_context(ballot_id: int, layer: int) -> str:
    return f"ecabinet-ballot:{ballot_id}:layer:{layer}"


def _share_context(ballot_id: int, layer: int, holder_id: int) -> str:
    return f"ecabinet-ballot-key:{ballot_id}:layer:{layer}:holder:{holder_id}"


def holders(side: str) -> list[int]:
    """The active users who hold this side's keys now."""
    role = policy.SEAL_SIDES[side]
    return list(db.session.scalars(select(User.id).where(User.role == role, User.active.is_(True))
                                   .order_by(User.id)))


def create_seal(ballot: Ballot) -> None:
    """At the opening of a secret ballot: the layers' key pairs, their private keys sealed to every
    holder of their side, the private keys themselves forgotten."""
    layers = []
    for layer, side in enumerate(policy.SEAL_SIDES):
        keys = custody.public_keys(holders(side))
        if not keys:
            raise VotingError(_NO_HOLDER[side])
        private, public = sealing.new_key_pair()
        raw = sealing.private_bytes(private)
        for holder_id, holder_key in sorted(keys.items()):
            db.session.add(BallotKeyShare(ballot_id=ballot.id, layer=layer, holder_id=holder_id,
                                          sealed_key=sealing.b64(sealing.seal(
                                              holder_key, raw, _share_context(ballot.id, layer, holder_id)))))
        layers.append({"side": side, "public_key": public})
    ballot.seal_keys = canonical({"layers": layers, "padded_size": padded_size(ballot)})
    ballot.unsealed_layers = 0


def padded_size(ballot: Ballot) -> int:
    """One size for every vote of the ballot, so that a sealed vote's length tells nothing: the longest
    vote it admits. A comment can take ``COMMENT_MAX`` characters of at most 6 bytes each in the JSON
    (a control character's escape); questions with no option that asks for one count none, as in a
    live vote. A longer vote (a comment nobody asked for) pads to a multiple of this size."""
    size = len(_plain("XXXX-XXXX", canonical({})))
    for q in ballot.questions:
        longest = max((len(o["key"].encode()) for o in q.option_list), default=0)
        size += len(canonical({str(q.id): {"choice": ""}})) + longest
        if ballot.kind is BallotKind.WRITTEN or any(o.get("needs_comment") for o in q.option_list):
            size += len(',"comment":""') + 6 * COMMENT_MAX
    return size + 4  # the length prefix


def _plain(receipt: str, answers: str) -> bytes:
    return receipt.encode() + b"\n" + answers.encode()


def seal_vote(ballot_id: int, seal_keys: str, receipt: str, answers: str) -> str:
    """The vote (its receipt and answers), padded, sealed to the innermost layer, then each outer one."""
    seal = json.loads(seal_keys)
    layers = seal["layers"]
    data = sealing.pad(_plain(receipt, answers), seal["padded_size"])
    for layer in reversed(range(len(layers))):
        data = sealing.seal(layers[layer]["public_key"], data, _layer_context(ballot_id, layer))
    return sealing.b64(data)


def answers_tag(client_vote_id: str, answers: str) -> str:
    """Recognises a retry of the same answers from the same device; without the client vote id, which
    only that device holds, it says nothing about the answers."""
    return hmac.new(client_vote_id.encode(), b"ecabinet-answers:" + answers.encode(), hashlib.sha256).hexdigest()


def stop(actor: Actor, ballot: Ballot, reason: str, now: datetime, quorum: dict[str, Any]) -> None:
    """Voting ends: the ballot is counted when its key holders open the seals. Why it closed and the
    quorum at this moment are kept for the result."""
    ballot.status = BallotStatus.COUNTING
    ballot.closed_at = now
    ballot.result = canonical({"closed_by": reason, "quorum": quorum})
    db.session.flush()
    record_change(actor, "ballot.stop", ballot, {"reason": reason, "voted": ballot.votes_cast,
                                                 "next": policy.next_seal_side(ballot)})


def open_layers(actor: Actor, ballot: Ballot, wrapping_key: bytes | None) -> bool:
    """Open every layer this holder may open next (normally one). True when all are open: the votes
    are in ``ballot_vote`` and the caller computes the result. The ballot's write lock is held."""
    user = actor.user
    assert user is not None
    holder_key = None
    while policy.may_open_seal(user, ballot):
        if holder_key is None:
            holder_key = custody.unlock(user.id, wrapping_key)
            if holder_key is None:
                raise KeyNeeded("Please confirm your password to open the ballot's seal.")
        _open_layer(actor, ballot, holder_key)
    return ballot.unsealed_layers >= len(ballot.seal_layers)


def _open_layer(actor: Actor, ballot: Ballot, holder_key: X25519PrivateKey) -> None:
    layer, layers = ballot.unsealed_layers, ballot.seal_layers
    share = db.session.scalar(select(BallotKeyShare).where(BallotKeyShare.ballot_id == ballot.id,
                                                           BallotKeyShare.layer == layer,
                                                           BallotKeyShare.holder_id == actor.user_id))
    if share is None:
        raise VotingError("You hold no key of this ballot's seal: it was opened before you held the role.")
    try:
        layer_key = sealing.private_key(sealing.open_sealed(
            holder_key, sealing.unb64(share.sealed_key), _share_context(ballot.id, layer, share.holder_id)))
    except sealing.SealError:
        raise VotingError("Your ballot key does not open this ballot's seal.") from None
    sealed = _take_layer(ballot.id, layer)
    context = _layer_context(ballot.id, layer)
    try:
        opened = [sealing.open_sealed(layer_key, sealing.unb64(text), context) for text in sealed]
    except sealing.SealError:
        raise VotingError("A sealed vote does not open: the ballot's stored votes were altered.") from None
    secrets.SystemRandom().shuffle(opened)
    last = layer == len(layers) - 1
    if last:
        votes = [sealing.unpad(data).decode().split("\n", 1) for data in opened]
        if votes:
            db.session.execute(insert(BallotVote), [
                {"id": secrets.token_hex(16), "ballot_id": ballot.id, "receipt_code": receipt,
                 "answers": answers, "voter_id": None} for receipt, answers in votes])
    elif opened:
        db.session.execute(insert(BallotSealedVote), [
            {"id": secrets.token_hex(16), "ballot_id": ballot.id, "layers": len(layers) - layer - 1,
             "sealed": sealing.b64(data)} for data in opened])
    # This layer's keys go: from now on nobody can open it again, nor link what it hid.
    db.session.execute(delete(BallotKeyShare).where(BallotKeyShare.ballot_id == ballot.id,
                                                    BallotKeyShare.layer == layer)
                       .execution_options(synchronize_session=False))
    ballot.unsealed_layers = layer + 1
    db.session.flush()
    record_change(actor, "ballot.unseal", ballot, {"layer": layer, "side": layers[layer]["side"],
                                                   "votes": len(opened), "next": policy.next_seal_side(ballot)})


def _take_layer(ballot_id: int, layer: int) -> list[str]:
    """The votes as sealed at this layer, erased from where they were."""
    if layer == 0:
        parts = BallotParticipation.__table__
        sealed = list(db.session.scalars(select(parts.c.sealed_vote).where(
            parts.c.ballot_id == ballot_id, parts.c.sealed_vote.is_not(None))))
        db.session.execute(update(parts).where(parts.c.ballot_id == ballot_id)
                           .values(sealed_vote=None, answers_tag=None))
        return sealed
    rows = BallotSealedVote.__table__
    sealed = list(db.session.scalars(select(rows.c.sealed).where(rows.c.ballot_id == ballot_id)))
    db.session.execute(delete(rows).where(rows.c.ballot_id == ballot_id))
    return sealed


def seal_remains(ballot_id: int) -> dict[str, int]:
    """What of the seal is still stored (verify-ballot: nothing, once the ballot is counted)."""
    def count(stmt) -> int:  # noqa: ANN001
        return db.session.scalar(stmt) or 0

    return {
        "sealed votes on participation rows": count(select(func.count()).select_from(BallotParticipation).where(
            BallotParticipation.ballot_id == ballot_id, BallotParticipation.sealed_vote.is_not(None))),
        "votes between layers": count(select(func.count()).select_from(BallotSealedVote)
                                      .where(BallotSealedVote.ballot_id == ballot_id)),
        "key shares": count(select(func.count()).select_from(BallotKeyShare)
                            .where(BallotKeyShare.ballot_id == ballot_id)),
    }
