"""``flask ecabinet backup`` / ``restore``, on SQLite and PostgreSQL: the demo cabinet backed up from one
database and store and restored into an empty second pair verifies (audit chain with its checkpoints,
every closed ballot, every stored file against its row); a tampered archive, a missing or unreadable one,
and a non-empty target are refused with a message and a non-zero exit, leaving the target untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import conftest as harness
from tests.conftest import POSTGRES_URL, _pg_admin_engine, make_test_config

pytestmark = pytest.mark.timeout(300)


@contextmanager
def running(config: dict) -> Iterator[Flask]:
    from ecabinet import create_app
    from ecabinet.extensions import db

    app = create_app(config)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def cli(app: Flask, *args: str):  # noqa: ANN201 - click's Result
    return app.test_cli_runner().invoke(args=["ecabinet", *args])


@dataclass
class Target:
    """An empty database and an empty store to restore into, with the restored app's own audit files."""

    url: str
    root: Path

    def config(self) -> dict:
        return make_test_config(self.url, STORAGE_DIR=str(self.root / "store"),
                                AUDIT_CHECKPOINT_FILE=str(self.root / "audit-checkpoints.jsonl"),
                                # Another machine: no signing key of its own, the public key comes from the archive.
                                AUDIT_SIGNING_KEY_FILE=str(self.root / "keys" / "audit-signing-key.pem"))


@contextmanager
def empty_pair(database: harness.TestDatabase, root: Path) -> Iterator[Target]:
    """A new SQLite file, or a new PostgreSQL schema as tests/conftest.py makes them (dropped afterwards)."""
    root.mkdir()
    if database.kind == "sqlite":
        yield Target(f"sqlite:///{root / 'restored.sqlite3'}", root)
        return
    schema = f"r_{uuid.uuid4().hex[:12]}"
    engine = _pg_admin_engine()
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Target(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", root)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def empty_target(database: harness.TestDatabase, tmp_path: Path) -> Iterator[Target]:
    with empty_pair(database, tmp_path / "target") as target:
        yield target


@pytest.fixture
def second_target(database: harness.TestDatabase, tmp_path: Path) -> Iterator[Target]:
    """Another empty pair, for a test that needs a source and a target of its own."""
    with empty_pair(database, tmp_path / "second") as target:
        yield target


@dataclass
class Source:
    config: dict
    archive: Path
    tables: dict[str, int]


@pytest.fixture(scope="module")
def demo_backup(database: harness.TestDatabase, tmp_path_factory) -> Source:
    """The demo cabinet loaded once per database and backed up as a folder."""
    from ecabinet.audit import checkpoints
    from ecabinet.core import uow
    from ecabinet.demo import load_demo

    root = tmp_path_factory.mktemp(f"source-{database.kind}")
    config = make_test_config(database.fresh(), STORAGE_DIR=str(root / "store"))
    with running(config) as app:
        load_demo("demo-password-2026")
        uow.commit()
        # A signed checkpoint in the file and the table: the restored copy must carry both.
        checkpoints.take_checkpoint("manual")
        uow.commit()
        archive = root / "backup"
        result = cli(app, "backup", str(archive))
        assert result.exit_code == 0, result.output
        assert f"Backup written to {archive}" in result.output
    manifest = json.loads((archive / "manifest.json").read_text())
    return Source(config, archive, manifest["counts"]["tables"])


def _damaged_copy(archive: Path, into: Path) -> tuple[Path, str]:
    copy = into / "tampered"
    shutil.copytree(archive, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    victim = manifest["files"][0]["path"]
    data = bytearray((copy / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (copy / victim).write_bytes(bytes(data))
    return copy, victim


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_manifest_describes_the_snapshot(demo_backup: Source, database: harness.TestDatabase) -> None:
    manifest = json.loads((demo_backup.archive / "manifest.json").read_text())
    assert manifest["format"] == "ecabinet-backup" and manifest["format_version"] == 1
    assert manifest["database"]["kind"] == database.kind
    assert manifest["app_revision"] == manifest["code_head"]
    assert manifest["counts"]["files"] == len(manifest["files"]) > 0
    for entry in manifest["files"]:
        path = demo_backup.archive / entry["path"]
        assert _sha256(path) == entry["sha256"] and path.stat().st_size == entry["size"]
    assert manifest["audit"]["checkpoint_file"]["lines"] >= 1
    assert manifest["audit"]["public_key"] is not None
    # Never the private key, and no stray files beside what the manifest lists.
    assert not list(demo_backup.archive.rglob("*signing-key.pem"))
    listed = {entry["path"] for entry in manifest["files"]} | {manifest["database"]["path"], "manifest.json",
                                                                "audit/checkpoints.jsonl", "audit/public-key.pem"}
    on_disk = {p.relative_to(demo_backup.archive).as_posix() for p in demo_backup.archive.rglob("*") if p.is_file()}
    assert on_disk == listed


@pytest.mark.parametrize("as_tar", [False, True], ids=["folder", "tar"])
def test_restore_into_an_empty_database_and_store_verifies(demo_backup: Source, empty_target: Target,
                                                           tmp_path: Path, as_tar: bool) -> None:
    from ecabinet.documents.models import DocumentVersion
    from ecabinet.extensions import db
    from ecabinet.minutes.models import Minutes
    from ecabinet.pdf.storage import BlobStore
    from ecabinet.voting.models import Ballot, BallotStatus

    archive = demo_backup.archive
    if as_tar:
        # A tar archive made by the command itself, from the same source.
        archive = tmp_path / "backup.tar.gz"
        with running(demo_backup.config) as source:
            made = cli(source, "backup", str(archive))
            assert made.exit_code == 0, made.output

    with running(empty_target.config()) as app:
        result = cli(app, "restore", str(archive))
        assert result.exit_code == 0, result.output
        assert "every sha256 checked" in result.output

        verified = cli(app, "audit-verify")
        assert verified.exit_code == 0, verified.output
        assert "Audit chain OK" in verified.output and "signed checkpoints" in verified.output

        closed = db.session.scalars(select_ids(Ballot, Ballot.status == BallotStatus.CLOSED)).all()
        assert closed
        for ballot_id in closed:
            ballot = cli(app, "verify-ballot", str(ballot_id))
            assert ballot.exit_code == 0, ballot.output

        store = BlobStore(app.config["STORAGE_DIR"])
        versions = db.session.scalars(sa.select(DocumentVersion)).all()
        assert versions
        for version in versions:
            assert _sha256(store.path(version.sha256)) == version.sha256
            assert store.path(version.sha256).stat().st_size == version.size
        for digest in db.session.scalars(sa.select(Minutes.pdf_sha256).where(Minutes.pdf_sha256.is_not(None))):
            assert _sha256(store.path(digest)) == digest

        counts = {t: db.session.scalar(sa.text(f'SELECT count(*) FROM "{t}"')) for t in demo_backup.tables}  # noqa: S608
        assert counts == demo_backup.tables

        # Restoring again, into what is now a full database, is refused and changes nothing.
        again = cli(app, "restore", str(archive))
        assert again.exit_code != 0
        assert "is not empty" in again.output and "Traceback" not in again.output


def select_ids(model, condition):  # noqa: ANN001, ANN201
    return sa.select(model.id).where(condition).order_by(model.id)


def test_a_tampered_file_is_refused_before_anything_is_written(demo_backup: Source, empty_target: Target,
                                                               tmp_path: Path) -> None:
    tampered, victim = _damaged_copy(demo_backup.archive, tmp_path)
    with running(empty_target.config()) as app:
        result = cli(app, "restore", str(tampered))
        assert result.exit_code != 0
        assert "damaged" in result.output and victim in result.output and "does not match its sha256" in result.output
        assert "Traceback" not in result.output
        # Nothing was written: the target is still empty, so the intact archive restores.
        assert not (empty_target.root / "store").exists() or not any((empty_target.root / "store").rglob("*.*"))
        assert cli(app, "restore", str(demo_backup.archive)).exit_code == 0


def test_restoring_into_a_non_empty_database_is_refused(demo_backup: Source, tmp_path: Path,
                                                        database: harness.TestDatabase) -> None:
    from ecabinet.extensions import db

    with running(demo_backup.config) as app:
        before = db.session.scalar(sa.text("SELECT count(*) FROM audit_entry"))
        result = cli(app, "restore", str(demo_backup.archive))
        assert result.exit_code != 0
        assert ("is not empty" in result.output
                and ("target database" in result.output or "target schema" in result.output))
        assert "Traceback" not in result.output
        db.session.rollback()
        assert db.session.scalar(sa.text("SELECT count(*) FROM audit_entry")) == before


def test_a_non_empty_store_is_refused(demo_backup: Source, empty_target: Target) -> None:
    (empty_target.root / "store").mkdir()
    (empty_target.root / "store" / "left-over.pdf").write_bytes(b"%PDF-1.7")
    with running(empty_target.config()) as app:
        result = cli(app, "restore", str(demo_backup.archive))
        assert result.exit_code != 0
        assert "document store" in result.output and "is not empty" in result.output


@pytest.mark.parametrize("problem", ["missing", "not-an-archive", "truncated-tar", "damaged-manifest",
                                     "no-manifest"])
def test_an_unreadable_archive_is_named(demo_backup: Source, empty_target: Target, tmp_path: Path,
                                        problem: str) -> None:
    path = tmp_path / "archive"
    expected = {"missing": "No backup at", "not-an-archive": "is not a backup archive",
                "truncated-tar": "damaged or truncated", "damaged-manifest": "manifest.json of",
                "no-manifest": "has no manifest.json"}[problem]
    if problem == "not-an-archive":
        path.write_bytes(b"not a tar file\n" * 100)
    elif problem == "truncated-tar":
        whole = tmp_path / "whole.tar.gz"
        with running(demo_backup.config) as source:
            assert cli(source, "backup", str(whole)).exit_code == 0
        path = tmp_path / "cut.tar.gz"
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    elif problem == "damaged-manifest":
        shutil.copytree(demo_backup.archive, path)
        (path / "manifest.json").write_text('{"format": "ecabinet-backup", ')
    elif problem == "no-manifest":
        shutil.copytree(demo_backup.archive, path)
        (path / "manifest.json").unlink()
    with running(empty_target.config()) as app:
        result = cli(app, "restore", str(path))
    assert result.exit_code == 1, result.output
    assert expected in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_backup_never_overwrites(demo_backup: Source) -> None:
    with running(demo_backup.config) as app:
        result = cli(app, "backup", str(demo_backup.archive))
    assert result.exit_code == 1 and "already exists" in result.output



def test_an_archive_of_an_older_revision_is_upgraded(empty_target: Target, second_target: Target,
                                                     tmp_path: Path) -> None:
    from flask_migrate import upgrade

    from ecabinet.extensions import db

    archive = tmp_path / "old.tar"
    with running(second_target.config()) as old:
        upgrade(revision="0011")  # a database of the previous release
        made = cli(old, "backup", str(archive))
        assert made.exit_code == 0, made.output
        assert "revision 0011" in made.output
    with running(empty_target.config()) as app:
        from ecabinet.operations.backup import code_head

        head = code_head()  # whatever the code's latest revision is
        result = cli(app, "restore", str(archive))
        assert result.exit_code == 0, result.output
        assert f"upgraded the database from revision 0011 to {head}" in result.output
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head


def test_an_archive_of_a_newer_release_is_refused(demo_backup: Source, empty_target: Target, tmp_path: Path) -> None:
    newer = tmp_path / "newer"
    shutil.copytree(demo_backup.archive, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["app_revision"] = "9999"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    with running(empty_target.config()) as app:
        result = cli(app, "restore", str(newer))
    assert result.exit_code == 1 and "revision '9999'" in result.output and "newer release" in result.output
