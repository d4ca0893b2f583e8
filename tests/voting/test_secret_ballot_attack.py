"""Secret ballots against someone holding copies of everything the server stores.

Thirty voters vote one by one, each option gets ten votes. Copies are taken after the first vote, after
fifteen, after thirty (still open) and after the close: the SQLite main file and its -wal file as bytes
(no checkpoint), or every PostgreSQL table of the schema with ctid, xmin and xmax; and the log records
of the app, with the database engine's statement log on. ``rawfiles.Attack`` links voters to choices
from each copy (rows written in one commit or transaction, physical or insert order, times, lengths,
log lines), together with the receipts published after the close. It must do no better than chance.
The same attack on a named ballot, where the vote row names its voter, must link nearly everyone:
that shows the readers really decode the stored rows.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from math import comb
from pathlib import Path

import pytest
from sqlalchemy import text

from ecabinet.accounts import service as accounts
from ecabinet.accounts.models import Role
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import Ballot
from tests.conftest import PASSWORD
from tests.meetings.conftest import actor
from tests.voting import rawfiles
from tests.voting.conftest import VOTERS, cvid, make_live
from tests.voting.conftest import close_and_count as count

N_VOTERS = 30
OPTIONS = ("approve", "reject", "abstain")  # the default options of a live ballot
MOMENTS = {"after 1 vote": 1, "after 15 votes": 15, "after 30 votes": 30, "after the close": None}
# Below this chance of doing as well by guessing, a count of correct links is a leak. Small, because the
# app's shuffles and random keys cannot be seeded and about ten methods are scored at each of eight
# moments: a run that fails by luck must be rarer than one in ten thousand.
SIGNIFICANCE = 1e-6


def close_and_count(app, ballot: Ballot, cabinet: dict) -> None:
    """The close of a ballot and its count: the one place that knows how a ballot is closed. The chair
    closes from a signed-in session (opening the chair's layer of a secret ballot's seal), and a member
    of the secretariat opens the last layer."""
    count(ballot, cabinet)


# --- thirty voters --------------------------------------------------------------------------------

@pytest.fixture
def cabinet(cabinet):
    """The cabinet with 26 more members, made before the meeting so that it invites them all."""
    people = dict(cabinet)
    for n in range(4, N_VOTERS):
        people[f"member{n}"] = accounts.create_user(
            Actor.system("test"), accounts.UserData(email=f"member{n}@example.gov.vn", name=f"Test member {n}",
                                                    role=Role.MEMBER), PASSWORD)
    db.session.commit()
    return people


@pytest.fixture
def full_house(quorate, cabinet):
    """The quorate meeting with every member checked in too, as ``quorate`` checks in its four."""
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import CheckInMode

    for role in voter_roles():
        if role not in VOTERS:
            p = meetings.participant_of(quorate, cabinet[role])
            meetings.check_in(actor(cabinet["secretary"]), quorate, p, CheckInMode.ROOM)
    db.session.commit()
    return quorate


def voter_roles() -> list[str]:
    return ["chair", "member"] + [f"member{n}" for n in range(2, N_VOTERS)]


# --- the ballot, and the copies taken during it -------------------------------------------------------

@dataclass
class Copy:
    """What the attacker holds at one moment."""

    moment: str
    voted: list[int]                       # who had voted by then (to score the guesses)
    main: bytes = field(default=b"", repr=False)
    wal: bytes = field(default=b"", repr=False)
    rows: list[rawfiles.Row] = field(default_factory=list, repr=False)
    logs: list[rawfiles.Row] = field(default_factory=list, repr=False)


@dataclass
class Run:
    ballot_id: int
    secret: bool
    choices: dict[int, str] = field(repr=False)  # the secret: voter -> choice
    copies: dict[str, Copy] = field(repr=False)
    published: dict[str, str]              # receipt -> choice, as published after the close
    seed: int
    counted: bool                          # closed, with every receipt published
    status: str
    receipts: list[dict] = field(repr=False)  # service.published_receipts after the close
    result: str = field(repr=False)           # the ballot's stored result JSON
    people: list[tuple[int, str, str]] = field(repr=False)  # the voters: id, name, email

    def require_counted(self) -> None:
        """Without the published result there is nothing to link to: adapt close_and_count first."""
        if not self.counted:
            pytest.fail(f"the ballot was not counted (status {self.status}, {len(self.published)} receipts "
                        "published): close_and_count must take it to its result", pytrace=False)


def take_copy(moment: str, voted: list[int], caplog) -> Copy:
    """Copies of the stored bytes (SQLite) or rows (PostgreSQL), and the log so far."""
    copy = Copy(moment, list(voted), logs=rawfiles.log_rows(list(caplog.records)))
    if db.engine.dialect.name == "sqlite":
        path = Path(db.engine.url.database)
        copy.main = path.read_bytes()
        wal = path.with_name(path.name + "-wal")
        copy.wal = wal.read_bytes() if wal.exists() else b""
        return copy
    with db.engine.connect() as conn:
        # Every table of the schema, found in the catalog: tables added later are attacked too.
        tables = list(conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                        "ORDER BY tablename")))
        copy.rows = rawfiles.postgres_rows(conn, tables)
        conn.rollback()
    return copy


def run_ballot(app, meeting, cabinet: dict, caplog, secret: bool) -> Run:
    """Open a live ballot, have the thirty vote one by one in a random order (ten per option), taking
    copies at each moment, then close it."""
    caplog.set_level(logging.DEBUG)
    # The engine's statement log too (SQLALCHEMY_ECHO), as an operator chasing a problem turns it on:
    # its BEGIN ... COMMIT lines show which statements went together, with their parameters.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    ballot = make_live(meeting, cabinet, secret=secret)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    users = [cabinet[role] for role in voter_roles()]
    assert ballot.eligible_count == N_VOTERS
    choices_list = [o for o in OPTIONS for _ in range(N_VOTERS // len(OPTIONS))]
    rng.shuffle(choices_list)
    choices = {u.id: c for u, c in zip(users, choices_list, strict=True)}
    rng.shuffle(users)
    copies: dict[str, Copy] = {}
    voted: list[int] = []
    for user in users:
        service.cast_vote(actor(user), ballot.id, choices[user.id], cvid())
        voted.append(user.id)
        for moment, n in MOMENTS.items():
            if n == len(voted):
                copies[moment] = take_copy(moment, voted, caplog)
    close_and_count(app, ballot, cabinet)
    db.session.rollback()
    copies["after the close"] = take_copy("after the close", voted, caplog)
    ballot = db.session.get(Ballot, ballot.id)
    receipts = service.published_receipts(ballot)
    published = {r["receipt"]: "+".join(a["choice"] for a in r["answers"].values()) for r in receipts}
    counted = ballot.status.value == "closed" and len(published) == N_VOTERS
    people = [(u.id, u.name, u.email) for u in users]
    return Run(ballot.id, secret, choices, copies, published, seed, counted, ballot.status.value, receipts,
               ballot.result or "", people)


def attack(copy: Copy, published: dict[str, str]) -> rawfiles.Attack:
    if copy.rows:
        return rawfiles.attack_postgres(copy.rows, copy.logs, published)
    return rawfiles.attack_sqlite(copy.main, copy.wal, copy.logs, published)


# --- scoring ---------------------------------------------------------------------------------------

def chance_limit(n: int) -> int:
    """The most correct guesses out of n that guessing among three options reaches with probability
    at least SIGNIFICANCE (23 of 30, 14 of 15)."""
    def tail(c: int) -> float:
        return sum(comb(n, k) * (1 / 3) ** k * (2 / 3) ** (n - k) for k in range(c, n + 1))

    return next(c for c in range(n + 1) if tail(c + 1) < SIGNIFICANCE)


@dataclass
class Score:
    voters: int
    combined: int
    by_method: dict[str, int]
    certain: int            # correct links from a row naming both, or a group of one voter and one choice
    report: str

    @property
    def best(self) -> tuple[str, int]:
        return max(self.by_method.items(), key=lambda kv: kv[1], default=("none", 0))


def score(run: Run, copy: Copy, db_name: str) -> Score:
    found = attack(copy, run.published)
    truth = {v: run.choices[v] for v in copy.voted}
    combined = found.guess(truth)
    by_method = {m: sum(found.guess(truth, m)[v] == c for v, c in truth.items()) for m in found.methods()}
    certain = sum(1 for v, c in truth.items() if any(f.certain.get(v) == {c} for f in found.findings))
    right = sum(combined[v] == c for v, c in truth.items())
    lines = [f"{db_name}, {'secret' if run.secret else 'named'} ballot, {copy.moment} (seed {run.seed}): "
             f"{right}/{len(truth)} linked, {certain} with certainty; chance reaches {chance_limit(len(truth))}",
             *(f"  read: {note}" for note in found.notes)]
    notes = {f.method: f for f in found.findings}
    ranked = sorted(by_method.items(), key=lambda kv: (-kv[1], kv[0]))
    orders = [kv for kv in ranked if kv[0].startswith("order:")]
    for method, n in [kv for kv in ranked if not kv[0].startswith("order:")] + orders[:3]:
        f = notes[method]
        lines.append(f"  {method}: {n}/{len(truth)} right, evidence on {len(f.guesses)} voters ({f.note})")
    if len(orders) > 3:
        lines.append(f"  ... {len(orders) - 3} more pairings by order, {orders[-1][1]} to {orders[3][1]} right")
    return Score(len(truth), right, by_method, certain, "\n".join(lines))


# --- the tests -----------------------------------------------------------------------------------------

_RUNS: dict[tuple[str, bool], Run] = {}


def ballot_run(app, meeting, cabinet, caplog, secret: bool) -> Run:
    """One ballot per database and kind for all the moments' tests (a fresh one when run alone)."""
    key = (db.engine.dialect.name, secret)
    if key not in _RUNS:
        _RUNS[key] = run_ballot(app, meeting, cabinet, caplog, secret)
    return _RUNS[key]


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_copies_link_no_voter_to_a_secret_choice(app, full_house, cabinet, caplog, moment):
    """No method links more voters than guessing would (23 of 30, 14 of 15), and none links any voter
    for certain (a stored row, log line or commit holding one voter and one choice): with one vote cast,
    only the latter can be told from luck."""
    run = ballot_run(app, full_house, cabinet, caplog, secret=True)
    run.require_counted()
    result = score(run, run.copies[moment], db.engine.dialect.name)
    print(result.report)  # what each method found, also when it passes (pytest -rP)
    limit = chance_limit(result.voters)
    _method, best = result.best
    assert result.certain == 0 and result.combined <= limit and best <= limit, result.report


@pytest.mark.parametrize("moment", ["after 30 votes", "after the close"])
def test_the_attack_links_a_named_ballot(app, full_house, cabinet, caplog, moment):
    """The control: the same readers and rules on a named ballot, whose vote rows name the voter, link
    nearly everyone (28 of 30) from the rows alone."""
    run = ballot_run(app, full_house, cabinet, caplog, secret=False)
    run.require_counted()
    result = score(run, run.copies[moment], db.engine.dialect.name)
    print(result.report)
    row_method = next(m for m in result.by_method if m.startswith("row:"))
    assert result.combined >= 28 and result.by_method[row_method] >= 28, result.report


def test_published_results_name_no_voter(app, full_house, cabinet, caplog):
    run = ballot_run(app, full_house, cabinet, caplog, secret=True)
    run.require_counted()
    assert len(run.receipts) == N_VOTERS
    assert all(r["voter"] is None for r in run.receipts)
    assert Counter(run.published.values()) == Counter(run.choices.values())
    published = repr(run.receipts)
    for voter_id, name, email in run.people:
        for token in (name, email, f'"voter":{voter_id}', f'"voter": {voter_id}'):
            assert token not in run.result, token
            assert token not in published, token
    for key in ("voter", "voters", "voter_id", "participation"):
        assert f'"{key}"' not in run.result, key


# --- the tools themselves --------------------------------------------------------------------------------

def test_the_sqlite_reader_decodes_what_sqlite_stores(tmp_path):
    """The raw reader against SQLite itself: rowid and WITHOUT ROWID tables, overflow pages, every
    commit in the WAL, and the frames an older WAL generation leaves behind a restarted one."""
    import sqlite3

    path = tmp_path / "raw.sqlite3"
    rng = random.Random(7)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (id INTEGER NOT NULL, a TEXT, b REAL, CONSTRAINT pk PRIMARY KEY (id))")
    conn.execute("CREATE TABLE w (k VARCHAR(32) NOT NULL, v TEXT, n INTEGER, CONSTRAINT pk_w PRIMARY KEY (k)) "
                 "WITHOUT ROWID")
    conn.commit()
    for i in range(120):
        conn.execute("INSERT INTO t (a, b) VALUES (?, ?)", ("x" * rng.randint(0, 9000), rng.random() - 0.5))
        conn.execute("INSERT INTO w VALUES (?, ?, ?)", (f"{rng.getrandbits(128):032x}", "y" * rng.randint(0, 3000),
                                                        rng.randint(-2 ** 40, 2 ** 40)))
        if i % 10 == 9:
            conn.commit()
    main, wal = path.read_bytes(), path.with_name(path.name + "-wal").read_bytes()
    rows = rawfiles.image_rows(rawfiles.latest_image(main, wal))
    assert sorted((r.values["id"], r.values["a"], r.values["b"]) for r in rows if r.table == "t") == \
        sorted(conn.execute("SELECT id, a, b FROM t"))
    assert [(r.values["k"], r.values["v"], r.values["n"]) for r in rows if r.table == "w"] == \
        list(conn.execute("SELECT k, v, n FROM w ORDER BY k"))  # key order is cell order
    commits = rawfiles.wal_commits(main, wal)
    assert [sum(r.table == "w" for r in c.rows) for c in commits] == [0, 0] + [10] * 12
    # A checkpoint, then a write: the WAL starts again from its first frame, the rest stays behind.
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    conn.execute("INSERT INTO w VALUES (?, 'newest', 0)", ("f" * 32,))
    conn.commit()
    main, wal = path.read_bytes(), path.with_name(path.name + "-wal").read_bytes()
    conn.close()  # the last connection's close checkpoints and removes the WAL: read it before
    commits = rawfiles.wal_commits(main, wal)
    assert {c.generation for c in commits} == {0, 1}
    assert [r.values["v"] for c in commits if c.generation == 0 for r in c.rows if r.table == "w"] == ["newest"]
    assert sum(r.table == "w" for c in commits if c.generation == 1 for r in c.rows) >= 100


def test_unpadded_sealed_votes_are_told_by_their_length():
    """A vote kept sealed on its voter's row gives its choice away by its length unless padded."""
    published = {f"AAAA-{n:04d}".replace("0", "A").replace("1", "B"): c for n, c in enumerate(["reject", "approve"])}
    rows = [rawfiles.Row("test", "ballot_participation", {"voter_id": v, "sealed_vote": "Q" * (64 + len(c))})
            for v, c in enumerate(["reject", "approve", "reject", "approve"], start=1)]
    found = rawfiles.Attack(published)
    found.sizes("size:test", rows)
    assert found.guess([1, 2, 3, 4]) == {1: "reject", 2: "approve", 3: "reject", 4: "approve"}
    padded = [rawfiles.Row(r.source, r.table, {**r.values, "sealed_vote": "Q" * 512}) for r in rows]
    found = rawfiles.Attack(published)
    found.sizes("size:test", padded)
    assert not found.findings[0].guesses
