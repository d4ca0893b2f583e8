"""``flask ecabinet backup DEST`` and ``flask ecabinet restore SRC``: the database and the document store together.

The archive is a directory, or a tar file when DEST ends in ``.tar``, ``.tar.gz`` or ``.tgz``::

    manifest.json                      format, revisions, time, counts, every file with its sha256 and size
    database.sqlite3 | database.pgdump the database snapshot
    store/objects/ab/cdef…             the stored files the snapshot references, as laid out in STORAGE_DIR
    audit/checkpoints.jsonl            the audit checkpoint file, as far as the snapshot knows it
    audit/public-key.pem               the checkpoint key's public half (never the private key)

**Why it is consistent.** The database snapshot is taken first, and the files listed are read from that
snapshot. Stored files are content-addressed and never rewritten or deleted (a new version is a new
file), so a file named by the snapshot is still there, with the same bytes, when it is copied after it.
Every copy is hashed on the way and must match its name and its row.

Everything is written under a temporary name beside DEST and renamed into place at the end: an
interrupted backup leaves no archive that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app

from ecabinet.operations import database
from ecabinet.operations.database import OperationError
from ecabinet.pdf.errors import PdfError
from ecabinet.pdf.storage import BlobStore

FORMAT = "ecabinet-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


@dataclass(frozen=True)
class Outcome:
    """What a backup or a restore did, in lines for the operator."""

    lines: list[str]


# -- small helpers ------------------------------------------------------------------------------------------

def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy_hashed(src: Path, dst: Path) -> tuple[str, int]:
    """Copy ``src`` to ``dst`` and return the sha256 and size of the bytes copied (read once)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with src.open("rb") as fin, dst.open("wb") as fout:
        while chunk := fin.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest(), size


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, ensure_ascii=False, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_tree(root: Path) -> None:
    for directory, _dirs, _files in os.walk(root):
        with suppress(OSError):
            fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _is_tar_name(path: Path) -> bool:
    return path.name.endswith(_TAR_SUFFIXES)


def _store() -> BlobStore:
    return BlobStore(current_app.config["STORAGE_DIR"])


def _url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def _kind(url: str) -> str:
    backend = database.parse_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise OperationError(f"Backup supports SQLite and PostgreSQL, not {backend}.")
    return backend


def _migrations() -> Any:
    """The code's migration history (alembic's script directory)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)


def code_head() -> str | None:
    return _migrations().get_current_head()


# -- backup -------------------------------------------------------------------------------------------------

def _checkpoint_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return []


def _signature(line: str) -> str | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    return data.get("sig") if isinstance(data, dict) and isinstance(data.get("sig"), str) else None


def make_backup(dest: Path) -> Outcome:
    """Write an archive of the database and the stored files it references to ``dest`` (which must not exist)."""
    from ecabinet.audit import checkpoints

    dest = dest.expanduser().absolute()
    if dest.exists() or dest.is_symlink():
        raise OperationError(f"{dest} already exists: a backup never overwrites; choose a new name.")
    if not dest.parent.is_dir():
        raise OperationError(f"The folder {dest.parent} does not exist.")
    url = _url()
    kind = _kind(url)
    store = _store()
    checkpoint_file = checkpoints.checkpoint_path()
    public_key = checkpoints.public_key_path()

    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        # Lines already in the checkpoint file before the snapshot belong to it even when the table lacks
        # them (a crash between the line and the row is itself evidence audit-verify must still see).
        lines_before = set(_checkpoint_lines(checkpoint_file))
        db_name = "database.sqlite3" if kind == "sqlite" else "database.pgdump"
        schema: str | None = None
        if kind == "sqlite":
            facts = database.sqlite_snapshot(database.parse_url(url), staging / db_name)
        else:
            from ecabinet.extensions import db

            facts, schema = database.pg_snapshot(db.engine, database.parse_url(url), staging / db_name)
        db_sha, db_size = _sha256_file(staging / db_name)

        files: list[dict[str, Any]] = []
        for sha256, (size, rows) in sorted(facts.blobs.items()):
            if not _HEX64.match(sha256 or ""):
                raise OperationError(f"{rows[0]} names {sha256!r}, which is not a sha256: the database is damaged.")
            source = store.path(sha256)
            relative = Path("store", "objects", sha256[:2], sha256[2:])
            if not source.is_file():
                raise OperationError(f"The stored file of {', '.join(rows[:3])} is missing ({source}): the document "
                                     "store is incomplete, so no consistent backup can be made.")
            got_sha, got_size = _copy_hashed(source, staging / relative)
            if got_sha != sha256 or (size is not None and got_size != size):
                raise OperationError(f"The stored file {source} of {', '.join(rows[:3])} does not match its sha256 "
                                     "or size: the document store is damaged.")
            files.append({"path": relative.as_posix(), "sha256": sha256, "size": got_size, "referenced_by": rows})

        audit: dict[str, Any] = {"checkpoint_file": None, "public_key": None}
        (staging / "audit").mkdir()
        kept = [line for line in _checkpoint_lines(checkpoint_file)
                if line in lines_before or _signature(line) in facts.checkpoint_signatures]
        if kept or checkpoint_file.exists():
            target = staging / "audit" / "checkpoints.jsonl"
            target.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
            sha, size = _sha256_file(target)
            audit["checkpoint_file"] = {"path": "audit/checkpoints.jsonl", "sha256": sha, "size": size,
                                        "lines": len(kept)}
        if public_key.is_file():
            sha, size = _copy_hashed(public_key, staging / "audit" / "public-key.pem")
            audit["public_key"] = {"path": "audit/public-key.pem", "sha256": sha, "size": size}

        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": _now(),
            "app_revision": facts.revision,
            "code_head": code_head(),
            "database": {"kind": kind, "path": db_name, "sha256": db_sha, "size": db_size, "schema": schema},
            "files": files,
            "audit": audit,
            "counts": {"tables": facts.counts, "rows": sum(facts.counts.values()), "files": len(files),
                       "file_bytes": sum(f["size"] for f in files),
                       "checkpoints_in_table": len(facts.checkpoint_signatures)},
        }
        _write_json(staging / MANIFEST, manifest)
        _fsync_tree(staging)
        if _is_tar_name(dest):
            _write_tar(staging, dest)
        else:
            os.rename(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    counts = manifest["counts"]
    return Outcome([
        f"Backup written to {dest}",
        f"  database: {kind}{f' (schema {schema})' if schema else ''}, revision {facts.revision}, "
        f"{counts['rows']} rows in {len(facts.counts)} tables",
        f"  files: {counts['files']} ({counts['file_bytes']} bytes)",
        f"  audit: {counts['tables'].get('audit_entry', 0)} entries, "
        f"{(audit['checkpoint_file'] or {}).get('lines', 0)} checkpoint lines"
        f"{', public key' if audit['public_key'] else ', no public key'}",
    ])


def _write_tar(staging: Path, dest: Path) -> None:
    mode = "w:gz" if dest.name.endswith((".tar.gz", ".tgz")) else "w"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.partial-", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with tarfile.open(tmp, mode) as tar:
            # The manifest first: a reader can learn what the archive holds without reading it all.
            tar.add(staging / MANIFEST, arcname=MANIFEST)
            for entry in sorted(staging.iterdir()):
                if entry.name != MANIFEST:
                    tar.add(entry, arcname=entry.name)
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


# -- reading an archive -------------------------------------------------------------------------------------

@contextmanager
def _opened(src: Path, scratch_parent: Path) -> Iterator[Path]:
    """The archive as a directory: itself, or a tar file unpacked into a scratch folder removed afterwards."""
    if not src.exists():
        raise OperationError(f"No backup at {src}.")
    if src.is_dir():
        yield src
        return
    try:
        is_tar = tarfile.is_tarfile(src)
    except OSError as exc:
        raise OperationError(f"{src} cannot be read: {exc}") from exc
    if not is_tar:
        raise OperationError(f"{src} is not a backup archive: neither a folder nor a tar file.")
    scratch_parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".restore-", dir=scratch_parent))
    try:
        try:
            with tarfile.open(src) as tar:
                # The "data" filter refuses absolute paths, links out of the folder and device files.
                tar.extractall(scratch, filter="data")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise OperationError(f"The archive {src} is damaged or truncated: {exc}") from exc
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _safe_member(root: Path, relative: Any, what: str) -> Path:
    if not isinstance(relative, str) or not relative or relative.startswith("/") or ".." in Path(relative).parts:
        raise OperationError(f"The manifest names an unsafe path for {what}: {relative!r}.")
    return root / relative


def read_manifest(root: Path, src: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        raise OperationError(f"{src} has no {MANIFEST}: it is not an e-Cabinet backup, or it is incomplete.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise OperationError(f"The {MANIFEST} of {src} is damaged: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise OperationError(f"{src} is not an e-Cabinet backup (its {MANIFEST} is of another format).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise OperationError(f"{src} is a backup of format version {manifest.get('format_version')!r}; this "
                             f"release reads version {FORMAT_VERSION}.")
    db_info, files, audit = manifest.get("database"), manifest.get("files"), manifest.get("audit")
    if not isinstance(db_info, dict) or db_info.get("kind") not in ("sqlite", "postgresql") \
            or not isinstance(files, list) or not isinstance(audit, dict):
        raise OperationError(f"The {MANIFEST} of {src} is incomplete: it lacks the database, files or audit part.")
    counts = manifest.get("counts")
    if not isinstance(counts, dict) or not isinstance(counts.get("tables"), dict) \
            or any(not isinstance(v, dict) for v in audit.values() if v is not None):
        raise OperationError(f"The {MANIFEST} of {src} is incomplete: its counts or audit part is malformed.")
    for entry in files:
        if not isinstance(entry, dict) or not _HEX64.match(str(entry.get("sha256"))) \
                or not isinstance(entry.get("size"), int):
            raise OperationError(f"The {MANIFEST} of {src} lists a file without a valid sha256 and size: {entry!r}.")
    return manifest


def verify_archive(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Every problem of the archive's contents against its manifest (empty: all present and intact)."""
    problems: list[str] = []

    def check(entry: dict[str, Any], what: str) -> None:
        try:
            path = _safe_member(root, entry.get("path"), what)
        except OperationError as exc:
            problems.append(str(exc))
            return
        if not path.is_file():
            problems.append(f"{entry.get('path')} ({what}) is missing")
            return
        sha, size = _sha256_file(path)
        if sha != entry.get("sha256") or size != entry.get("size"):
            problems.append(f"{entry.get('path')} ({what}) does not match its sha256 in the manifest")

    check(manifest["database"], "the database")
    for entry in manifest["files"]:
        check(entry, "file of " + ", ".join(entry.get("referenced_by") or ["the store"])[:120])
        expected = f"store/objects/{entry['sha256'][:2]}/{entry['sha256'][2:]}"
        if entry.get("path") != expected:
            problems.append(f"{entry.get('path')} is not where a file of sha256 {entry['sha256']} belongs")
    for name, what in (("checkpoint_file", "the audit checkpoint file"), ("public_key", "the audit public key")):
        if manifest["audit"].get(name):
            check(manifest["audit"][name], what)
    return problems


# -- restore ------------------------------------------------------------------------------------------------

def _files_in(root: Path) -> list[Path]:
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() or p.is_symlink()]


def restore_backup(src: Path) -> Outcome:
    """Restore ``src`` into the configured (empty) database and (empty) document store."""
    from ecabinet.audit import checkpoints
    from ecabinet.extensions import db

    src = src.expanduser().absolute()
    url = _url()
    kind = _kind(url)
    parsed = database.parse_url(url)
    store = _store()
    storage_root = Path(store.root).absolute()

    with _opened(src, storage_root.parent) as root:
        manifest = read_manifest(root, src)
        db_info = manifest["database"]
        if db_info["kind"] != kind:
            raise OperationError(f"The archive holds a {db_info['kind']} database, but DATABASE_URL is {kind}: "
                                 "restore into the same kind of database.")

        revision = manifest.get("app_revision")
        migrations = _migrations()
        head = migrations.get_current_head()
        history = [script.revision for script in migrations.walk_revisions()]
        if revision not in history:
            raise OperationError(f"The archive's database is at revision {revision!r}, which this release does not "
                                 "know (a newer release made it): restore it with that release or a later one.")

        # Every refusal comes before anything is written; the cheap ones first.
        if kind == "sqlite":
            rows, tables = database.sqlite_contents(parsed)
            if tables:
                raise OperationError(
                    f"The target database {database.sqlite_path(parsed)} is not empty: it has {len(tables)} tables "
                    f"and {rows} rows. Restore into a new, empty database (a new DATABASE_URL file).")
            target_schema = None
        else:
            target_schema, count, tables, others = database.pg_contents(db.engine)
            if target_schema is None:
                raise OperationError("The target database's search_path names no existing schema: create the "
                                     "schema first (it must be empty).")
            if count or others:
                shown = ", ".join(tables[:4]) + (", …" if len(tables) > 4 else "")
                raise OperationError(
                    f"The target schema {target_schema} is not empty: it has {count} tables"
                    f"{f' ({shown})' if shown else ''} and {others} other objects. Restore into a new, empty "
                    "database or schema.")
        present = _files_in(storage_root)
        if present:
            raise OperationError(f"The document store {storage_root} is not empty: it holds {len(present)} files "
                                 f"(e.g. {present[0]}). Restore into an empty STORAGE_DIR.")
        checkpoint_target = checkpoints.checkpoint_path()
        if checkpoint_target.exists() and checkpoint_target.stat().st_size > 0:
            raise OperationError(f"The audit checkpoint file {checkpoint_target} is not empty: it belongs to another "
                                 "database. Move it away or set AUDIT_CHECKPOINT_FILE to a new file.")
        key_target = checkpoints.public_key_path()
        key_entry = manifest["audit"].get("public_key")
        if key_entry and key_target.exists() \
                and _sha256_file(key_target)[0] != key_entry["sha256"]:
            raise OperationError(f"The audit public key {key_target} is not the one that signed the archive's "
                                 "checkpoints: the restored chain would not verify. Move that key pair away, or set "
                                 "AUDIT_SIGNING_KEY_FILE to the original key.")
        # Last of the checks, as it reads the whole archive: every byte is hashed before one is written.
        problems = verify_archive(root, manifest)
        if problems:
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            raise OperationError(f"The archive {src} is damaged; nothing was restored: {'; '.join(problems[:5])}"
                                 f"{more}.")

        # The database first: it is restored in one step (a renamed file, or one transaction), so a failure
        # leaves the target as empty as it was and the restore can simply be run again.
        db_file = root / db_info["path"]
        if kind == "sqlite":
            db.engine.dispose()
            database.sqlite_restore(db_file, parsed)
        else:
            database.pg_restore(db_file, parsed, db_info.get("schema") or "public", target_schema or "public")
        db.engine.dispose()

        restored_bytes = 0
        for entry in manifest["files"]:
            sha256, stored_path = entry["sha256"], store.path(entry["sha256"])
            # put_file hashes again as it writes: what lands in the store is what the manifest promised.
            try:
                got, size, _path = store.put_file(root / entry["path"], max_bytes=entry["size"] + 1)
            except PdfError as exc:  # the disk filled up (or the file grew) under the restore
                raise OperationError(f"Writing {entry['path']} into the document store failed ({exc.code}); the "
                                     "database is restored but the store is not complete. Free space, empty the "
                                     "database and the store, and restore again.") from exc
            if got != sha256:
                stored_path.unlink(missing_ok=True)
                raise OperationError(f"{entry['path']} changed while it was being restored; run the restore again "
                                     "into an empty database and store.")
            restored_bytes += size
        with suppress(OSError):
            store.tmp.rmdir()  # put_file's scratch folder, empty again

        lines = [f"Restored {src}",
                 f"  database: {kind}, revision {revision}, made {manifest.get('created_at')}"]
        checkpoint_entry = manifest["audit"].get("checkpoint_file")
        if checkpoint_entry:
            checkpoint_target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / checkpoint_entry["path"], checkpoint_target)
            lines.append(f"  audit checkpoint file: {checkpoint_target} ({checkpoint_entry.get('lines')} lines)")
        if key_entry and not key_target.exists():
            key_target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / key_entry["path"], key_target)
        if key_entry and not checkpoints.key_path().exists():
            lines.append(f"  audit public key: {key_target}. The private key is never in a backup: put the original "
                         f"at {checkpoints.key_path()} before the job worker signs a checkpoint, or new checkpoints "
                         "will be signed by a new key that this public key does not verify.")

    counts = database.sqlite_counts(parsed) if kind == "sqlite" else database.pg_counts(db.engine)
    expected = manifest["counts"]["tables"]
    differ = [f"{t}: {counts.get(t)} rows, expected {n}" for t, n in expected.items() if counts.get(t) != n]
    if differ:
        raise OperationError("The restored database does not hold what the archive recorded: " + "; ".join(differ[:5]))
    lines.append(f"  {sum(counts.values())} rows in {len(counts)} tables; {len(manifest['files'])} files "
                 f"({restored_bytes} bytes), every sha256 checked")

    if revision != head:
        from alembic.util.exc import CommandError
        from flask_migrate import upgrade

        db.engine.dispose()
        try:
            upgrade(directory=current_app.extensions["migrate"].directory)
        except CommandError as exc:
            raise OperationError(f"The archive was restored at revision {revision}, but upgrading it failed: {exc}. "
                                 "Run flask db upgrade once the cause is fixed.") from exc
        finally:
            db.engine.dispose()
        lines.append(f"  upgraded the database from revision {revision} to {head}")
    return Outcome(lines)
