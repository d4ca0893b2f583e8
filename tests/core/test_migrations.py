"""The migrations build the schema from nothing, match the models, and go down and up again."""

from __future__ import annotations

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ecabinet.extensions import db, include_object
from tests.conftest import ROOT


def _diff(app) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(context, db.metadata)


def test_models_match_migrations(app):
    # The test database was built by `flask db upgrade` from nothing (see conftest).
    assert _diff(app) == []


def test_downgrade_to_base_and_upgrade_again(app, db_url):
    env = {**os.environ, "DATABASE_URL": db_url}
    for step in (["db", "downgrade", "base"], ["db", "upgrade"]):
        done = subprocess.run([sys.executable, "-m", "ecabinet", *step], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
    db.engine.dispose()
    assert _diff(app) == []


def _migrate(db_url: str, *step: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url}
    done = subprocess.run([sys.executable, "-m", "ecabinet", "db", *step], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_organisations_migration_links_existing_rows(app, db_url):
    """0014 makes an organisation of every distinct name typed before, and links the rows to it."""
    import sqlalchemy as sa

    db.engine.dispose()
    _migrate(db_url, "downgrade", "0013")
    engine = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    now = "2026-01-05 08:00:00"
    with engine.begin() as conn:
        for id_, name, organisation in ((1, "Nguyễn Văn An", "Bộ Tài chính"), (2, "Trần Thị Bình", " Bộ Y tế "),
                                        (3, "Lê Văn Cường", ""), (4, "Lê Văn Cường", "Bộ Tài chính")):
            conn.execute(sa.text(
                "INSERT INTO user_account (id, email, name, title, organisation, role, password_hash, active, "
                "created_at, password_changed_at) VALUES (:id, :email, :name, '', :org, 'member', 'x', :yes, "
                ":now, :now)"), {"id": id_, "email": f"u{id_}@example.vn", "name": name, "org": organisation,
                                 "yes": True, "now": now})
        conn.execute(sa.text(
            "INSERT INTO meeting (id, title, kind, starts_at, ends_at, timezone, place, mode, status, "
            "conflict_policy, quorum_rule, agenda_version, agenda_changed, created_at) VALUES (1, 'Phiên họp', "
            "'regular', :now, :now, 'Asia/Ho_Chi_Minh', '', 'in_person', 'draft', 'recuse', 'more_than_half', "
            "0, :no, :now)"), {"now": now, "no": False})
        for id_, ministry, presenter in ((1, "Bộ Tài chính", "Nguyễn Văn An"), (2, "Bộ Quốc phòng", "Lê Văn Cường"),
                                         (3, "", "")):
            conn.execute(sa.text(
                "INSERT INTO meeting_item (id, meeting_id, position, title, ministry, presenter, duration_minutes, "
                "summary, kind, confidentiality, created_at) VALUES (:id, 1, :id, 'Tờ trình', :ministry, "
                ":presenter, 10, '', 'decision', 'normal', :now)"),
                {"id": id_, "ministry": ministry, "presenter": presenter, "now": now})
    _migrate(db_url, "upgrade")
    with engine.connect() as conn:
        organisations = dict(conn.execute(sa.text("SELECT name, id FROM organisation")).all())
        assert set(organisations) == {"Bộ Quốc phòng", "Bộ Tài chính", "Bộ Y tế"}
        order = [name for (name,) in conn.execute(sa.text("SELECT name FROM organisation ORDER BY precedence"))]
        assert order == ["Bộ Quốc phòng", "Bộ Tài chính", "Bộ Y tế"]  # the Government's order
        users = dict(conn.execute(sa.text("SELECT id, organisation_id FROM user_account")).all())
        assert users == {1: organisations["Bộ Tài chính"], 2: organisations["Bộ Y tế"], 3: None,
                         4: organisations["Bộ Tài chính"]}
        items = {row[0]: row[1:] for row in conn.execute(
            sa.text("SELECT id, organisation_id, presenter_id FROM meeting_item"))}
        # Two users are called Lê Văn Cường: that presenter stays unlinked.
        assert items == {1: (organisations["Bộ Tài chính"], 1), 2: (organisations["Bộ Quốc phòng"], None),
                         3: (None, None)}
    engine.dispose()
