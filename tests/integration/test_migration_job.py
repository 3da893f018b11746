"""Migrations as Kubernetes runs them: a one-shot command applies them, and serving processes started with
SMARTPICK_MIGRATIONS=verify refuse a schema behind the code and change nothing."""

import subprocess
import sys
import uuid

import asyncpg
import pytest

from smartpick_platform import db


async def test_verify_refuses_pending_migrations_until_the_job_applied_them(stack, tmp_path, monkeypatch):
    url = stack.endpoints.database_urls["gateway"]
    migration_url = stack.endpoints.migration_database_urls["gateway"]
    probe = f"probe_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"0001.{probe}.sql").write_text(f"CREATE TABLE {probe} (id integer);\n")
    monkeypatch.setenv("SMARTPICK_MIGRATIONS", "verify")

    with pytest.raises(db.PendingMigrations, match=probe):
        await db.migrate(url, tmp_path, migration_database_url=None)
    assert db.pending_migrations(url, tmp_path) == [f"0001.{probe}"]

    # What the migration Job does, as the migration role; the runtime role can then use the new table.
    assert db.apply_migrations(migration_url, tmp_path, runtime_role=db.role_of(url)) == [f"0001.{probe}"]
    assert await db.migrate(url, tmp_path, migration_database_url=None) == []
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"INSERT INTO {probe} VALUES (1)")
        assert await conn.fetchval(f"SELECT count(*) FROM {probe}") == 1
    finally:
        await conn.close()


def test_the_migration_command_applies_a_services_migrations(stack):
    env = {
        "SMARTPICK_GATEWAY_MIGRATION_DATABASE_URL": stack.endpoints.migration_database_urls["gateway"],
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
    assert missing.returncode == 2 and "SMARTPICK_GATEWAY_MIGRATION_DATABASE_URL is not set" in missing.stderr
