"""Migrations as Kubernetes runs them: a one-shot command applies them, and serving processes started with
SMARTPICK_MIGRATIONS=verify refuse a schema behind the code and change nothing."""

import subprocess
import sys
import uuid

import pytest

from smartpick_platform import db


async def test_verify_refuses_pending_migrations_until_the_job_applied_them(stack, tmp_path, monkeypatch):
    url = stack.endpoints.database_urls["gateway"]
    probe = f"probe_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"0001.{probe}.sql").write_text(f"CREATE TABLE {probe} (id integer);\n")
    monkeypatch.setenv("SMARTPICK_MIGRATIONS", "verify")

    with pytest.raises(db.PendingMigrations, match=probe):
        await db.migrate(url, tmp_path)
    assert db.pending_migrations(url, tmp_path) == [f"0001.{probe}"]

    assert db.apply_migrations(url, tmp_path) == [f"0001.{probe}"]  # what the migration Job does
    assert await db.migrate(url, tmp_path) == []


def test_the_migration_command_applies_a_services_migrations(stack):
    env = {
        "SMARTPICK_GATEWAY_DATABASE_URL": stack.endpoints.database_urls["gateway"],
        "SMARTPICK_LOG_FORMAT": "console",
    }
    done = subprocess.run(
        [sys.executable, "-m", "smartpick_platform.migrate", "gateway"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("gateway: 0 migration(s) applied")  # the running gateway applied them

    missing = subprocess.run(
        [sys.executable, "-m", "smartpick_platform.migrate", "gateway"], capture_output=True, text=True, env={}
    )
    assert missing.returncode == 2 and "SMARTPICK_GATEWAY_DATABASE_URL is not set" in missing.stderr
