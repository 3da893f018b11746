"""Gateway settings, from SMARTPICK_GATEWAY_* (and the shared SMARTPICK_* ones)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from smartpick_platform import services
from smartpick_platform.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_GATEWAY_")

    database_url: str
    http_host: str = "127.0.0.1"
    http_port: int = services.port("gateway", "http_port")
    # HTTP worker processes, each running the whole API.
    http_workers: int = 1
    profile_grpc_target: str = services.grpc_target("profile")
    ranking_grpc_target: str = services.grpc_target("ranking")
    mentorship_grpc_target: str = services.grpc_target("mentorship")
    grpc_timeout_seconds: float = 5.0
    # The largest request body (413 beyond): a full profile is about 2 KiB, a mentor's registration less.
    max_body_bytes: int = Field(64 * 1024, ge=1024)
