"""Search latency over 10,000 documents, on SQLite (FTS5) and PostgreSQL (GIN), p50/p95.

    .venv/bin/python bench/bench_search.py [--docs 10000] [--queries 200] [--json] [--only sqlite|postgresql]

Target: p95 <= 100 ms. Documents are written straight into the search index (``index_document``, as the
service does), with generated Vietnamese text: common words that nearly every document holds, one or two
provinces each, decree numbers, and now and then a named project. The queries are words without
diacritics; some match nearly every document, some a few per cent, some a handful, some none
(p50/p95 per kind, and the number of documents each query matches, are printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Common words: nearly every document holds each of them (the worst case: a query matching them all).
WORDS = ("nghị định quản lý nợ công đầu tư ngân sách chuyển đổi số năng lượng giáo dục y tế nhà ở xã hội "
         "kế hoạch trung hạn thẩm định tờ trình báo cáo chính phủ bộ trưởng địa phương giải ngân vốn "
         "thị trường bất động sản tiền tệ lãi suất xuất khẩu nông nghiệp môi trường biến đổi khí hậu").split()
# Each document also names one or two provinces (a few per cent of the documents each), cites decrees by
# number (one number in a few hundred) and, rarely, a named project: what makes queries selective.
PROVINCES = ["Quảng Ninh", "Cà Mau", "Đắk Lắk", "Lào Cai", "Nghệ An", "Thừa Thiên Huế", "Bình Dương", "Kiên Giang",
             "Hà Giang", "Sóc Trăng", "Thanh Hóa", "Khánh Hòa", "Lâm Đồng", "Bắc Ninh", "Quảng Trị", "An Giang",
             "Hải Phòng", "Đồng Nai", "Tây Ninh", "Điện Biên", "Phú Yên", "Bến Tre", "Gia Lai", "Hòa Bình"]
PROJECTS = ["cao tốc Bắc Nam", "sân bay Long Thành", "đường sắt tốc độ cao", "vành đai 4 vùng Thủ đô",
            "điện gió ngoài khơi", "cảng Liên Chiểu", "hồ chứa nước Ka Pét", "khu kinh tế Vân Đồn"]
# (query, what it is meant to exercise); the number of documents each one matches is printed.
QUERIES = [("nghi dinh", "many"), ("no cong", "many"), ("chuyen doi so", "many"), ("bat dong san", "many"),
           ("giai ngan v", "many, prefix"), ("lai suat", "many"),
           ("quang ninh", "some"), ("dak lak nong nghiep", "some"), ("ca mau bien doi khi hau", "some"),
           ("nghi dinh 123/2024", "few"), ("san bay long thanh", "few"), ("cang lien chieu", "few"),
           ("dien gio ngoai khoi", "few"), ("ho chua nuoc ka pet", "few"), ("vanh dai 4", "few"),
           ("tau vu tru", "none"), ("hiep dinh thuong mai tu do", "none")]


def document_text(rng: random.Random) -> tuple[str, str]:
    """A generated briefing: (title, text)."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(300, 1500))]
    provinces = rng.sample(PROVINCES, rng.randint(1, 2))
    for province in provinces:
        for _ in range(rng.randint(1, 4)):
            words.insert(rng.randrange(len(words)), f"tỉnh {province}")
    for _ in range(rng.randint(1, 3)):
        words.insert(rng.randrange(len(words)), f"Nghị định số {rng.randint(1, 300)}/{rng.randint(2016, 2025)}/NĐ-CP")
    if rng.random() < 0.01:
        words.insert(rng.randrange(len(words)), f"dự án {rng.choice(PROJECTS)}")
    return f"Tờ trình về {rng.choice(WORDS)} {rng.choice(WORDS)} tại tỉnh {provinces[0]}", " ".join(words)


def run(url: str, docs: int, queries: int) -> dict:
    os.environ["DATABASE_URL"] = url
    subprocess.run([sys.executable, "-m", "ecabinet", "db", "upgrade"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": url})
    from ecabinet import create_app
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from ecabinet.core.types import utcnow
    from ecabinet.documents import search
    from ecabinet.documents.models import Document, DocumentVersion
    from ecabinet.extensions import db
    from ecabinet.meetings.models import Meeting, MeetingItem, MeetingParticipant, ParticipantRole

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": {}})
    rng = random.Random(4)
    with app.app_context():
        member = accounts.create_user(Actor.system("bench"), accounts.UserData(
            email=f"bench-{uuid.uuid4().hex[:6]}@example.gov.vn", name="Bench", role=Role.MEMBER), "bench-password-1")
        started = time.perf_counter()
        per_meeting = 50
        for m in range(docs // per_meeting):
            meeting = Meeting(title=f"Phiên họp {m}", starts_at=utcnow(), ends_at=utcnow(), timezone="Asia/Ho_Chi_Minh",
                              status="published", agenda_version=1)
            db.session.add(meeting)
            db.session.flush()
            db.session.add(MeetingParticipant(meeting_id=meeting.id, user_id=member.id, role=ParticipantRole.MEMBER))
            item = MeetingItem(meeting_id=meeting.id, position=1, title=f"Mục {m}")
            db.session.add(item)
            db.session.flush()
            for d in range(per_meeting):
                title, text = document_text(rng)
                words = text.split(" ")
                pages = [" ".join(words[i:i + 300]) for i in range(0, len(words), 300)]
                document = Document(meeting_id=meeting.id, item_id=item.id, title=title, position=d + 1)
                db.session.add(document)
                db.session.flush()
                db.session.add(DocumentVersion(document_id=document.id, number=1, sha256="0" * 64, size=1,
                                               page_count=len(pages), page_texts=json.dumps(pages, ensure_ascii=False)))
                search.index_document(db.session, document, pages)
            db.session.commit()
        load_s = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load: without statistics the planner guesses.
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        matches = {q: search.count_matches(q) for q, _kind in QUERIES}
        db.session.rollback()
        times: list[float] = []
        cpu: list[float] = []  # this process's CPU time: less disturbed by a busy machine (not PostgreSQL's)
        by_kind: dict[str, list[float]] = {}
        for n in range(queries):
            q, kind = QUERIES[n % len(QUERIES)]
            t0, c0 = time.perf_counter(), time.process_time()
            search.search(member, q)
            elapsed = (time.perf_counter() - t0) * 1000
            times.append(elapsed)
            cpu.append((time.process_time() - c0) * 1000)
            by_kind.setdefault(kind.split(",")[0], []).append(elapsed)
            db.session.rollback()
        return {"database": db.engine.dialect.name, "documents": docs, "queries": queries, "load_s": round(load_s, 1),
                **percentiles(times), "max_ms": round(max(times), 1), "cpu_p50_ms": percentiles(cpu)["p50_ms"],
                "by_kind": {k: percentiles(v) for k, v in by_kind.items()},
                "matches": matches}


def percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1)}


def per_database(script: str, child_args: list[str], only: str | None = None) -> list[dict]:
    """Run ``script --child URL *child_args`` once per database, each in a process of its own (the app and
    its models bind to one URL): a temporary SQLite file, then a fresh PostgreSQL schema dropped at the
    end (``TEST_POSTGRES_URL`` or ``BENCH_POSTGRES_URL``; skipped with the reason when unreachable).
    Returns the JSON object each child printed last."""
    import sqlalchemy as sa

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        pg = os.environ.get("TEST_POSTGRES_URL") or os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_PG
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        urls = {"sqlite": f"sqlite:///{tmp}/bench.sqlite3", "postgresql": f"{pg}?options=-csearch_path%3D{schema}"}
        for name, url in urls.items():
            if only and name != only:
                continue
            engine = None
            if name == "postgresql":
                try:
                    engine = sa.create_engine(pg, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
                    with engine.begin() as conn:
                        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                except Exception as exc:  # noqa: BLE001
                    results.append({"database": name, "skipped": type(exc).__name__})
                    continue
            try:
                env = {**os.environ, "ECABINET_INSTANCE_DIR": f"{tmp}/{name}"}
                out = subprocess.run([sys.executable, script, "--child", url, *child_args], stdout=subprocess.PIPE,
                                     text=True, check=True, env=env)
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            finally:
                if engine is not None:
                    with engine.begin() as conn:
                        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.docs, args.queries)))
        return 0
    results = per_database(__file__, ["--docs", str(args.docs), "--queries", str(args.queries)], args.only)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "skipped" in r:
                print(f"{r['database']:<11} skipped ({r['skipped']})")
            else:
                print(f"{r['database']:<11} {r['documents']} docs  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
                      f"max {r['max_ms']} ms  CPU p50 {r['cpu_p50_ms']} ms  (target p95 <= 100 ms; "
                      f"load {r['load_s']} s)")
                for kind, p in r["by_kind"].items():
                    print(f"{'':<11} queries matching {kind:<5} p50 {p['p50_ms']} ms  p95 {p['p95_ms']} ms")
                print(f"{'':<11} documents matched: " + ", ".join(f"{q!r} {n}" for q, n in r["matches"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
