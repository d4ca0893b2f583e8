"""The database half of a backup: a consistent snapshot, what it references in the store, and its restore.

SQLite is copied with the online backup API (a consistent copy, WAL included, while the app keeps
writing). PostgreSQL is dumped by ``pg_dump --format=custom`` inside an exported snapshot: the
transaction that lists the stored files the dump references stays open while ``pg_dump`` reads the
same snapshot, so the dump and the file list agree to the row.

Both are read by table name, as a database tool would, so that the backup does not depend on the
models of the running code (an archive may be older than them).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url


class OperationError(Exception):
    """Something the operator must fix; the message says what, and the command exits non-zero."""


@dataclass
class SnapshotFacts:
    """What a database snapshot holds that the archive records beside it."""

    revision: str | None
    counts: dict[str, int]
    # sha256 of each stored file the snapshot references -> (size recorded in its row or None, the rows)
    blobs: dict[str, tuple[int | None, list[str]]] = field(default_factory=dict)
    checkpoint_signatures: set[str] = field(default_factory=set)


Rows = Callable[[str], Sequence[Sequence[Any]]]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_facts(rows: Rows, tables: list[str], qualify: Callable[[str], str]) -> SnapshotFacts:
    """Revision, row counts, referenced files and signed checkpoints, read through ``rows(sql)``."""
    if "alembic_version" not in tables:
        raise OperationError("The database has no alembic_version table: it is not an e-Cabinet database, "
                             "or its schema was never created (flask db upgrade).")
    found = rows(f"SELECT version_num FROM {qualify('alembic_version')}")  # noqa: S608 - a catalogue name
    facts = SnapshotFacts(revision=found[0][0] if found else None,
                          counts={t: int(rows(f"SELECT count(*) FROM {qualify(t)}")[0][0])  # noqa: S608
                                  for t in tables})

    def refer(sha256: str, size: int | None, where: str) -> None:
        known_size, where_list = facts.blobs.setdefault(sha256, (size, []))
        where_list.append(where)
        if known_size is None and size is not None:
            facts.blobs[sha256] = (size, where_list)

    # Every file of the store that a row names: briefing versions and final minutes. Readers' copies,
    # board books and prepared copies are caches, made again on demand, and are left out.
    if "document_version" in tables:
        for row_id, sha256, size in rows(f"SELECT id, sha256, size FROM {qualify('document_version')}"):  # noqa: S608
            refer(sha256, int(size), f"document_version {row_id}")
    if "minutes" in tables:
        for row_id, sha256 in rows(f"SELECT id, pdf_sha256 FROM {qualify('minutes')} "  # noqa: S608
                                   "WHERE pdf_sha256 IS NOT NULL"):
            refer(sha256, None, f"minutes {row_id}")
    if "audit_checkpoint" in tables:
        facts.checkpoint_signatures = {r[0] for r in rows(f"SELECT signature FROM {qualify('audit_checkpoint')}")}  # noqa: S608
    return facts


# -- SQLite -------------------------------------------------------------------------------------------------

def _read_only(path: Path) -> str:
    """A URI that opens ``path`` read-only (quoted: a path may hold '?' or '#')."""
    return f"{path.absolute().as_uri()}?mode=ro"


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise OperationError(f"Backup and restore need a SQLite database file, not {url.render_as_string()}.")
    return Path(url.database)


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def sqlite_snapshot(url: URL, out: Path) -> SnapshotFacts:
    """Copy the database into ``out`` with the online backup API and read the copy's facts."""
    source = sqlite_path(url)
    if not source.is_file():
        raise OperationError(f"The database file {source} does not exist.")
    # Read-only: a backup must never create or change the database it copies.
    with sqlite3.connect(_read_only(source), uri=True) as src, sqlite3.connect(out) as dst:
        src.backup(dst)
        # The copy keeps the source's WAL mode; one self-contained file is what the archive must hold.
        dst.execute("PRAGMA journal_mode=DELETE")
    src.close()
    dst.close()
    return sqlite_facts(out)


def sqlite_facts(path: Path) -> SnapshotFacts:
    conn = sqlite3.connect(_read_only(path), uri=True)
    try:
        return read_facts(lambda sql: conn.execute(sql).fetchall(), _sqlite_tables(conn), _quote)
    except sqlite3.DatabaseError as exc:
        raise OperationError(f"The database copy {path.name} cannot be read: {exc}") from exc
    finally:
        conn.close()


def sqlite_contents(url: URL) -> tuple[int, list[str]]:
    """(rows in all, table names) of the target database; (0, []) when the file does not exist yet."""
    path = sqlite_path(url)
    if not path.exists() or path.stat().st_size == 0:
        return 0, []
    conn = sqlite3.connect(_read_only(path), uri=True)
    try:
        tables = _sqlite_tables(conn)
        return sum(int(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0])  # noqa: S608
                   for t in tables), tables
    except sqlite3.DatabaseError as exc:
        raise OperationError(f"The target database {path} is not a SQLite database ({exc}); restore needs a new, "
                             "empty one.") from exc
    finally:
        conn.close()


def sqlite_restore(copy: Path, url: URL) -> None:
    """Write the archive's database to the target path: built beside it, then renamed into place."""
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restore-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        with sqlite3.connect(_read_only(copy), uri=True) as src, sqlite3.connect(tmp) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)  # of the empty file replaced: not ours
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def sqlite_counts(url: URL) -> dict[str, int]:
    path = sqlite_path(url)
    conn = sqlite3.connect(_read_only(path), uri=True)
    try:
        return {t: int(conn.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0])  # noqa: S608
                for t in _sqlite_tables(conn)}
    finally:
        conn.close()


# -- PostgreSQL ---------------------------------------------------------------------------------------------

def pg_binary(name: str) -> str:
    """``pg_dump``, ``pg_restore`` or ``psql``: from PG_BINDIR when set, else the PATH, else the newest
    Debian-style install under /usr/lib/postgresql."""
    bindir = os.environ.get("PG_BINDIR")
    if bindir:
        candidate = Path(bindir) / name
        if candidate.is_file():
            return str(candidate)
        raise OperationError(f"{name} is not in PG_BINDIR ({bindir}).")
    found = shutil.which(name)
    if found:
        return found
    installs = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if installs:
        return str(installs[-1])
    raise OperationError(f"{name} was not found: install the PostgreSQL client (postgresql-client) or set "
                         "PG_BINDIR to the folder that holds it.")


def pg_environment(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the child processes, and their environment (the password goes
    there, never on the command line where other users of the machine could read it)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {}
    for key, value in url.query.items():
        params[key] = value[-1] if isinstance(value, tuple) else value
    for key, value in (("host", url.host), ("port", url.port), ("user", url.username), ("dbname", url.database)):
        if value is not None:
            params[key] = str(value)
    env = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    try:
        return make_conninfo(**params), env
    except psycopg.Error as exc:
        raise OperationError(f"DATABASE_URL cannot be passed to the PostgreSQL client programs: {exc}") from exc


def pg_tables(conn: sa.Connection) -> tuple[str | None, list[str]]:
    schema = conn.scalar(sa.text("SELECT current_schema()"))
    if schema is None:
        return None, []
    return schema, [r[0] for r in conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"), {"s": schema})]


def pg_snapshot(engine: sa.Engine, url: URL, out: Path) -> tuple[SnapshotFacts, str]:
    """Dump the app's schema into ``out`` from one exported snapshot; return its facts and the schema."""
    conninfo, env = pg_environment(url)
    pg_dump = pg_binary("pg_dump")
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            snapshot = conn.scalar(sa.text("SELECT pg_export_snapshot()"))
            schema, tables = pg_tables(conn)
            if schema is None:
                raise OperationError("The database's search_path names no existing schema: nothing to back up.")

            def rows(sql: str) -> Sequence[Sequence[Any]]:
                return conn.execute(sa.text(sql)).all()

            facts = read_facts(rows, tables, lambda t: f"{_quote(schema)}.{_quote(t)}")
            # The exported snapshot lives as long as this transaction: pg_dump must read it while it is open.
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--schema={_quote(schema)}",
                  "--no-password", f"--file={out}", f"--dbname={conninfo}"], env, "pg_dump")
    return facts, schema


def pg_contents(engine: sa.Engine) -> tuple[str | None, int, list[str], int]:
    """(schema, tables, their names, other relations: sequences, views, …) of the target schema."""
    with engine.connect() as conn:
        schema, tables = pg_tables(conn)
        if schema is None:
            return None, 0, [], 0
        others = conn.scalar(sa.text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :s AND c.relkind IN ('S', 'v', 'm', 'f')"), {"s": schema}) or 0
        functions = conn.scalar(sa.text(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s"),
            {"s": schema}) or 0
    return schema, len(tables), tables, int(others) + int(functions)


_SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ (?:SCHEMA - |(?:ACL|COMMENT) - SCHEMA )")


def pg_restore(dump: Path, url: URL, source_schema: str, target_schema: str) -> None:
    """Restore the dump into the (existing, empty) target schema, in one transaction.

    ``pg_restore`` writes the dump as SQL and ``psql`` runs it with ``--single-transaction``: a failure
    leaves the schema as empty as it was. The target schema already exists, so the dump's own
    ``CREATE SCHEMA`` (and its grants) are left out; when the target's name differs from the dumped
    one, schema-qualified names are renamed in the statements, never in the rows' data.
    """
    conninfo, env = pg_environment(url)
    env["PGOPTIONS"] = "-c client_min_messages=warning"
    listing = _run([pg_binary("pg_restore"), "--list", str(dump)], env, "pg_restore --list")
    with tempfile.TemporaryDirectory(prefix="ecabinet-restore-") as tmp:
        toc = Path(tmp) / "toc.list"
        toc.write_text("".join(line + "\n" for line in listing.splitlines() if not _SCHEMA_ENTRY.match(line)),
                       encoding="utf-8")
        restore_err = Path(tmp) / "pg_restore.err"
        psql_err = Path(tmp) / "psql.err"
        with restore_err.open("wb") as rerr, psql_err.open("wb") as perr:
            # Fixed argument lists; the paths and the connection string are the operator's own.
            producer = subprocess.Popen(  # noqa: S603
                [pg_binary("pg_restore"), "--no-owner", f"--use-list={toc}", "--file=-", str(dump)],
                stdout=subprocess.PIPE, stderr=rerr, env=env)
            consumer = subprocess.Popen(  # noqa: S603
                [pg_binary("psql"), "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                 f"--dbname={conninfo}", "--file=-"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=perr, env=env)
            assert producer.stdout is not None and consumer.stdin is not None
            try:
                for line in _renamed(producer.stdout, source_schema, target_schema):
                    consumer.stdin.write(line)
            except BrokenPipeError:
                pass  # psql stopped at an error: reported below
            finally:
                try:
                    consumer.stdin.close()
                except BrokenPipeError:
                    pass
                producer.stdout.close()
            consumer_rc = consumer.wait()
            producer_rc = producer.wait()
        if producer_rc != 0:
            raise OperationError(f"pg_restore could not read the dump: {_tail(restore_err)}")
        if consumer_rc != 0:
            raise OperationError(f"Restoring the database failed, and nothing of it was kept: {_tail(psql_err)}")


def _renamed(lines: Iterable[bytes], source: str, target: str) -> Iterable[bytes]:
    """The dump's SQL with the schema renamed outside COPY data (rows pass through byte for byte)."""
    if source == target:
        yield from lines
        return
    bare, quoted = re.escape(source), re.escape(_quote(source))
    pattern = re.compile(rf'(?<![\w$"])(?:{quoted}|{bare})\.'.encode())
    replacement = (_quote(target) + ".").encode().replace(b"\\", b"\\\\")
    in_copy = False
    for line in lines:
        if in_copy:
            if line.rstrip(b"\r\n") == b"\\.":
                in_copy = False
            yield line
            continue
        if line.startswith(b"COPY ") and line.rstrip().endswith(b"FROM stdin;"):
            in_copy = True
        yield pattern.sub(replacement, line)


def pg_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        schema, tables = pg_tables(conn)
        return {t: int(conn.scalar(sa.text(f"SELECT count(*) FROM {_quote(schema or '')}.{_quote(t)}")))  # noqa: S608
                for t in tables}


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    try:
        # A fixed program with the operator's own paths and connection string.
        done = subprocess.run(command, env=env, capture_output=True, check=False)  # noqa: S603
    except OSError as exc:
        raise OperationError(f"{what} could not be started: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OperationError(f"{what} failed: {' '.join(message[-3:]) or f'exit code {done.returncode}'}")
    return done.stdout.decode("utf-8", "replace")


def _tail(path: Path) -> str:
    lines = path.read_text("utf-8", "replace").strip().splitlines()
    return " ".join(lines[-3:]) or "no message"


def parse_url(url: str) -> URL:
    return make_url(url)
