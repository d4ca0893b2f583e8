"""Which ``live_connection.instance`` ids belong to a process that has ended (so their rows are ghosts)."""

from __future__ import annotations

import os
import socket
import subprocess

from ecabinet.live.service import INSTANCE_ID, _ended_instance


def test_ended_instances_on_this_host():
    host = socket.gethostname()
    finished = subprocess.Popen(["true"])
    finished.wait()
    assert _ended_instance(f"{host}-{finished.pid}-a1b2c3")  # killed or exited: its sockets are gone
    assert _ended_instance(f"{host}-{os.getpid()}-zzzzzz")  # our pid under another id: a restarted container
    assert not _ended_instance(INSTANCE_ID)
    assert not _ended_instance(f"{host}-{os.getppid()}-a1b2c3")  # still running
    assert not _ended_instance(f"another-host-{finished.pid}-a1b2c3")  # not ours to judge
    assert not _ended_instance("garbage")


def test_another_hosts_instance_that_stopped_beating_loses_its_sockets(app, users, redis_url):
    """A host or container that went away took its disconnect handlers with it: its rows would show its
    tablets online for ever. The others sweep them once its heartbeat in Redis has expired."""
    from datetime import timedelta

    import redis
    from sqlalchemy import select

    from ecabinet.accounts.models import UserSession
    from ecabinet.core.types import utcnow
    from ecabinet.extensions import db
    from ecabinet.live import presence, service
    from ecabinet.live.models import LiveConnection
    from tests.conftest import PASSWORD
    from tests.helpers import login

    app.config["REDIS_URL"] = redis_url
    app.extensions.pop("live_heartbeats", None)
    login(app.test_client(), "member@example.gov.vn", PASSWORD)
    session_id = db.session.scalar(select(UserSession.id))
    long_ago = utcnow() - timedelta(minutes=5)
    instances = {"gone": "otherhost-41-aaaaaa", "beating": "otherhost-42-bbbbbb", "young": "otherhost-43-cccccc"}
    for sid, instance in instances.items():
        db.session.add(LiveConnection(sid=sid, user_id=users["member"].id, session_id=session_id,
                                      instance=instance, connected_at=utcnow() if sid == "young" else long_ago))
    db.session.commit()
    beating = redis.Redis.from_url(redis_url)
    beating.set(presence._heartbeat_key(app, instances["beating"]), "1", ex=60)

    service.sweep_connections(set, presence.alive_instances(app))
    db.session.commit()
    # The young row's instance may not have beaten yet: only a row older than a heartbeat is judged.
    assert set(db.session.scalars(select(LiveConnection.sid))) == {"beating", "young"}

    presence.beat(app)  # this instance's own heartbeat, which the others read
    assert beating.ttl(presence._heartbeat_key(app, INSTANCE_ID)) > 0

    # Without Redis nobody can tell: another host's rows are left alone.
    app.config["REDIS_URL"] = None
    app.extensions.pop("live_heartbeats", None)
    db.session.add(LiveConnection(sid="unknown", user_id=users["member"].id, session_id=session_id,
                                  instance="otherhost-44-dddddd", connected_at=long_ago))
    db.session.commit()
    service.sweep_connections(set, presence.alive_instances(app))
    db.session.commit()
    assert "unknown" in set(db.session.scalars(select(LiveConnection.sid)))
