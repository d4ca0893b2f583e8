"""A production-shaped e-Cabinet on one machine: HAProxy in front of several gunicorn gevent instances
sharing PostgreSQL and Redis, plus the job worker.

    DATABASE_URL=postgresql+psycopg://… REDIS_URL=redis://127.0.0.1:6379/0 SECRET_KEY=… \\
        .venv/bin/python deploy/cluster.py --instances 3 --proxy-port 8000 --base-port 8001

PostgreSQL and Redis are not started here: they are the machine's (as in production); the script
checks that they answer, runs the migrations unless ``--no-migrate``, renders deploy/haproxy.cfg for
the local ports into the work folder, starts everything, and stops it all on Ctrl-C. The tests import
``render_haproxy_config``, ``Haproxy`` and ``worker_pids`` so that they run this very configuration;
bench/bench_scaleout.py starts a whole ``Cluster`` and kills one of its instances with ``kill_instance``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
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


def worker_pids(pid: int) -> list[int]:
    """The worker processes of a gunicorn master (its children), from /proc."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(p) for p in children.read_text().split()]
    except OSError:
        return []


def kill_instance(proc: subprocess.Popen, wait: float = 10) -> list[int]:
    """SIGKILL a gunicorn master and its workers at once, as a crash would: nothing runs its shutdown
    code. Waits until the master is reaped and the workers have left; returns the workers' pids."""
    workers = worker_pids(proc.pid)
    for target in [*workers, proc.pid]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(wait)
    for worker in workers:  # reaped by init once the master is gone
        deadline = time.monotonic() + wait
        while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
            try:
                if Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            except (OSError, IndexError):
                break
            time.sleep(0.05)
    return workers


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


@dataclass
class Instance:
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def name(self) -> str:
        return server_name(self.port)

    @property
    def worker_pid(self) -> int | None:
        workers = worker_pids(self.proc.pid)
        return workers[0] if workers else None


@dataclass
class Cluster:
    """``instances`` web instances on consecutive ports (or free ones), HAProxy in front, and the job worker.

    ``env`` must hold DATABASE_URL and REDIS_URL; the instances trust the one proxy and, on loopback
    without TLS, send cookies that are not Secure."""

    env: dict[str, str]
    workdir: Path
    instances: int = 3
    proxy_port: int | None = None
    base_port: int | None = None
    stats_port: int | None = None
    maxconn: int = 4000
    job_worker: bool = True
    web: list[Instance] = field(default_factory=list)
    proxy: Haproxy | None = None
    worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def start(self, timeout: float = 60) -> Cluster:
        self.env = {"TRUSTED_PROXIES": "1", "SESSION_COOKIE_SECURE": "0", "PYTHONUNBUFFERED": "1", **self.env}
        self.workdir.mkdir(parents=True, exist_ok=True)
        ports = ([self.base_port + n for n in range(self.instances)] if self.base_port
                 else [free_port() for _ in range(self.instances)])
        self.proxy_port = self.proxy_port or free_port()
        for port in ports:
            log = self.workdir / f"web-{port}.log"
            self.web.append(Instance(port, start_instance(port, self.env, log), log))
            wait_http(f"http://127.0.0.1:{port}/healthz", timeout, self.web[-1].proc, log)
        if self.job_worker:
            self.worker = start_job_worker(self.env, self.workdir / "worker.log")
        self.proxy = Haproxy(render_haproxy_config(self.proxy_port, ports, self.stats_port, maxconn=self.maxconn),
                             self.workdir, self.proxy_port)
        self.proxy.start()
        return self

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for instance in reversed(self.web):
            stop_process(instance.proc)
        # The job worker lets the jobs under way finish on SIGINT (SIGTERM would interrupt them).
        stop_process(self.worker, 120, signal.SIGINT)

    def server_states(self) -> dict[str, str]:
        """HAProxy's view of each instance (UP, DOWN, …), from its stats page (``stats_port`` needed)."""
        if self.stats_port is None:
            raise ValueError("the cluster has no stats page")
        url = f"http://127.0.0.1:{self.stats_port}/stats;csv"
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - a loopback URL of ours
            lines = answer.read().decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows
                if r.get("pxname") == "ecabinet_web" and r["svname"] not in ("FRONTEND", "BACKEND")}

    def wait_all_up(self, timeout: float = 60) -> None:
        """Until HAProxy's health checks have every instance UP (a fresh or busy one may start DOWN)."""
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = self.server_states()
            if states and all(v == "UP" for v in states.values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"HAProxy does not have every instance up: {states}")

    def processes(self) -> list[subprocess.Popen]:
        return [*(i.proc for i in self.web), *([self.worker] if self.worker else [])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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

    cluster = Cluster(env, workdir, args.instances, args.proxy_port, args.base_port, args.stats_port or None,
                      args.maxconn, job_worker=not args.no_worker)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        cluster.start(30)
        listed = ", ".join(str(i.port) for i in cluster.web)
        print(f"e-Cabinet on {cluster.url}/ ({len(cluster.web)} instances: {listed})")
        if args.stats_port:
            print(f"HAProxy stats: http://127.0.0.1:{args.stats_port}/stats")
        print(f"config and logs: {workdir}; Ctrl-C stops everything")
        reported: set[int] = set()
        proxy = cluster.proxy
        while not stopping:
            # A dead instance is only reported: HAProxy sends its tablets to the others (as systemd would
            # restart it in production). Without the proxy nothing is reachable, so that ends the cluster.
            for proc in cluster.processes():
                if proc.poll() is not None and proc.pid not in reported:
                    reported.add(proc.pid)
                    print(f"{' '.join(map(str, proc.args[-3:]))} exited with {proc.returncode}; see {workdir}",
                          file=sys.stderr)
            if proxy is not None and proxy.proc is not None and proxy.proc.poll() is not None:
                print(f"haproxy exited with {proxy.proc.returncode}; see {workdir}/haproxy.log", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
