"""Intake under gevent: the event loop keeps running while a child process parses a hostile file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.pdf import crafted
from tests.pdf.conftest import REPO

SCRIPT = textwrap.dedent("""
    import gevent
    gevent.config.monitor_thread = True
    gevent.config.max_blocking_time = 0.1
    from gevent import monkey
    monkey.patch_all()

    import json, sys
    import gevent, gevent.events
    # Imported before monitoring starts: importing the app is not what is measured.
    from ecabinet.pdf.errors import IntakeError
    from ecabinet.pdf.intake import inspect_pdf
    from ecabinet.pdf import worker  # noqa: F401

    blocked = []
    gevent.events.subscribers.append(
        lambda event: blocked.append(str(event)) if isinstance(event, gevent.events.EventLoopBlocked) else None)
    gevent.get_hub().start_periodic_monitoring_thread()
    ticks = [0]

    def ticker():
        while True:
            ticks[0] += 1
            gevent.sleep(0.01)

    spinner = gevent.spawn(ticker)
    gevent.sleep(0.3)  # let the monitor take its first look
    outcomes = []
    for path in sys.argv[1:]:
        try:
            outcomes.append(inspect_pdf(path).page_count)
        except IntakeError as error:
            outcomes.append(error.code)
    gevent.sleep(0.3)
    spinner.kill()
    print(json.dumps({"blocked": blocked, "ticks": ticks[0], "outcomes": outcomes}))
""")


@pytest.mark.timeout(120)
def test_event_loop_is_never_blocked_by_intake(tmp_path, big_demo_pdf):
    hostile = tmp_path / "many.pdf"
    hostile.write_bytes(crafted.many_pages_pdf(100_000))
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(crafted.bomb_pdf(gigabytes=2))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(hostile), str(big_demo_pdf), str(bomb)],
                          capture_output=True, text=True, timeout=100, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcomes"] == ["too_many_pages", 150, "decompression_bomb"]
    assert result["blocked"] == []
    assert result["ticks"] > 10  # the loop really ran while the children worked


@pytest.mark.timeout(120)
def test_the_detector_sees_pypdf_blocking_the_loop(big_demo_pdf):
    """Control: the same harness parsing in-process must report EventLoopBlocked, or the test above proves nothing."""
    in_process = SCRIPT.replace(
        "outcomes.append(inspect_pdf(path).page_count)",
        "import pypdf\n"
        "        for _ in range(5):\n"
        "            outcomes.append(sum(len(p.extract_text()) > 0 for p in pypdf.PdfReader(path).pages))")
    assert in_process != SCRIPT
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", in_process, str(big_demo_pdf)],
                          capture_output=True, text=True, timeout=100, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcomes"] == [150] * 5
    assert result["blocked"], "EventLoopBlocked was never reported for in-process parsing"
