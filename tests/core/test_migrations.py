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
