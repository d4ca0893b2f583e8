"""Janus's configuration, written by the app (``python -m ecabinet ecabinet media-config <dir>``).

Janus listens on loopback only: its HTTP transport (the Janus API, which browsers reach through the
app's ``/janus`` pass-through or the reverse proxy) and its admin API (the app's, for tokens). Every
Janus request needs a token the app stored (``token_auth``); creating a room needs the VideoRoom's
admin key. Only the VideoRoom plugin and the HTTP transport are loaded. Nothing is recorded.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

JANUS_BINARY = "/usr/bin/janus"
LIB_DIR = Path("/usr/lib/x86_64-linux-gnu/janus")

# Everything Debian's package ships that e-Cabinet does not use stays unloaded.
_UNUSED_PLUGINS = ["libjanus_audiobridge.so", "libjanus_duktape.so", "libjanus_echotest.so", "libjanus_lua.so",
                   "libjanus_nosip.so", "libjanus_recordplay.so", "libjanus_sip.so", "libjanus_streaming.so",
                   "libjanus_textroom.so", "libjanus_videocall.so", "libjanus_voicemail.so"]
_UNUSED_TRANSPORTS = ["libjanus_websockets.so", "libjanus_mqtt.so", "libjanus_nanomsg.so", "libjanus_pfunix.so",
                      "libjanus_rabbitmq.so"]


def binary() -> str | None:
    """Janus's executable, or None when it is not installed."""
    return shutil.which("janus") or (JANUS_BINARY if Path(JANUS_BINARY).exists() else None)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lib_dir() -> Path:
    for candidate in (LIB_DIR, Path("/usr/lib/janus"), Path("/usr/local/lib/janus")):
        if (candidate / "plugins").is_dir():
            return candidate
    return LIB_DIR


def write_config(directory: Path, *, janus_url: str, admin_url: str, admin_secret: str, room_admin_key: str,
                 rtp_ports: str = "20000-40000", nat_1_1: str = "", stun: str = "", turn: str = "",
                 debug_level: int = 3) -> list[Path]:
    """Write janus.jcfg and its transport and plugin files into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    api, admin = urlsplit(janus_url), urlsplit(admin_url)
    lib = _lib_dir()
    nat = ["\tice_ignore_list = \"vmnet\""]
    if nat_1_1:
        nat.append(f"\tnat_1_1_mapping = {_quote(nat_1_1)}")
    if stun:
        host, _, port = stun.rpartition(":")
        nat += [f"\tstun_server = {_quote(host)}", f"\tstun_port = {int(port or 3478)}"]
    if turn:  # turn:user:password@host:port
        credentials, _, where = turn.partition("@")
        user, _, password = credentials.removeprefix("turn:").partition(":")
        host, _, port = where.rpartition(":")
        nat += [f"\tturn_server = {_quote(host)}", f"\tturn_port = {int(port or 3478)}", "\tturn_type = \"udp\"",
                f"\tturn_user = {_quote(user)}", f"\tturn_pwd = {_quote(password)}"]
    files = {
        "janus.jcfg": "\n".join([
            "# Written by `python -m ecabinet ecabinet media-config`: edit the app's settings, not this file.",
            "general: {",
            f"\tconfigs_folder = {_quote(str(directory))}",
            f"\tplugins_folder = {_quote(str(lib / 'plugins'))}",
            f"\ttransports_folder = {_quote(str(lib / 'transports'))}",
            f"\tevents_folder = {_quote(str(lib / 'events'))}",
            f"\tloggers_folder = {_quote(str(lib / 'loggers'))}",
            f"\tdebug_level = {debug_level}",
            "\tdebug_timestamps = true",
            # Every Janus API request needs a token the app added through the admin API.
            "\ttoken_auth = true",
            f"\tadmin_secret = {_quote(admin_secret)}",
            "\tserver_name = \"e-Cabinet media\"",
            "\tsession_timeout = 60",
            "\treclaim_session_timeout = 0",
            "\thide_dependencies = true",
            "}",
            "media: {",
            f"\trtp_port_range = {_quote(rtp_ports)}",
            "\tslowlink_threshold = 4",
            "}",
            "nat: {", *nat, "}",
            "plugins: {", f"\tdisable = {_quote(','.join(_UNUSED_PLUGINS))}", "}",
            "transports: {", f"\tdisable = {_quote(','.join(_UNUSED_TRANSPORTS))}", "}",
            "events: {", "\tbroadcast = false", "}",
            "loggers: {", "\tdisable = \"libjanus_jsonlog.so\"", "}",
            "",
        ]),
        "janus.transport.http.jcfg": "\n".join([
            "general: {",
            "\tjson = \"plain\"",
            f"\tbase_path = {_quote(api.path or '/janus')}",
            "\thttp = true",
            f"\tport = {api.port or 8088}",
            f"\tip = {_quote(api.hostname or '127.0.0.1')}",
            "\thttps = false",
            "}",
            "admin: {",
            f"\tadmin_base_path = {_quote(admin.path or '/admin')}",
            "\tadmin_http = true",
            f"\tadmin_port = {admin.port or 7088}",
            f"\tadmin_ip = {_quote(admin.hostname or '127.0.0.1')}",
            "\tadmin_https = false",
            "}",
            "cors: {", "}",
            "",
        ]),
        "janus.plugin.videoroom.jcfg": "\n".join([
            "general: {",
            # Rooms are created by the app only (with this key), never from a browser, and not kept on disk.
            f"\tadmin_key = {_quote(room_admin_key)}",
            "\tlock_rtp_forward = true",
            "\tlock_play_file = true",
            "}",
            "",
        ]),
    }
    written = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text)
        path.chmod(0o600)  # the admin secret and the room key
        written.append(path)
    return written


DEFAULT_JANUS_URL = "http://127.0.0.1:8088/janus"


def write_media_config(app: Any, folder: Path | None = None) -> Path:
    """Janus's configuration from the app's settings, in ``folder`` (default: the instance folder's janus/)."""
    from ecabinet.config import INSTANCE_DIR
    from ecabinet.media.service import room_admin_key

    folder = (folder or INSTANCE_DIR / "janus").resolve()
    secret = app.config["JANUS_ADMIN_SECRET"]
    write_config(folder, janus_url=app.config.get("JANUS_URL") or DEFAULT_JANUS_URL,
                 admin_url=app.config["JANUS_ADMIN_URL"], admin_secret=secret,
                 room_admin_key=room_admin_key(secret), nat_1_1=app.config.get("MEDIA_NAT_1_1", ""),
                 stun=app.config.get("MEDIA_STUN_SERVER", ""), turn=app.config.get("MEDIA_TURN_SERVER", ""))
    return folder


def command(directory: Path) -> list[str]:
    """How to start Janus on the configuration written in ``directory``."""
    return [binary() or JANUS_BINARY, "--configs-folder", str(directory), "--config", str(directory / "janus.jcfg")]
