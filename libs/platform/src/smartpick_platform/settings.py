"""Settings read from the environment, shared by every service."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """Fields every service has. A service subclasses it with its own env_prefix (SMARTPICK_<SERVICE>_)
    for its own fields; the shared ones keep one name across services."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka_bootstrap: str = Field("127.0.0.1:19092", validation_alias="SMARTPICK_KAFKA_BOOTSTRAP")
    log_level: str = Field("INFO", validation_alias="SMARTPICK_LOG_LEVEL")
    log_format: str = Field("json", validation_alias="SMARTPICK_LOG_FORMAT", pattern="^(json|console)$")


class GrpcServiceSettings(PlatformSettings):
    """A gRPC service: its database, its gRPC port and its ops HTTP port (/healthz, /readyz, /metrics)."""

    database_url: str
    grpc_host: str = "127.0.0.1"
    grpc_port: int
    ops_port: int
    shutdown_grace_seconds: float = 5.0
