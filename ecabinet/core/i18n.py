"""Language and time zone: Vietnamese by default, English on request; times in the meeting's zone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_datetime
from flask_login import current_user

from ecabinet.extensions import babel

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}


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
    return current_app.config["DEFAULT_TIMEZONE"]


def local_time(value: datetime | None, fmt: str = "medium", tz: str | None = None) -> str:
    """Format an aware datetime in a time zone (the meeting's, or the default one)."""
    if value is None:
        return ""
    zone = ZoneInfo(tz or current_app.config["DEFAULT_TIMEZONE"])
    return format_datetime(value.astimezone(zone).replace(tzinfo=None), fmt, rebase=False)


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
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["current_locale"] = lambda: select_locale()
    app.jinja_env.globals["request_path"] = lambda: request.full_path.rstrip("?")
