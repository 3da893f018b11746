"""Gateway settings, from SMARTPICK_GATEWAY_* (and the shared SMARTPICK_* ones)."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from smartpick_platform.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_GATEWAY_")

    database_url: str
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    # HTTP worker processes; each runs the API, and one of them at a time relays the outbox.
    http_workers: int = 1
    profile_grpc_target: str = "127.0.0.1:50051"
    ranking_grpc_target: str = "127.0.0.1:50052"
    mentorship_grpc_target: str = "127.0.0.1:50053"
    grpc_timeout_seconds: float = 5.0
    relay_enabled: bool = True
    # The web app's built files (web/dist); the repository's own when unset.
    web_dir: Path = Path(__file__).resolve().parents[4] / "web" / "dist"
    # Public try-it scoring, per client address (the `limits` library's notation).
    try_it_rate_limit: str = "20/minute"
    # Sign-in attempts per client address (a code has 120 random bits; this keeps guessing pointless and cheap).
    sign_in_rate_limit: str = "30/minute"
    sign_in_code_hours: float = 72.0
    session_hours: float = 12.0
    default_risk_threshold: float = 0.6
