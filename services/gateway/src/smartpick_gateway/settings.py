"""Gateway settings, from SMARTPICK_GATEWAY_* (and the shared SMARTPICK_* ones)."""

from pathlib import Path

from pydantic import Field, model_validator
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
    # Requests one worker process handles at once; past it, 503 at once with Retry-After (in_flight.py).
    http_max_in_flight: int = Field(200, ge=1)
    # A backstop on open connections per worker process (uvicorn's limit_concurrency, its bare 503 beyond):
    # an idle connection costs about 4.7 KiB and a file descriptor, and uvicorn never times out one that sends
    # nothing, so past this the process refuses rather than run out of either. The ingress bounds them per client.
    http_max_connections: int = Field(4096, ge=2)
    # How long an idle keep-alive connection stays open. Longer than the proxies and clients in front keep
    # theirs (60 s is common), so that the gateway is never the side closing a connection a client is just
    # reusing: at uvicorn's 5 s, which is also httpx's, that race failed a request now and then (ReadError).
    http_keep_alive_seconds: float = Field(75.0, gt=0)
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
    # Every request with a credential, per API key or session (a worst-case what-if costs ~20 ms of CPU,
    # so 50/s from one key would fill a core), and per client address whatever the credential.
    key_rate_limit: str = "20/second;600/minute"
    client_rate_limit: str = "60/second;1800/minute"
    # API keys' lifetime when the issuer names none, and the longest an issuer may give.
    api_key_days: float = Field(90.0, gt=0)
    api_key_max_days: float = Field(365.0, gt=0)
    # How long an Idempotency-Key's answer is replayed; past it the record is purged.
    idempotency_hours: float = Field(24.0, gt=0)
    # The purge of past idempotency records and sessions: how often, and how many rows a round deletes at most.
    retention_interval_seconds: float = Field(300.0, gt=0)
    retention_batch_rows: int = Field(5000, ge=1)
    sign_in_code_hours: float = 72.0
    # How long a used or expired sign-in code stays in the admin's list before the purge takes it.
    sign_in_code_retention_days: float = Field(30.0, gt=0)
    session_hours: float = 12.0
    default_risk_threshold: float = 0.6

    @model_validator(mode="after")
    def _connections_above_requests(self):
        """uvicorn counts the asking connection too: below this its bare 503 would come before the documented one."""
        if self.http_max_connections <= self.http_max_in_flight:
            raise ValueError("http_max_connections must be more than http_max_in_flight")
        return self
