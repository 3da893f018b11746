"""`smartpick-gateway`: serve the API, issue an operator key, or print the OpenAPI."""

import argparse
import asyncio
import json
from datetime import UTC, datetime, timedelta

import uvicorn

from smartpick_gateway.adapters.repository import GatewayRepository
from smartpick_gateway.domain.auth import Role, new_key
from smartpick_gateway.entrypoints.app import create_app
from smartpick_gateway.entrypoints.dependencies import MIGRATIONS
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform import db
from smartpick_platform.telemetry import configure_logging


def serve(settings: GatewaySettings) -> None:
    options = {
        "host": settings.http_host,
        "port": settings.http_port,
        "log_config": None,
        "access_log": False,
        # A backstop on connections; the cap on requests is the app's own (entrypoints/in_flight.py).
        "limit_concurrency": settings.http_max_connections,
        "timeout_keep_alive": settings.http_keep_alive_seconds,
    }
    if settings.http_workers > 1:
        # Worker processes import the app themselves, reading the same environment.
        uvicorn.run(f"{create_app.__module__}:create_app", factory=True, workers=settings.http_workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)


async def issue_operator_key(settings: GatewaySettings, label: str, days: float | None) -> str:
    """Operator keys are issued on the server's side only: whoever runs this has the database anyway. They
    expire like every key (the default lifetime, or `days`, at most the longest)."""
    days = settings.api_key_days if days is None else days
    if not 0 < days <= settings.api_key_max_days:
        raise SystemExit(f"--days must be more than 0 and at most {settings.api_key_max_days:g}")
    await db.migrate(settings.database_url, MIGRATIONS, migration_database_url=settings.migration_database_url)
    pool = await db.create_pool(settings.database_url)
    try:
        key = new_key()
        expiry = datetime.now(UTC) + timedelta(days=days)
        await GatewayRepository(pool).save_key(key, Role.OPERATOR, None, None, label, expiry)
        return key.token
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="smartpick-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API")
    issue = commands.add_parser("issue-operator-key", help="print a new platform operator API key")
    issue.add_argument("--label", default="operator")
    issue.add_argument("--days", type=float, help="the key's lifetime (default: SMARTPICK_GATEWAY_API_KEY_DAYS)")
    commands.add_parser("openapi", help="print the OpenAPI document (the web app's typed client is built from it)")
    args = parser.parse_args()
    if args.command == "openapi":
        # Building the app connects to nothing; the database URL is only read at start-up.
        app = create_app(GatewaySettings(database_url="postgresql://unused", log_level="WARNING"))
        print(json.dumps(app.openapi(), indent=1))
        return
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_format)
    if args.command == "serve":
        serve(settings)
    else:
        print(asyncio.run(issue_operator_key(settings, args.label, args.days)))
