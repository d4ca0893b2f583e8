"""The .ics calendar file of a meeting.

It leaves the system (into phones and mail clients), so it carries only what an invitation would:
title, time, place and a link; never the agenda, whose items may be confidential.
"""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event

from ecabinet.core.i18n import local_time, zone_of
from ecabinet.core.types import utcnow
from ecabinet.meetings.models import Meeting, MeetingStatus


def meeting_calendar(meeting: Meeting, url: str) -> bytes:
    return meetings_calendar([(meeting, url)])


def meetings_calendar(meetings: list[tuple[Meeting, str]], name: str | None = None) -> bytes:
    """One calendar of several meetings (a person's subscription), each with its link."""
    cal = Calendar()
    cal.add("prodid", "-//e-Cabinet//meetings//VI")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
        # Calendars that honour it look again within the hour: an agenda change reaches the phone soon.
        cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")
    for meeting, url in meetings:
        cal.add_component(_event(meeting, url))
    cal.add_missing_timezones()
    return cal.to_ical()


def _event(meeting: Meeting, url: str) -> Event:
    event = Event()
    event.add("uid", f"meeting-{meeting.id}@ecabinet")
    event.add("dtstamp", utcnow())
    # In the meeting's own zone (DTSTART;TZID=Asia/Ho_Chi_Minh:...T080000, with its VTIMEZONE), so a
    # calendar shows the hour the meeting was called for and moves it correctly for a reader abroad.
    zone = zone_of(meeting.timezone)
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    event.add("summary", meeting.title)
    if meeting.place:
        event.add("location", meeting.place)
    event.add("url", url)
    event.add("description", f"{local_time(meeting.starts_at, 'full', meeting.timezone)}\n{url}")
    # Each new agenda version bumps the sequence, so calendars replace the old entry.
    event.add("sequence", meeting.agenda_version)
    event.add("status", "CANCELLED" if meeting.status is MeetingStatus.CLOSED and not meeting.started_at
              else "CONFIRMED")
    return event
