"""The pool of long-lived workers: limited like a fresh child, replaced when lost, recycled, never shared by a fork."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from pypdf import PdfReader

from ecabinet.pdf import pool as pool_module
from ecabinet.pdf.copies import stamp_pdf_isolated
from ecabinet.pdf.errors import IntakeError
from ecabinet.pdf.limits import MiB
from ecabinet.pdf.pool import WorkerPool
from tests.helpers import GEVENT_WATCH
from tests.pdf.conftest import REPO
from tests.pdf.test_stamping import WM, assert_stamped, stored

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def pool():
    made = WorkerPool(1, max_requests=50, memory_bytes=512 * MiB)
    yield made
    made.shutdown()


def probe(pool: WorkerPool, **extra) -> dict:
    return pool.run({"op": "probe", **extra}, timeout_s=20)


def test_a_worker_serves_many_requests_under_the_childs_limits(pool, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgresql://user:password@db/ecabinet")
    leaked = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leaked, True)  # even a descriptor marked inheritable stays in the parent
    try:
        first = probe(pool)
    finally:
        os.close(leaked)
    second = probe(pool)
    assert first["pid"] == second["pid"] != os.getpid()
    assert set(first["env"]) <= {"PATH", "PYTHONPATH", "LC_ALL", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE",
                                 "ECABINET_PDF_FONT", "ECABINET_PDF_FONT_BOLD", "TMPDIR", "LC_CTYPE"}
    # stdin and stdout are the pool's pipes, stderr its file; nothing else of the parent's.
    others = {fd: target for fd, target in first["fds"].items() if int(fd) > 2}
    assert all(target.startswith("/proc/") for target in others.values()), others
    limits = first["rlimits"]
    assert limits["as"][0] == 512 * MiB and limits["core"] == [0, 0] and limits["fsize"][0] > 0
    # CPU seconds: the request's allowance above what the worker has used, well under its life budget.
    assert 21 <= limits["cpu"][0] <= 60 and limits["cpu"][1] > 1000


def test_a_worker_killed_mid_request_is_replaced_and_the_request_tried_once_more(pool):
    before = probe(pool)["pid"]
    threading.Timer(0.5, os.kill, (before, signal.SIGKILL)).start()
    started = time.monotonic()
    answer = probe(pool, sleep_s=1.0)  # the first worker dies half-way; a new one answers
    assert answer["pid"] != before and time.monotonic() - started < 10
    assert pool.pids() == [answer["pid"]] and pool.started == 2


def test_a_worker_that_dies_on_every_attempt_fails_the_request_cleanly(pool):
    def kill_each() -> None:
        for _ in range(40):
            for pid in pool.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    killer = threading.Thread(target=kill_each)
    killer.start()
    with pytest.raises(IntakeError) as caught:
        probe(pool, sleep_s=1.0)
    killer.join()
    assert caught.value.code == "failed"
    assert probe(pool)["pid"]  # the pool still works afterwards


def test_a_timeout_kills_the_worker(pool):
    before = probe(pool)["pid"]
    with pytest.raises(IntakeError) as caught:
        pool.run({"op": "probe", "sleep_s": 10}, timeout_s=0.5)
    assert caught.value.code == "timeout"
    with pytest.raises(ProcessLookupError):
        os.kill(before, 0)  # killed and reaped
    assert probe(pool)["pid"] != before


def test_workers_are_recycled_after_max_requests():
    small = WorkerPool(1, max_requests=3)
    try:
        pids = [small.run({"op": "probe"}, timeout_s=20)["pid"] for _ in range(7)]
    finally:
        small.shutdown()
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]
    assert len(set(pids)) == 3 and small.pids() == []


def test_only_readers_copies_are_served_by_a_pooled_worker(pool):
    with pytest.raises(IntakeError) as caught:
        pool.run({"op": "inspect", "path": "/dev/null", "limits": {}}, timeout_s=20)
    assert caught.value.code == "failed"  # an upload's intake keeps its fresh child


def test_concurrent_copies_share_the_pool(tmp_path, big_demo_pdf):
    blob = stored(tmp_path, big_demo_pdf)
    stamp_pdf_isolated([blob], tmp_path / "warm.pdf", WM)  # makes the prepared copy
    outs = [tmp_path / f"copy-{i}.pdf" for i in range(6)]
    pages: list[int] = []
    threads = [threading.Thread(target=lambda out=out: pages.append(stamp_pdf_isolated([blob], out, WM)))
               for out in outs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pages == [150] * 6
    for out in outs:
        assert_stamped(PdfReader(out).pages[-1].extract_text())
    assert len(pool_module.get_pool().pids()) <= pool_module.get_pool().size


def test_a_forked_child_gets_a_pool_of_its_own():
    parent = pool_module.get_pool()
    parent_worker = parent.run({"op": "probe"}, timeout_s=20)["pid"]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's exit handlers
        try:
            os.close(read)
            mine = pool_module.get_pool()
            worker = mine.run({"op": "probe"}, timeout_s=20)["pid"]
            os.write(write, json.dumps({"new": mine is not parent, "owner": mine.owner == os.getpid(),
                                        "worker": worker}).encode())
            mine.shutdown()
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as fh:
        report = json.loads(fh.read() or "{}")
    os.waitpid(pid, 0)
    assert report == {"new": True, "owner": True, "worker": report["worker"]}
    assert report["worker"] != parent_worker
    # The parent's pool and worker are untouched by the child's.
    assert parent.run({"op": "probe"}, timeout_s=20)["pid"] == parent_worker


GEVENT_SCRIPT = textwrap.dedent("""
    import gevent
    gevent.config.monitor_thread = True
    gevent.config.max_blocking_time = 0.1
    from gevent import monkey
    monkey.patch_all()

    import json, sys
    import gevent, gevent.events
    from ecabinet.pdf.copies import stamp_pdf_isolated
    from ecabinet.pdf.pool import get_pool
    from ecabinet.pdf.stamping import Watermark

    wm = Watermark("Nguyễn Thị Hường", "Bộ Kế hoạch và Đầu tư", "27/11/2026 08:15", "K7Q2-9XF")
    get_pool().run({"op": "probe"}, timeout_s=20)  # started before monitoring: the start is not measured
    {watch}
    jobs = [gevent.spawn(stamp_pdf_isolated, [sys.argv[1]], f"{sys.argv[2]}-{i}.pdf", wm) for i in range(6)]
    slow = gevent.spawn(get_pool().run, {"op": "probe", "sleep_s": 1.0}, timeout_s=20)
    gevent.joinall([*jobs, slow])
    gevent.sleep(0.3)
    spinner.kill()
    print(json.dumps({"blocked": blocked, "ticks": ticks[0], "pages": [job.value for job in jobs]}))
""").replace("{watch}", GEVENT_WATCH)


def test_the_event_loop_keeps_running_while_pooled_workers_work(tmp_path, big_demo_pdf):
    blob = stored(tmp_path, big_demo_pdf)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT, str(blob), str(tmp_path / "copy")],
                          capture_output=True, text=True, timeout=100, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["pages"] == [150] * 6
    assert result["blocked"] == []
    assert result["ticks"] > 50  # a second of the slow request alone: the loop ran meanwhile
