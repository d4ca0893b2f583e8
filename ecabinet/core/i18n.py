"""Language and time zone: Vietnamese by default, English on request; times in the meeting's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_date_format, get_datetime_format, get_timezone_location
from flask import Flask, current_app, has_app_context, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

from ecabinet.extensions import babel

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}

# The zone a time not tied to a meeting is shown in, when the app's settings name none.
FALLBACK_TIMEZONE = "Asia/Ho_Chi_Minh"

# Offered first on the meeting form: the cabinet meets in Hanoi; the others are where members and
# delegations most often join from.
COMMON_TIMEZONES = ("Asia/Ho_Chi_Minh", "Asia/Bangkok", "Asia/Singapore", "Asia/Shanghai", "Asia/Seoul",
                    "Asia/Tokyo", "Australia/Sydney", "Europe/London", "Europe/Paris", "Europe/Berlin",
                    "Europe/Moscow", "America/New_York", "America/Los_Angeles")

# Hours and minutes on a 24-hour clock in every language: an agenda is read to the minute, seconds are
# noise, and the meeting's zone is implied by the page, so no zone name is printed.
TIME_PATTERN = "HH:mm"

# Vietnamese official documents write the weekday and dd/MM/yyyy ("08:00, Thứ Hai 07/12/2026");
# Babel's Vietnamese formats abbreviate months ("7 thg 12, 2026") and use two-digit years.
_VI_PATTERNS = {"full": "HH:mm, EEEE dd/MM/y", "long": "HH:mm, EEEE dd/MM/y", "medium": "HH:mm dd/MM/y",
                "short": "HH:mm dd/MM/y", "date": "dd/MM/y", "time": TIME_PATTERN}
STYLES = ("full", "long", "medium", "short", "date", "time")


def select_locale() -> str:
    if not has_request_context():  # jobs, the CLI, services rendering a document
        return current_app.config["DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in LANGUAGES:
        return current_user.locale
    return current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    return default_timezone()


# --- time zones ------------------------------------------------------------------------------------

@cache
def known_timezones() -> frozenset[str]:
    """The IANA zones a meeting may be held in (the system's or the tzdata package's database): the
    Area/Location names and UTC, without the database's legacy aliases ("Japan", "EST5EDT") and its
    non-zones ("Factory", "localtime"), which nobody should have to scroll past."""
    return frozenset(z for z in available_timezones()
                     if z == "UTC" or ("/" in z and not z.startswith(("posix/", "right/", "SystemV/"))))


def is_known_timezone(name: str | None) -> bool:
    return bool(name) and name in known_timezones()


def timezone_names() -> list[str]:
    """Every known zone: the common ones first (the default zone at their head), then the rest by name."""
    default = default_timezone()
    first = [default] + [z for z in COMMON_TIMEZONES if z != default]
    first = [z for z in first if is_known_timezone(z)]
    return first + sorted(known_timezones() - set(first))


def default_timezone() -> str:
    if has_app_context():
        configured = current_app.config.get("DEFAULT_TIMEZONE")
        if is_known_timezone(configured):
            return configured
    return FALLBACK_TIMEZONE


def zone_of(tz: str | None) -> ZoneInfo:
    """The named zone; the default one for none, or for a name that is no zone (a meeting stored while
    the zone was free text), so that a page still shows local times instead of failing."""
    if tz:
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(default_timezone())


@cache
def _zone_location(tz: str, locale: str) -> str:
    try:
        return get_timezone_location(tz, locale=locale)
    except LookupError:  # a zone the locale data does not describe
        return tz


def zone_label(tz: str | None, locale: str | Locale | None = None) -> str:
    """A zone as a reader knows it, with its IANA name: "Giờ Việt Nam (Asia/Ho_Chi_Minh)"."""
    name = tz or default_timezone()
    return f"{_zone_location(name, str(_locale(locale)))} ({name})"


# --- formatting ------------------------------------------------------------------------------------

def _locale(locale: str | Locale | None) -> Locale:
    if isinstance(locale, Locale):
        return locale
    if locale:
        return Locale.parse(locale)
    if has_app_context():
        return get_locale() or Locale.parse(current_app.config["DEFAULT_LOCALE"])
    return Locale.parse("vi")


def datetime_pattern(style: str, locale: Locale) -> str:
    """The CLDR pattern of a style: the locale's own date, with the time as hours and minutes."""
    if style not in STYLES:
        raise ValueError(f"unknown date style {style!r}; one of {', '.join(STYLES)}")
    if locale.language == "vi":
        return _VI_PATTERNS[style]
    if style == "time":
        return TIME_PATTERN
    if style == "date":
        return get_date_format("medium", locale).pattern
    glue = get_datetime_format(style, locale)
    return glue.replace("{0}", TIME_PATTERN).replace("{1}", get_date_format(style, locale).pattern)


def format_in_zone(value: datetime, style: str, tz: str | None, locale: str | Locale | None) -> str:
    """``value`` as read in zone ``tz`` and language ``locale``: no seconds, no zone name."""
    if value.tzinfo is None:  # stored times are UTC
        value = value.replace(tzinfo=UTC)
    loc = _locale(locale)
    zone = zone_of(tz)
    return babel_format_datetime(value.astimezone(zone), datetime_pattern(style, loc), tzinfo=zone, locale=loc)


def local_time(value: datetime | None, fmt: str = "medium", tz: str | None = None,
               locale: str | None = None) -> str:
    """Format an aware datetime in a time zone (the meeting's, or the default one) and in the reader's
    language (or ``locale``, for a document whose language is fixed, such as the minutes)."""
    if value is None:
        return ""
    return format_in_zone(value, fmt, tz, locale)


def local_date(value: date | None, locale: str | None = None) -> str:
    """A calendar date (a due date: no time, so no zone) in the reader's language."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value, "date", locale=locale)
    loc = _locale(locale)
    return babel_format_date(value, datetime_pattern("date", loc), locale=loc)


def translation_directories(package_dir: Path) -> list[str]:
    """The shell's catalogue plus one per domain (``ecabinet/<domain>/translations``): each domain owns
    its own strings, and Flask-Babel merges the catalogues."""
    found = [package_dir / "translations"] + sorted(package_dir.glob("*/translations"))
    return [str(d) for d in found if d.is_dir()]


def init_i18n(app: Flask) -> None:
    directories = translation_directories(Path(app.root_path))
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_domain=";".join(["messages"] * len(directories)),
                   default_translation_directories=";".join(directories))
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["zone_label"] = zone_label
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_locale"] = lambda: select_locale()
    app.jinja_env.globals["request_path"] = lambda: request.full_path.rstrip("?")
