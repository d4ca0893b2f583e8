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
