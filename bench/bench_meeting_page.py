"""The member's meeting page: server time of ``GET /meetings/<id>`` for a meeting of 50 items with 10
documents each, on SQLite and PostgreSQL, p50/p95.

    .venv/bin/python bench/bench_meeting_page.py [--items 50] [--documents 10] [--requests 100] [--json]
                                                  [--only sqlite|postgresql] [--profile]

Target: p95 <= 100 ms. The database is made by the real migrations (a temporary SQLite file, or a fresh
PostgreSQL schema dropped at the end). The meeting is built through the services: the secretariat
creates it with 20 members, adds the items (decision and information items), uploads the documents and
publishes; the member then marks positions on some decision items, has read a third of the documents
(read receipts) and annotated some; another member declared an interest. The member signs in through
the login form and the page is requested through the app (Flask's test client: no network, so the time
is the server's). The number of SQL statements per request is printed too (``--profile`` adds the
cProfile of the requests). Uploads go through ``documents.service.upload``; only the intake child's
verdict is reused for the identical file after its first inspection, to keep the setup short.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench_search import per_database, percentiles  # noqa: E402 - the same driver and percentiles

os.environ.setdefault("ECABINET_FAST_PASSWORD_HASH_FOR_TESTS", "1")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
PASSWORD = "bench-password-2026"  # noqa: S105 - accounts made for this run


def build(app, items: int, per_item: int, folder: Path) -> tuple[int, str]:
    """The meeting, through the services; returns (meeting id, the member's email)."""
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from ecabinet.core.types import utcnow
    from ecabinet.documents import service as documents
    from ecabinet.documents.demo_pdf import make_demo_pdf
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import ItemKind, Position

    pdf = folder / "briefing.pdf"
    make_demo_pdf("Tờ trình dự thảo Nghị định", ["Nội dung tờ trình, trang một.", "Trang hai."], pdf,
                  one_page_per_paragraph=True)
    inspected: dict[bytes, object] = {}
    from ecabinet.documents.service import uploads

    real_inspect = uploads.inspect_pdf

    def inspect_once(path, limits=None):  # the same bytes every time: the child's verdict is reused
        key = Path(path).read_bytes()
        if key not in inspected:
            inspected[key] = real_inspect(path, limits)
        return copy.deepcopy(inspected[key])

    uploads.inspect_pdf = inspect_once
    system = Actor.system("bench")
    with app.app_context():
        def user(email, name, role):
            return accounts.create_user(system, accounts.UserData(email=email, name=name, role=role), PASSWORD)

        secretary = Actor(user("sec@bench.gov.vn", "Thư ký", Role.SECRETARY))
        chair = user("chair@bench.gov.vn", "Chủ tọa", Role.CHAIR)
        members = [user(f"m{n}@bench.gov.vn", f"Thành viên {n}", Role.MEMBER) for n in range(20)]
        start = utcnow() + timedelta(days=3)
        meeting = meetings.create_meeting(secretary, meetings.MeetingData(
            title="Phiên họp Chính phủ thường kỳ", starts_at=start, ends_at=start + timedelta(hours=4),
            place="Phòng họp A", chair_id=chair.id, timezone="Asia/Ho_Chi_Minh"))
        for n in range(items):
            item = meetings.add_item(secretary, meeting, meetings.ItemData(
                title=f"Dự thảo Nghị định số {n + 1}", ministry="Bộ Kế hoạch và Đầu tư", presenter="Bộ trưởng",
                summary="Tóm tắt nội dung.", kind=ItemKind.DECISION if n % 2 == 0 else ItemKind.INFORMATION))
            for d in range(per_item):
                with pdf.open("rb") as stream:
                    documents.upload(secretary, item, stream, "to-trinh.pdf", title=f"Tài liệu {n + 1}.{d + 1}")
        meetings.publish(secretary, meeting)
        member, other = members[0], members[1]
        for n, item in enumerate(meeting.items):
            if item.kind is ItemKind.DECISION and n % 4 == 0:
                meetings.mark_position(Actor(member), item, Position.AGREE)
            if n == 6:
                meetings.declare_interest(Actor(other), item, "Người thân làm việc tại doanh nghiệp liên quan")
            for d, document in enumerate(documents.documents_of(item)):
                if d % 3 == 0:
                    documents.touch_receipt(member, documents.version_of(document))
                if d % 5 == 0:
                    documents.add_annotation(Actor(member), document, {"kind": "note", "page": 1, "body": "Ghi chú"})
        app.extensions["sqlalchemy"].session.commit()
        return meeting.id, member.email


def measure(app, meeting_id: int, email: str, requests: int, profile: bool) -> dict:
    from sqlalchemy import event

    from ecabinet.extensions import db

    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    signed_in = client.post("/login", data={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.status_code
    url = f"/meetings/{meeting_id}"
    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *_a: statements.__setitem__(0, statements[0] + 1))
    first = client.get(url)  # the first look marks the agenda version as seen (a write): not measured
    assert first.status_code == 200, first.status_code
    page = first.get_data(as_text=True)
    times, counts, cpu = [], [], []
    profiler = cProfile.Profile() if profile else None
    for _ in range(requests):
        statements[0] = 0
        if profiler:
            profiler.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        elapsed = (time.perf_counter() - t0) * 1000
        cpu.append((time.process_time() - c0) * 1000)
        if profiler:
            profiler.disable()
        assert response.status_code == 200, response.status_code
        times.append(elapsed)
        counts.append(statements[0])
    result = {**percentiles(times), "max_ms": round(max(times), 1), "requests": requests,
              "sql_statements_per_request": max(counts),
              # This process's CPU time per request: far less sensitive than wall time to a busy machine
              # (on SQLite it includes the database's work; on PostgreSQL the server's is not in it).
              "cpu_p50_ms": percentiles(cpu)["p50_ms"],
              "page_kb": round(len(page.encode()) / 1024, 1),
              "documents_on_page": page.count('class="document-row')}
    if os.environ.get("BENCH_SLOW_STATEMENTS"):  # the statements of one more request, slowest first
        spent: list[tuple[float, str]] = []
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute",
                         lambda conn, *_a: conn.info.__setitem__("t0", time.perf_counter()))
            event.listen(db.engine, "after_cursor_execute", lambda conn, _c, statement, *_a: spent.append(
                ((time.perf_counter() - conn.info["t0"]) * 1000, " ".join(statement.split())[:160])))
        client.get(url)
        for ms, statement in sorted(spent, reverse=True)[:8]:
            print(f"{ms:7.2f} ms  {statement}", file=sys.stderr)
    if profiler:
        out = io.StringIO()
        order = os.environ.get("BENCH_PROFILE_SORT", "cumulative")
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(40)
        print(out.getvalue(), file=sys.stderr)
    return result


def run(url: str, items: int, documents: int, requests: int, profile: bool) -> dict:
    subprocess.run([sys.executable, "-m", "ecabinet", "db", "upgrade"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": url}, timeout=300)
    from ecabinet import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {},
                      "LOGIN_RATE_LIMIT": "1000 per minute"})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        meeting_id, email = build(app, items, documents, Path(tmp))
    setup_s = time.perf_counter() - started
    if url.startswith("postgresql"):
        with app.app_context():
            from ecabinet.extensions import db

            db.session.execute(db.text("ANALYZE"))  # as autovacuum would soon after the writes
            db.session.commit()
    result = measure(app, meeting_id, email, requests, profile)
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite", "items": items,
            "documents_per_item": documents, "setup_s": round(setup_s, 1), **result}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--documents", type=int, default=10)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--profile", action="store_true", help="cProfile of the measured requests, on stderr")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.items, args.documents, args.requests, args.profile)))
        return 0
    results = per_database(__file__, ["--items", str(args.items), "--documents", str(args.documents), "--requests",
                                      str(args.requests), *(["--profile"] if args.profile else [])], args.only)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "skipped" in r:
                print(f"{r['database']:<11} skipped ({r['skipped']})")
                continue
            print(f"{r['database']:<11} {r['items']} items x {r['documents_per_item']} documents: "
                  f"p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  max {r['max_ms']} ms  (target p95 <= 100 ms); "
                  f"CPU p50 {r['cpu_p50_ms']} ms; "
                  f"{r['sql_statements_per_request']} SQL statements per request, {r['page_kb']} KB, "
                  f"{r['documents_on_page']} documents listed; setup {r['setup_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
