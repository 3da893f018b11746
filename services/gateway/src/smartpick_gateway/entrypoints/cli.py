"""`smartpick-gateway`: serve the API, issue an operator key, or print the OpenAPI."""

import argparse
import asyncio
import json

import uvicorn

from smartpick_gateway.adapters.repository import GatewayRepository
from smartpick_gateway.domain.auth import Role, new_key
from smartpick_gateway.entrypoints.app import create_app
from smartpick_gateway.entrypoints.dependencies import MIGRATIONS
from smartpick_gateway.settings import GatewaySettings
from smartpick_platform import db
from smartpick_platform.telemetry import configure_logging


def serve(settings: GatewaySettings) -> None:
    options = {"host": settings.http_host, "port": settings.http_port, "log_config": None, "access_log": False}
    if settings.http_workers > 1:
        # Worker processes import the app themselves, reading the same environment.
        uvicorn.run(f"{create_app.__module__}:create_app", factory=True, workers=settings.http_workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)


async def issue_operator_key(settings: GatewaySettings, label: str) -> str:
    """Operator keys are issued on the server's side only: whoever runs this has the database anyway."""
    await db.migrate(settings.database_url, MIGRATIONS, migration_database_url=settings.migration_database_url)
    pool = await db.create_pool(settings.database_url)
    try:
        key = new_key()
        await GatewayRepository(pool).save_key(key, Role.OPERATOR, None, None, label)
        return key.token
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="smartpick-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API")
    issue = commands.add_parser("issue-operator-key", help="print a new platform operator API key")
    issue.add_argument("--label", default="operator")
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
        print(asyncio.run(issue_operator_key(settings, args.label)))
