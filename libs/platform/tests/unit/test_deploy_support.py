"""The platform's pieces for deployment: the services manifest, Kafka client security, dead-letter replay,
migrations verified rather than applied."""

import asyncio
from types import SimpleNamespace

import pytest

from smartpick_platform import db, dead_letters, services
from smartpick_platform.kafka import security_options
from smartpick_platform.settings import KafkaSecuritySettings, PlatformSettings


def test_the_manifest_names_every_process_port_and_database():
    manifest = services.manifest()
    assert set(manifest.services) == {"profile", "ranking", "mentorship", "gateway"}
    assert [p.name for p in manifest.processes_of("ranking")] == ["ranking", "ranking-worker"]
    assert manifest.grpc_target("mentorship") == f"127.0.0.1:{manifest.port('mentorship', 'grpc_port')}"
    assert manifest.services["gateway"].env_prefix == "SMARTPICK_GATEWAY_"
    with pytest.raises(KeyError, match="no process 'search'"):
        manifest.process("search")


def test_a_health_port_that_is_not_a_port_of_the_process_is_refused():
    document = {
        "services": {"a": {"package": "smartpick-a", "database": "smartpick_a"}},
        "processes": {
            "a": {
                "service": "a",
                "args": [],
                "ports": {"grpc_port": 1},
                "health_port": "ops_port",
                "reads": [],
                "writes": [],
                "calls": [],
            }
        },
    }
    with pytest.raises(ValueError, match="health_port 'ops_port'"):
        services.parse(document)


def test_local_kafka_clients_use_plaintext_and_cluster_ones_scram_over_tls(tmp_path):
    assert security_options(KafkaSecuritySettings()) == {"security_protocol": "PLAINTEXT"}
    options = security_options(
        KafkaSecuritySettings(security_protocol="SASL_SSL", sasl_username="smartpick-gateway", sasl_password="pw")
    )
    assert options["security_protocol"] == "SASL_SSL"
    assert (options["sasl_mechanism"], options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "SCRAM-SHA-512",
        "smartpick-gateway",
        "pw",
    )
    assert options["ssl_context"] is not None


def test_sasl_without_credentials_names_the_missing_settings():
    with pytest.raises(ValueError, match="SMARTPICK_KAFKA_SASL_USERNAME and SMARTPICK_KAFKA_SASL_PASSWORD"):
        security_options(KafkaSecuritySettings(security_protocol="SASL_SSL"))


def test_a_replayed_message_goes_back_to_its_source_without_the_dead_letter_headers():
    record = SimpleNamespace(
        topic="smartpick.profile-updated.v1.dlq",
        partition=0,
        offset=41,
        key=b"student-1",
        value=b"payload",
        headers=[
            ("ce_id", b"e1"),
            ("x-dlq-reason", b"bad"),
            ("x-dlq-source", b"smartpick.profile-updated.v1:7:1200"),
            ("x-dlq-group", b"smartpick-ranking"),
        ],
    )
    assert dead_letters.original(record) == (
        "smartpick.profile-updated.v1",
        b"student-1",
        b"payload",
        [("ce_id", b"e1"), ("x-dlq-replayed-from", b"smartpick.profile-updated.v1.dlq:0:41")],
    )


def test_a_message_without_its_source_cannot_be_replayed():
    record = SimpleNamespace(topic="t.dlq", partition=0, offset=1, key=None, value=b"", headers=[])
    with pytest.raises(ValueError, match="no x-dlq-source"):
        dead_letters.original(record)


@pytest.fixture(autouse=True)
def no_database(monkeypatch):
    """The role check at the end of db.migrate connects to the database: here there is none."""
    monkeypatch.setattr(db, "check_runtime_role", lambda url: None)


def test_verify_mode_refuses_a_schema_behind_the_code_and_changes_nothing(monkeypatch, tmp_path):
    applied = []
    monkeypatch.setenv("SMARTPICK_MIGRATIONS", "verify")
    monkeypatch.setattr(db, "pending_migrations", lambda url, path: ["0002.more"])
    monkeypatch.setattr(db, "apply_migrations", lambda url, path, runtime_role: applied.append(path))
    with pytest.raises(db.PendingMigrations, match=r"0002\.more"):
        asyncio.run(db.migrate("postgresql://app@x/db", tmp_path, migration_database_url=None))
    monkeypatch.setattr(db, "pending_migrations", lambda url, path: [])
    assert asyncio.run(db.migrate("postgresql://app@x/db", tmp_path, migration_database_url=None)) == []
    assert applied == []


def test_apply_mode_applies_as_the_migration_role_and_grants_the_runtime_role(monkeypatch, tmp_path):
    monkeypatch.delenv("SMARTPICK_MIGRATIONS", raising=False)
    calls = []
    monkeypatch.setattr(
        db, "apply_migrations", lambda url, path, runtime_role: calls.append((url, runtime_role)) or ["0001.initial"]
    )
    migrated = db.migrate("postgresql://app:pw@x/db", tmp_path, migration_database_url="postgresql://owner:pw@x/db")
    assert asyncio.run(migrated) == ["0001.initial"]
    assert calls == [("postgresql://owner:pw@x/db", "app")]


def test_apply_mode_without_the_migration_role_says_what_to_set(monkeypatch, tmp_path):
    monkeypatch.delenv("SMARTPICK_MIGRATIONS", raising=False)
    with pytest.raises(ValueError, match="MIGRATION_DATABASE_URL"):
        asyncio.run(db.migrate("postgresql://app@x/db", tmp_path, migration_database_url=None))


def test_runtime_sessions_carry_the_timeouts_of_the_settings(monkeypatch):
    monkeypatch.setenv("SMARTPICK_DATABASE_STATEMENT_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("SMARTPICK_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", "0")
    assert db.connection_limits(PlatformSettings()) == {
        "statement_timeout": "2500",
        "idle_in_transaction_session_timeout": "0",
    }


def test_the_runtime_grants_are_rows_only_and_leave_the_migration_bookkeeping_read_only():
    statements = " ".join(str(s.as_string(None)) for s in db.runtime_grants("smartpick_gateway", "smartpick_gateway"))
    assert "SELECT, INSERT, UPDATE, DELETE ON ALL TABLES" in statements
    assert "TRUNCATE" not in statements and "CREATE" not in statements and "ALL PRIVILEGES" not in statements
    assert 'REVOKE INSERT, UPDATE, DELETE ON "_yoyo_migration"' in statements
