"""Demo data: a realistic (fictitious) cabinet. Idempotent: loading twice changes nothing."""

from __future__ import annotations

import click

from ecabinet.accounts.demo import ADMIN, CHAIR, GUEST, MEMBERS, SECRETARIES, email_of, load_people
from ecabinet.core import uow


def load_demo(password: str) -> list[str]:
    from ecabinet.organisations.demo import load_organisations

    organisation_lines = load_organisations()  # first: the people belong to these ministries
    created = load_people(password)
    lines = [*organisation_lines,
             f"Demo data: {created} accounts created" if created else "Demo data already loaded.",
             f"Every demo account's password: {password}",
             f"  admin      {email_of(ADMIN[0])}",
             f"  chair      {email_of(CHAIR[0])}",
             f"  member     {email_of(MEMBERS[8][0])}  ({MEMBERS[8][2]}; {len(MEMBERS)} members in all)",
             f"  secretary  {email_of(SECRETARIES[0][0])}",
             f"  guest      {email_of(GUEST[0])}"]
    from ecabinet.meetings.demo import load_meetings_demo

    lines += load_meetings_demo(password)
    from ecabinet.minutes.demo import load_minutes_demo

    lines += load_minutes_demo(password)
    from ecabinet.documents.demo import load_documents_demo

    lines += load_documents_demo(password)
    from ecabinet.voting.demo import load_voting_demo

    lines += load_voting_demo(password)
    from ecabinet.display.demo import load_display_demo

    lines += load_display_demo()
    from ecabinet.publication.demo import load_publication_demo

    lines += load_publication_demo()
    from ecabinet.submissions.demo import load_submissions_demo

    lines += load_submissions_demo(password)
    return lines


@click.command("demo")
@click.option("--password", default="demo-password-2026", show_default=True, help="Password of every demo account.")
def demo_command(password: str) -> None:
    """Load the demo cabinet (once) and print its logins."""
    for line in load_demo(password):
        click.echo(line)
    uow.commit()  # the command is the boundary
