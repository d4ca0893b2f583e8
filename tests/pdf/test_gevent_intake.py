"""Intake under gevent: the event loop keeps running while a child process parses a hostile file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import GEVENT_WATCH
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

    {watch}
    outcomes = []
    for path in sys.argv[1:]:
        try:
            outcomes.append(inspect_pdf(path).page_count)
        except IntakeError as error:
            outcomes.append(error.code)
    gevent.sleep(0.3)
    spinner.kill()
    print(json.dumps({"blocked": blocked, "ticks": ticks[0], "outcomes": outcomes}))
""").replace("{watch}", GEVENT_WATCH)


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


STORE = textwrap.dedent("""
    import gevent
    gevent.config.monitor_thread = True
    gevent.config.max_blocking_time = 0.1
    from gevent import monkey
    monkey.patch_all()

    import json, os, sys
    import gevent, gevent.events
    from ecabinet.pdf import storage

    # A disk that takes its time to flush: the real fsync after 0.4 s of a wait that gevent cannot
    # interrupt (the original, unpatched sleep), as a busy disk's flush of a large file does.
    real_fsync, blocking_sleep = os.fsync, monkey.get_original("time", "sleep")
    def slow_fsync(fd):
        blocking_sleep(0.4)
        real_fsync(fd)
    os.fsync = slow_fsync
    if sys.argv[3] == "in-the-loop":  # the control: the flush made where the greenlet runs
        storage.flush_to_disk = lambda fd: os.fsync(fd)

    {watch}
    before = ticks[0]
    sha256, size, _path = storage.BlobStore(sys.argv[1]).put_file(sys.argv[2], 50 * 1024 * 1024)
    during = ticks[0] - before
    gevent.sleep(0.3)
    spinner.kill()
    print(json.dumps({"blocked": blocked, "ticks_during": during, "size": size}))
""").replace("{watch}", GEVENT_WATCH)


def _store_under_gevent(tmp_path, big_demo_pdf, mode: str) -> dict:  # noqa: ANN001
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", STORE, str(tmp_path / "store"), str(big_demo_pdf), mode],
                          capture_output=True, text=True, timeout=100, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.timeout(120)
def test_storing_an_upload_never_blocks_the_loop_on_a_slow_disk(tmp_path, big_demo_pdf):
    """The flushes to disk of a stored file (the file's and its directory's) wait in a thread: every
    other socket of the instance goes on meanwhile."""
    result = _store_under_gevent(tmp_path, big_demo_pdf, "in-a-thread")
    assert result["size"] == big_demo_pdf.stat().st_size
    assert result["blocked"] == []
    assert result["ticks_during"] > 20  # the loop ran through both 0.4 s flushes (about 80 ticks)


@pytest.mark.timeout(120)
def test_the_detector_sees_a_flush_in_the_loop(tmp_path, big_demo_pdf):
    """Control: the same harness with the flush made in the loop reports it blocked, or the test above
    proves nothing."""
    assert _store_under_gevent(tmp_path, big_demo_pdf, "in-the-loop")["blocked"] != []
