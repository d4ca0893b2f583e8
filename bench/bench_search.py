"""Search latency over 10,000 documents, on SQLite (FTS5) and PostgreSQL (GIN), p50/p95.

    .venv/bin/python bench/bench_search.py [--docs 10000] [--queries 200] [--json] [--only sqlite|postgresql]

Target: p95 <= 100 ms. Documents are written straight into the search index (the same rows the
service writes), with generated Vietnamese text; queries are folded words without diacritics.
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
WORDS = ("nghị định quản lý nợ công đầu tư ngân sách chuyển đổi số năng lượng giáo dục y tế nhà ở xã hội "
         "kế hoạch trung hạn thẩm định tờ trình báo cáo chính phủ bộ trưởng địa phương giải ngân vốn "
         "thị trường bất động sản tiền tệ lãi suất xuất khẩu nông nghiệp môi trường biến đổi khí hậu").split()
QUERIES = ["nghi dinh", "no cong", "chuyen doi so", "nang luong", "bat dong san", "giai ngan von", "khi hau",
           "tham dinh", "lai suat", "nha o xa hoi"]


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
    from ecabinet.documents.models import Document, DocumentVersion, SearchEntry
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
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(300, 1500)))
                document = Document(meeting_id=meeting.id, item_id=item.id, title=f"Tài liệu {m}-{d}", position=d + 1)
                db.session.add(document)
                db.session.flush()
                db.session.add(DocumentVersion(document_id=document.id, number=1, sha256="0" * 64, size=1, page_count=1,
                                               page_texts=json.dumps([text], ensure_ascii=False)))
                db.session.add(SearchEntry(kind="document", meeting_id=meeting.id, item_id=item.id,
                                           document_id=document.id, title=document.title,
                                           folded=search.fold(document.title + " " + text)))
            db.session.commit()
        load_s = time.perf_counter() - started
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE search_entry"))
            db.session.commit()
        times = []
        for n in range(queries):
            q = QUERIES[n % len(QUERIES)]
            t0 = time.perf_counter()
            hits = search.search(member, q)
            times.append((time.perf_counter() - t0) * 1000)
            db.session.rollback()
        times.sort()
        return {"database": db.engine.dialect.name, "documents": docs, "queries": queries, "load_s": round(load_s, 1),
                "p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                "max_ms": round(times[-1], 1), "hits_last_query": len(hits)}


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
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("ECABINET_INSTANCE_DIR", tmp)
        urls = {"sqlite": f"sqlite:///{tmp}/bench.sqlite3"}
        pg = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        urls["postgresql"] = f"{pg}?options=-csearch_path%3D{schema}"
        for name, url in urls.items():
            if args.only and name != args.only:
                continue
            if name == "postgresql":
                import sqlalchemy as sa

                try:
                    engine = sa.create_engine(pg, poolclass=sa.pool.NullPool)
                    with engine.begin() as conn:
                        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                except Exception as exc:  # noqa: BLE001
                    results.append({"database": name, "skipped": type(exc).__name__})
                    continue
            try:
                # One process per database: the app and its models bind to one URL.
                out = subprocess.run([sys.executable, __file__, "--child", url, "--docs", str(args.docs),
                                      "--queries", str(args.queries)], capture_output=True, text=True, check=True,
                                     env={**os.environ, "ECABINET_INSTANCE_DIR": tmp})
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            finally:
                if name == "postgresql":
                    with engine.begin() as conn:
                        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if "skipped" in r:
                print(f"{r['database']:<11} skipped ({r['skipped']})")
            else:
                print(f"{r['database']:<11} {r['documents']} docs  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms  "
                      f"max {r['max_ms']} ms  (target p95 <= 100 ms; load {r['load_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
