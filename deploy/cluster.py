"""A production-shaped e-Cabinet on one machine: HAProxy in front of several gunicorn gevent instances
sharing PostgreSQL and Redis, plus the job worker.

    DATABASE_URL=postgresql+psycopg://… REDIS_URL=redis://127.0.0.1:6379/0 SECRET_KEY=… \\
        .venv/bin/python deploy/cluster.py --instances 3 --proxy-port 8000 --base-port 8001

PostgreSQL and Redis are not started here: they are the machine's (as in production); the script
checks that they answer, runs the migrations unless ``--no-migrate``, renders deploy/haproxy.cfg for
the local ports into the work folder, starts everything, and stops it all on Ctrl-C. The tests import
``render_haproxy_config``, ``Haproxy`` and ``start_instance`` so that they run this very configuration.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "haproxy.cfg"


def _replace_block(text: str, name: str, lines: list[str]) -> str:
    pattern = re.compile(rf"^# BEGIN {name}\n.*?^# END {name}\n", re.S | re.M)
    if not pattern.search(text):
        raise ValueError(f"deploy/haproxy.cfg has no '# BEGIN {name}' / '# END {name}' block")
    body = "".join(f"{line}\n" for line in lines)
    return pattern.sub(lambda _: f"# BEGIN {name}\n{body}# END {name}\n", text, count=1)


def server_name(port: int) -> str:
    """The HAProxy server name of an instance, also the value of its stickiness cookie."""
    return f"web{port}"


def render_haproxy_config(proxy_port: int, instance_ports: list[int], stats_port: int | None = None,
                          host: str = "127.0.0.1", maxconn: int = 4000, template: Path = TEMPLATE) -> str:
    """deploy/haproxy.cfg for a local cluster: plain HTTP on ``host:proxy_port``, run in the foreground
    by the current user, one server per instance port, and an optional stats page."""
    text = template.read_text()
    # HAProxy needs two descriptors per connection and refuses to start if it cannot raise its limit
    # that far; the packaged service may (systemd's LimitNOFILE), a login shell often may not.
    text = re.sub(r"^(    maxconn) \d+$", rf"\1 {maxconn}", text, count=1, flags=re.M)
    text = _replace_block(text, "global", [])
    text = _replace_block(text, "bind", [f"    bind {host}:{proxy_port}"])
    text = _replace_block(text, "servers", [
        f"    server {server_name(p)} 127.0.0.1:{p} check cookie {server_name(p)}" for p in instance_ports])
    text = _replace_block(text, "stats", [] if stats_port is None else [
        "frontend stats", f"    bind {host}:{stats_port}", "    stats enable", "    stats uri /stats",
        "    stats refresh 2s"])
    # Plain HTTP on loopback: a Secure cookie would never be sent back (as SESSION_COOKIE_SECURE=0 for the app).
    text = text.replace(" httponly secure ", " httponly ")
    # The log goes to the foreground process's output (haproxy.log in the work folder), not to syslog.
    return text.replace("    log /dev/log local0\n", "    log stdout format raw local0\n")


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"process exited ({proc.returncode}) before {url} answered: {tail}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - a loopback URL of ours
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@dataclass
class Haproxy:
    config: str
    workdir: Path
    port: int
    proc: subprocess.Popen | None = None

    def start(self, wait_for: str | None = "/healthz", timeout: float = 20) -> Haproxy:
        binary = haproxy_binary()
        if binary is None:
            raise FileNotFoundError("haproxy is not installed (apt-get install haproxy)")
        path = self.workdir / "haproxy.cfg"
        path.write_text(self.config)
        log = self.workdir / "haproxy.log"
        # The binary and the file are ours: found on PATH, rendered just above.
        subprocess.run([binary, "-c", "-q", "-f", str(path)], check=True, capture_output=True, timeout=20)  # noqa: S603
        # -db: stay in the foreground, so this process owns it and a kill reaches it.
        self.proc = subprocess.Popen([binary, "-db", "-f", str(path)], stdout=log.open("ab"),  # noqa: S603
                                     stderr=subprocess.STDOUT)
        if wait_for:
            wait_http(f"http://127.0.0.1:{self.port}{wait_for}", timeout, self.proc, log)
        return self

    def stop(self) -> None:
        stop_process(self.proc)


def start_instance(port: int, env: dict[str, str], log: Path, host: str = "127.0.0.1") -> subprocess.Popen:
    """One web instance as ecabinet-web@.service runs it: one gevent worker holding many sockets."""
    return subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "4096",
         "-b", f"{host}:{port}", "--graceful-timeout", "5", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def start_job_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "huey.bin.huey_consumer", "ecabinet.jobs.huey", "-k", "process",
                             "-w", "2"], cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def stop_process(proc: subprocess.Popen | None, timeout: float = 10, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _check_services(env: dict[str, str]) -> None:
    import redis
    import sqlalchemy as sa

    engine = sa.create_engine(env["DATABASE_URL"], connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    engine.dispose()
    redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=3).ping()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--proxy-port", type=int, default=8000)
    parser.add_argument("--base-port", type=int, default=8001, help="the first instance's port; the others follow")
    parser.add_argument("--stats-port", type=int, default=8404, help="HAProxy's stats page (0: none)")
    parser.add_argument("--maxconn", type=int, default=4000, help="HAProxy's connection limit (2 descriptors each)")
    parser.add_argument("--workdir", type=Path, default=None, help="config and logs (default: a new temporary folder)")
    parser.add_argument("--no-migrate", action="store_true", help="do not run `ecabinet db upgrade` first")
    parser.add_argument("--no-worker", action="store_true", help="do not start the job worker")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not env.get(name):
            parser.error(f"set {name} (PostgreSQL and Redis are shared by every instance)")
    # The instances sit behind one proxy; a loopback cluster has no TLS, so its cookies cannot be Secure.
    env.setdefault("TRUSTED_PROXIES", "1")
    env.setdefault("SESSION_COOKIE_SECURE", "0")
    env.setdefault("PYTHONUNBUFFERED", "1")
    _check_services(env)
    if haproxy_binary() is None:
        parser.error("haproxy is not installed (apt-get install haproxy)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ecabinet-cluster-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if not args.no_migrate:
        subprocess.run([sys.executable, "-m", "ecabinet", "db", "upgrade"], cwd=ROOT, env=env, check=True, timeout=300)

    ports = [args.base_port + n for n in range(args.instances)]
    procs: list[subprocess.Popen] = []
    proxy = Haproxy(render_haproxy_config(args.proxy_port, ports, args.stats_port or None,
                                                 maxconn=args.maxconn), workdir, args.proxy_port)
    stopping = False
    worker: subprocess.Popen | None = None

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        for port in ports:
            log = workdir / f"web-{port}.log"
            procs.append(start_instance(port, env, log))
            wait_http(f"http://127.0.0.1:{port}/healthz", 30, procs[-1], log)
        if not args.no_worker:
            worker = start_job_worker(env, workdir / "worker.log")
            procs.append(worker)
        proxy.start()
        listed = ", ".join(map(str, ports))
        print(f"e-Cabinet on http://127.0.0.1:{args.proxy_port}/ ({len(ports)} instances: {listed})")
        if args.stats_port:
            print(f"HAProxy stats: http://127.0.0.1:{args.stats_port}/stats")
        print(f"config and logs: {workdir}; Ctrl-C stops everything")
        reported: set[int] = set()
        while not stopping:
            # A dead instance is only reported: HAProxy sends its tablets to the others (as systemd would
            # restart it in production). Without the proxy nothing is reachable, so that ends the cluster.
            for proc in procs:
                if proc.poll() is not None and proc.pid not in reported:
                    reported.add(proc.pid)
                    print(f"{' '.join(map(str, proc.args[-3:]))} exited with {proc.returncode}; see {workdir}",
                          file=sys.stderr)
            if proxy.proc is not None and proxy.proc.poll() is not None:
                print(f"haproxy exited with {proxy.proc.returncode}; see {workdir}/haproxy.log", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        proxy.stop()
        for proc in reversed(procs):
            # The job worker lets the jobs under way finish on SIGINT (SIGTERM would interrupt them).
            stop_process(proc, 120 if proc is worker else 10, signal.SIGINT if proc is worker else signal.SIGTERM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
