"""Gateway settings, from SMARTPICK_GATEWAY_* (and the shared SMARTPICK_* ones)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from smartpick_platform import services
from smartpick_platform.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_GATEWAY_")

    database_url: str  # as the runtime role
    migration_database_url: str | None = None  # as the migration role, which owns the tables (`apply` only)
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
    # The web app's built files (web/dist); the repository's own when unset.
    web_dir: Path = Path(__file__).resolve().parents[4] / "web" / "dist"
    # Public try-it scoring, per client address (the `limits` library's notation).
    try_it_rate_limit: str = "20/minute"
    # Sign-in attempts per client address (a code has 120 random bits; this keeps guessing pointless and cheap).
    sign_in_rate_limit: str = "30/minute"
    sign_in_code_hours: float = 72.0
    session_hours: float = 12.0
    default_risk_threshold: float = 0.6
