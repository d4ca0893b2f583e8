"""``flask ecabinet …``: administration commands."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click

from ecabinet.core import uow
from ecabinet.core.actor import Actor

# The demo command is added by the app factory (ecabinet/demo.py): the demo data sits beside the CLI.
cli = click.Group("ecabinet", help="e-Cabinet administration.")


@cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", default="Quản trị hệ thống")
@click.option("--password", envvar="ECABINET_ADMIN_PASSWORD", help="Read from the terminal when not given.")
def create_admin(email: str, name: str, password: str | None) -> None:
    """Create an administrator account."""
    from ecabinet.accounts import service
    from ecabinet.accounts.models import Role

    if not password:
        if not sys.stdin.isatty():
            raise click.UsageError("Give --password or ECABINET_ADMIN_PASSWORD when not on a terminal.")
        password = getpass.getpass("Password: ")
    try:
        user = service.create_user(Actor.system("cli"), service.UserData(email=email, name=name, role=Role.ADMIN),
                                   password)
    except service.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    uow.commit()  # the command is the boundary
    click.echo(f"Administrator {user.email} created.")


@cli.command("audit-verify")
@click.option("--checkpoint-file", type=click.Path(dir_okay=False, path_type=Path),
              help="The checkpoint file to hold the chain against (default: AUDIT_CHECKPOINT_FILE).")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The audit public key kept off this machine (default: the one beside the signing key).")
def audit_verify(checkpoint_file: Path | None, public_key: Path | None) -> None:
    """Check the audit chain and its signed checkpoints; name every entry found deleted or rewritten."""
    from ecabinet.audit.service import verify_chain

    report = verify_chain(checkpoint_file=checkpoint_file, public_key=public_key)
    if report.ok:
        anchored = (f", anchored by {report.checkpoints} signed checkpoints (last: entry "
                    f"{report.last_checkpoint.entry_id} at {report.last_checkpoint.at})"
                    if report.last_checkpoint else ", no checkpoint yet")
        click.echo(f"Audit chain OK: {report.entries} entries, head {report.head}{anchored}")
        return
    for number, problem in enumerate(report.problems):
        where = f" at entry {problem.entry_id}" if problem.entry_id is not None else ""
        after = f" (after {report.entries - 1} good entries)" if number == 0 and not report.linked else ""
        click.echo(f"Audit chain BROKEN{where}: {problem.message}{after}", err=True)
    sys.exit(1)


@cli.command("audit-checkpoint")
def audit_checkpoint() -> None:
    """Sign the audit chain's head now; append it to the checkpoint file and the table."""
    from ecabinet.audit import checkpoints

    checkpoint = checkpoints.take_checkpoint("manual")
    uow.commit()  # the command is the boundary
    if checkpoint is None:
        click.echo("The audit chain is empty: nothing to checkpoint.")
        return
    click.echo(checkpoint.line())


@cli.command("audit-public-key")
def audit_public_key() -> None:
    """Print the audit log's public key (generating the key pair on first use), to keep off this machine."""
    from ecabinet.audit import checkpoints

    key = checkpoints.signing_key().public_key()
    click.echo(f"# audit checkpoint key {checkpoints.key_id(key)}, also in {checkpoints.public_key_path()}")
    click.echo(checkpoints.public_pem(key).decode("ascii"), nl=False)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def serve(host: str, port: int) -> None:
    """Run the web server (gunicorn, gevent worker) and the job worker; Ctrl-C stops both."""
    import os
    import signal
    import subprocess
    import time

    from ecabinet.config import PROJECT_DIR

    python = sys.executable
    processes = {
        # Fixed argument lists run with this interpreter: no user input reaches them.
        "web": subprocess.Popen([  # noqa: S603
            python, "-m", "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "4096",
            "-b", f"{host}:{port}",
                                 "--graceful-timeout", "5", "wsgi:app"], cwd=PROJECT_DIR),
        "jobs": subprocess.Popen([  # noqa: S603
            python, "-m", "huey.bin.huey_consumer", "ecabinet.jobs.huey", "-k", "process",
                                  "-w", "2", "-q"], cwd=PROJECT_DIR),
    }
    if os.environ.get("JANUS_START") == "1":  # `make run` when Janus is installed: the media server too
        from flask import current_app

        from ecabinet.media.setup import command, write_media_config

        folder = write_media_config(current_app)
        processes["janus"] = subprocess.Popen([*command(folder), "--disable-colors"],  # noqa: S603
                                              stdout=(folder / "janus.log").open("ab"), stderr=subprocess.STDOUT)
    click.echo(f"e-Cabinet at http://{host}:{port}/ (web pid {processes['web'].pid}, "
               f"jobs pid {processes['jobs'].pid}). Ctrl-C stops both.")

    def stop(*_: object) -> None:
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in processes.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        dead = [name for name, p in processes.items() if p.poll() is not None]
        click.echo(f"{', '.join(dead)} stopped; stopping the rest.", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    os._exit(0)


@cli.command("make-signing-cert")
@click.option("--force", is_flag=True, help="Replace an existing key pair.")
def make_signing_cert(force: bool) -> None:
    """Create a self-signed development key pair for signing final minutes."""
    from pathlib import Path

    from flask import current_app

    from ecabinet.minutes.signing import make_self_signed

    key, cert = Path(current_app.config["SIGNING_KEY"]), Path(current_app.config["SIGNING_CERT"])
    if key.exists() and not force:
        raise click.ClickException(f"{key} exists; use --force to replace it.")
    make_self_signed(key, cert)
    click.echo(f"Development signing key: {key}\nCertificate: {cert}\n"
               "Use a key and certificate from a real certificate authority in production (see README).")


@cli.command("verify-minutes")
@click.argument("minutes_id", type=int)
def verify_minutes(minutes_id: int) -> None:
    """Validate the signature of final minutes."""
    from ecabinet.minutes import service

    minutes = service.get_minutes(minutes_id)
    if minutes is None or minutes.pdf_sha256 is None:
        raise click.ClickException("No final PDF for these minutes.")
    report = service.signature_report(minutes)
    click.echo(f"signed: {report.signed}\nintact: {report.intact}\nvalid: {report.valid}\n"
               f"trusted: {report.trusted}\ncovers the whole document: {report.covers_whole_document}\n"
               f"signer: {report.signer}\nsigned at: {report.signed_at}\nsummary: {report.summary}")
    if not report.ok:
        sys.exit(1)


@cli.command("verify-ballot")
@click.argument("ballot_id", type=int)
def verify_ballot(ballot_id: int) -> None:
    """Recompute a ballot's result from its stored votes; check it against the record and the audit chain."""
    from ecabinet.voting.service import verify_ballot as verify

    report = verify(ballot_id)
    for line in report.lines:
        click.echo(line)
    if not report.ok:
        click.echo(f"Ballot {ballot_id}: verification FAILED", err=True)
        sys.exit(1)
    click.echo(f"Ballot {ballot_id}: verified")


@cli.command("media-config")
@click.argument("folder", type=click.Path(path_type=Path), required=False)
def media_config(folder: Path | None) -> None:
    """Write Janus's configuration (from JANUS_URL, JANUS_ADMIN_URL, JANUS_ADMIN_SECRET) into FOLDER
    (default: the instance folder's janus/); start it with `janus --configs-folder FOLDER`."""
    from flask import current_app

    from ecabinet.media.setup import command, write_media_config

    folder = write_media_config(current_app, folder)
    click.echo(f"Janus configuration written to {folder}; start it with: {' '.join(command(folder))}")


def _operation(run, *args):  # noqa: ANN001, ANN202 - a function of ecabinet.operations and its arguments
    """Run a backup or restore step; a problem is one clear line and a non-zero exit, never a traceback."""
    import sqlite3

    from sqlalchemy.exc import SQLAlchemyError

    from ecabinet.operations.database import OperationError

    try:
        return run(*args)
    except OperationError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, sqlite3.Error, SQLAlchemyError) as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@cli.command("backup")
@click.argument("dest", type=click.Path(path_type=Path))
def backup(dest: Path) -> None:
    """Archive the database and the stored files it references into DEST (a new folder, or a .tar/.tar.gz file)."""
    from ecabinet.operations.backup import make_backup

    for line in _operation(make_backup, dest).lines:
        click.echo(line)


@cli.command("restore")
@click.argument("src", type=click.Path(path_type=Path))
def restore(src: Path) -> None:
    """Restore an archive made by `backup` into an empty database and an empty document store."""
    from ecabinet.operations.backup import restore_backup

    for line in _operation(restore_backup, src).lines:
        click.echo(line)
