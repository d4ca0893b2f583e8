"""Times as people read them: a meeting called for 08:00 in Hanoi (01:00 UTC) reads 08:00 on every page,
in the calendar file, in the emails and in the signed minutes, in Vietnamese and in English, with no
seconds and no "UTC" (nor its Vietnamese or English name)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import csrf_from, login, post_form
from tests.meetings import conftest as meeting_fixtures
from tests.meetings.conftest import actor
from tests.minutes import conftest as minutes_fixtures

# The meetings' and the minutes' fixtures, reused here.
cabinet = meeting_fixtures.cabinet
signing_pair = minutes_fixtures.signing_pair

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
FORBIDDEN = ("UTC", "Giờ Phối hợp Quốc tế", "Coordinated Universal Time", "08:00:00")
LANGUAGES = ("vi", "en")


def _eight_in_hanoi() -> datetime:
    day = (datetime.now(HANOI) + timedelta(days=3)).date()
    return datetime.combine(day, time(8, 0), tzinfo=HANOI)


def _clean(text: str, where: str) -> None:
    for bad in FORBIDDEN:
        assert bad not in text, f"{where} shows {bad!r}"


def _readable(text: str, where: str) -> None:
    assert "08:00" in text, f"{where} does not show 08:00"
    _clean(text, where)


@pytest.fixture
def hanoi_meeting(cabinet):
    from ecabinet.meetings import service

    start = _eight_in_hanoi()
    sec = actor(cabinet["secretary"])
    meeting = service.create_meeting(sec, service.MeetingData(
        title="Phiên họp Chính phủ thường kỳ", starts_at=start, ends_at=start + timedelta(hours=3),
        timezone="Asia/Ho_Chi_Minh", place="Phòng họp 1", chair_id=cabinet["chair"].id))
    service.add_item(sec, meeting, service.ItemData(title="Dự thảo Nghị định", ministry="Bộ Tài chính",
                                                    duration_minutes=20))
    service.add_item(sec, meeting, service.ItemData(title="Báo cáo tình hình", duration_minutes=30))
    db.session.commit()
    service.publish(sec, meeting)
    db.session.commit()
    return meeting


def _reader(client, user, language: str) -> None:
    login(client, user.email, PASSWORD)
    r = post_form(client, f"/language/{language}", {"next": "/"})
    assert r.status_code == 302


def _page(client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


# --- the formatting itself -----------------------------------------------------------------------

def test_formats_in_each_language_and_zone(app):
    from ecabinet.core.i18n import format_in_zone

    at = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert format_in_zone(at, "full", "Asia/Ho_Chi_Minh", "vi") == "08:00, Thứ Hai 07/12/2026"
    assert format_in_zone(at, "medium", "Asia/Ho_Chi_Minh", "vi") == "08:00 07/12/2026"
    assert format_in_zone(at, "short", "Asia/Ho_Chi_Minh", "vi") == "08:00 07/12/2026"
    assert format_in_zone(at, "time", "Asia/Ho_Chi_Minh", "vi") == "08:00"
    assert format_in_zone(at, "full", "Asia/Ho_Chi_Minh", "en") == "Monday, December 7, 2026, 08:00"
    assert format_in_zone(at, "medium", "Asia/Ho_Chi_Minh", "en") == "Dec 7, 2026, 08:00"
    # A member abroad reads the meeting's own hour, not theirs: the zone is the meeting's.
    assert format_in_zone(at, "time", "Europe/Paris", "vi") == "02:00"
    # No zone, or a zone stored while the field was free text: the default zone, never UTC.
    assert format_in_zone(at, "time", None, "en") == "08:00"
    assert format_in_zone(at, "time", "Hanoi", "en") == "08:00"


def test_dates_without_a_time(app):
    from ecabinet.core.i18n import local_date

    assert local_date(date(2026, 12, 7), "vi") == "07/12/2026"
    assert local_date(date(2026, 12, 7), "en") == "Dec 7, 2026"


# --- the meeting's pages -------------------------------------------------------------------------

def test_meeting_is_stored_in_utc(hanoi_meeting):
    assert hanoi_meeting.starts_at.astimezone(UTC).time() == time(1, 0)
    assert hanoi_meeting.timezone == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_show_the_hanoi_hour(client, hanoi_meeting, cabinet, language):
    _reader(client, cabinet["member"], language)
    meeting_id, item_id = hanoi_meeting.id, hanoi_meeting.items[0].id
    _readable(_page(client, "/meetings"), "the meeting list")
    detail = _page(client, f"/meetings/{meeting_id}")
    _readable(detail, "the meeting page")
    assert "11:00" in detail  # the expected end, on the same day
    _clean(_page(client, f"/meetings/{meeting_id}/items/{item_id}"), "the agenda item")
    _clean(_page(client, f"/meetings/{meeting_id}/room"), "the live room")
    _readable(_page(client, "/"), "the home page")
    weekday = {"vi": "Thứ", "en": "day,"}[language]
    assert weekday in detail
    zone = {"vi": "Giờ Việt Nam (Asia/Ho_Chi_Minh)", "en": "Vietnam Time (Asia/Ho_Chi_Minh)"}[language]
    assert zone in detail


def test_the_secretariat_sees_the_hanoi_hour_in_the_form(client, hanoi_meeting, cabinet):
    _reader(client, cabinet["secretary"], "vi")
    html = _page(client, f"/meetings/{hanoi_meeting.id}/edit")
    assert f'value="{_eight_in_hanoi():%Y-%m-%dT%H:%M}"' in html
    # A select of IANA zones, Hanoi's first and chosen.
    assert '<select id="timezone" name="timezone"' in html
    first = html.index('<option', html.index('name="timezone"'))
    assert html[first:].startswith('<option selected value="Asia/Ho_Chi_Minh">')
    assert 'value="Europe/Paris"' in html and 'value="America/New_York"' in html
    _clean(_page(client, f"/meetings/{hanoi_meeting.id}/participants"), "the participants page")


def _meeting_form(start: str, zone: str) -> dict:
    return {"title": "Phiên họp chuyên đề", "kind": "thematic", "starts_at": start,
            "ends_at": start.replace("T08", "T11"), "timezone": zone, "place": "", "mode": "in_person",
            "chair_id": "0", "conflict_policy": "recuse", "quorum_rule": "more_than_half", "quorum_fixed": ""}


def test_the_form_takes_a_zone_from_the_list_only(client, cabinet):
    from ecabinet.meetings.models import Meeting

    _reader(client, cabinet["secretary"], "vi")
    start = f"{_eight_in_hanoi():%Y-%m-%d}T08:00"
    page = _page(client, "/meetings/new")
    for zone in ("Mars/Olympus", "GMT+7", "Hanoi"):
        r = client.post("/meetings/new", data={**_meeting_form(start, zone), "csrf_token": csrf_from(page)})
        assert r.status_code == 400
        assert f"“{zone}” không phải là một múi giờ hợp lệ" in r.get_data(as_text=True)
    # What was typed comes back escaped: the message is translated when used, never a lazy (safe) string.
    r = client.post("/meetings/new", data={**_meeting_form(start, '<img src=x onerror="alert(1)">'),
                                           "csrf_token": csrf_from(page)})
    assert r.status_code == 400
    assert "<img src=x" not in r.get_data(as_text=True)
    assert "“&lt;img src=x onerror=&#34;alert(1)&#34;&gt;” không phải là một múi giờ hợp lệ" in r.get_data(as_text=True)
    assert db.session.query(Meeting).count() == 0
    r = client.post("/meetings/new", data={**_meeting_form(start, "Europe/Paris"), "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    meeting = db.session.query(Meeting).one()
    assert meeting.timezone == "Europe/Paris"
    assert meeting.starts_at.astimezone(ZoneInfo("Europe/Paris")).time() == time(8, 0)


def test_the_service_refuses_a_zone_that_is_not_iana(cabinet):
    from ecabinet.meetings import service
    from ecabinet.meetings.service import MeetingError

    start = _eight_in_hanoi()
    with pytest.raises(MeetingError, match="known time zone"):
        service.create_meeting(actor(cabinet["secretary"]), service.MeetingData(
            title="X", starts_at=start, ends_at=start + timedelta(hours=1), timezone="UTC+7"))
    db.session.rollback()


# --- the calendar file and the emails ------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_calendar_file_carries_the_hanoi_hour(client, hanoi_meeting, cabinet, language):
    _reader(client, cabinet["member"], language)
    r = client.get(f"/meetings/{hanoi_meeting.id}/calendar.ics")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    day = f"{_eight_in_hanoi():%Y%m%d}"
    assert f"DTSTART;TZID=Asia/Ho_Chi_Minh:{day}T080000" in text
    assert f"DTEND;TZID=Asia/Ho_Chi_Minh:{day}T110000" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Asia/Ho_Chi_Minh" in text
    _readable(text.replace("\r\n ", ""), "the calendar file")  # unfold long lines first
    (event,) = Calendar.from_ical(r.data).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(UTC) == hanoi_meeting.starts_at


def test_emails_show_times_in_the_default_zone(app, hanoi_meeting, cabinet):
    from ecabinet.jobs import huey
    from ecabinet.meetings import service
    from ecabinet.voting import service as voting

    def queued_texts() -> list[str]:
        return [t.args[1] for t in huey.pending() if t.name.endswith("send_notification_email")]

    huey.flush()
    app.config["SMTP_URL"] = "smtp://127.0.0.1:25"
    try:
        sec = actor(cabinet["secretary"])
        service.update_item(sec, hanoi_meeting.items[0], service.ItemData(title="Dự thảo Nghị định, sửa"))
        service.publish(sec, hanoi_meeting)
        db.session.commit()
        # A written ballot's deadline, 08:00 in Hanoi: not tied to a meeting, so in the default zone.
        deadline = _eight_in_hanoi() + timedelta(days=2)
        ballot = voting.create_ballot(sec, voting.BallotData(title="Lấy ý kiến", kind="written",
                                                             questions=["Câu hỏi"], deadline=deadline))
        voting.approve_ballot(actor(cabinet["chair"]), ballot)
        voting.send_ballot(sec, ballot)
        db.session.commit()
        texts = queued_texts()
        assert len(texts) >= 2
        for text in texts:
            _clean(text, "a notification email")
        assert any("08:00" in text for text in texts)
    finally:
        app.config["SMTP_URL"] = None
        huey.flush()


# --- the minutes ---------------------------------------------------------------------------------

@pytest.fixture
def held_meeting(hanoi_meeting, cabinet, app, signing_pair):
    """The Hanoi meeting, held and closed: members checked in, one spoke."""
    from ecabinet.live import service as live
    from ecabinet.meetings import service
    from ecabinet.meetings.models import CheckInMode

    app.config["SIGNING_KEY"], app.config["SIGNING_CERT"] = str(signing_pair[0]), str(signing_pair[1])
    chair = actor(cabinet["chair"])
    service.start_meeting(chair, hanoi_meeting)
    for name in ("member", "member2", "member3", "chair"):
        participant = service.participant_of(hanoi_meeting, cabinet[name])
        service.check_in(actor(cabinet[name]), hanoi_meeting, participant, CheckInMode.ROOM)
    first = hanoi_meeting.items[0]
    live.set_item(chair, hanoi_meeting, first.id)
    request = live.request_floor(actor(cabinet["member2"]), hanoi_meeting, first.id)
    live.grant_floor(chair, hanoi_meeting, request.id)
    service.adjourn_meeting(chair, hanoi_meeting)
    service.close_meeting(chair, hanoi_meeting)
    db.session.commit()
    return hanoi_meeting


@pytest.mark.parametrize("language", LANGUAGES)
def test_minutes_and_their_pdf_show_the_hanoi_hour(client, held_meeting, cabinet, language):
    from ecabinet.minutes import service

    # Drafted by a secretary reading in English or Vietnamese: the minutes are written in Vietnamese.
    _reader(client, cabinet["secretary"], language)
    page = _page(client, f"/meetings/{held_meeting.id}/minutes")
    r = client.post(f"/meetings/{held_meeting.id}/minutes/draft", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    db.session.expire_all()
    (minutes,) = service.minutes_of(held_meeting)
    body = service.current_body(minutes)
    _readable(body, "the minutes' draft")
    assert "Thời gian: 08:00, Thứ " in body
    _readable(_page(client, f"/minutes/{minutes.id}"), "the minutes page")
    _readable(_page(client, "/"), "the home page after the meeting")

    service.circulate(actor(cabinet["secretary"]), minutes, datetime.now(UTC) + timedelta(days=2))
    service.approve(actor(cabinet["chair"]), minutes)
    db.session.commit()  # the final PDF is made once the approval has committed
    db.session.refresh(minutes)
    document = service.final_pdf(minutes)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)
    _readable(text, "the minutes PDF")
    assert f"{_eight_in_hanoi():%d/%m/%Y}" in text
