"""Settings read from the environment, shared by every service."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Fields every service has. A service subclasses it with its own env_prefix (SMARTPICK_<SERVICE>_)
    for its own fields; the shared ones keep one name across services."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:19092", validation_alias="SMARTPICK_KAFKA_BOOTSTRAP")
    log_level: str = Field("INFO", validation_alias="SMARTPICK_LOG_LEVEL")
    log_format: str = Field("json", validation_alias="SMARTPICK_LOG_FORMAT", pattern="^(json|console)$")
    # `apply` the pending migrations at start (one machine), or only `verify` that none is pending, where a
    # migration Job applies them before the rollout (Kubernetes: deploy/k8s/base/migrations.yaml).
    migrations: str = Field("apply", validation_alias="SMARTPICK_MIGRATIONS", pattern="^(apply|verify)$")
    # Bounds on every runtime database session, in seconds (0: none): a statement running longer is cancelled,
    # a transaction idle longer is ended with its session, so one slow query or stuck caller holds no lock for long.
    database_statement_timeout_seconds: float = Field(
        10.0, ge=0, validation_alias="SMARTPICK_DATABASE_STATEMENT_TIMEOUT_SECONDS"
    )
    database_idle_in_transaction_timeout_seconds: float = Field(
        60.0, ge=0, validation_alias="SMARTPICK_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS"
    )


class KafkaSecuritySettings(BaseSettings):
    """How Kafka clients authenticate: nothing on the local broker; SCRAM over TLS on a cluster with ACLs."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="SMARTPICK_KAFKA_")

    security_protocol: str = Field("PLAINTEXT", pattern="^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$")
    sasl_mechanism: str = Field("SCRAM-SHA-512", pattern="^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$")
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = Field(None, description="CA bundle that signed the brokers' certificates")


class GrpcServiceSettings(PlatformSettings):
    """A gRPC service: its database, its gRPC port and its ops HTTP port (/healthz, /readyz, /metrics)."""

    database_url: str  # as the runtime role
    migration_database_url: str | None = None  # as the migration role, which owns the tables (`apply` only)
    grpc_host: str = "127.0.0.1"
    grpc_port: int
    ops_port: int
    shutdown_grace_seconds: float = 5.0
    # Calls served at once; past it a call is refused at once with RESOURCE_EXHAUSTED, not queued.
    max_concurrent_rpcs: int = Field(64, ge=1)
    # Services with an outbox: published rows are purged this long after Kafka acknowledged them (the
    # topic keeps the event); the purge runs every retention_interval_seconds.
    outbox_retention_hours: float = Field(24.0, gt=0)
    retention_interval_seconds: float = Field(300.0, gt=0)
    # gRPC server reflection lists every method to whoever connects: off unless a debugging session needs it.
    grpc_reflection: bool = False
