"""Composition root of the profile service: settings, the database with its outbox and relay, the use cases
and the gRPC API, in one process around one database pool."""

import asyncio
from datetime import timedelta
from pathlib import Path

from pydantic_settings import SettingsConfigDict
from smartpick.profile.v1 import profile_pb2, profile_pb2_grpc

from smartpick_platform import background, db, kafka, outbox, retention, services
from smartpick_platform.caller_context import AccessPolicy
from smartpick_platform.grpc_server import run_grpc_service
from smartpick_platform.settings import GrpcServiceSettings
from smartpick_platform.telemetry import configure_logging
from smartpick_platform.unit_of_work import PostgresUnitOfWork
from smartpick_profile.adapters.repository import ProfileRepository
from smartpick_profile.entrypoints.grpc_api import ProfileServicer
from smartpick_profile.service import ProfileService

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Who calls what, again behind the gateway's own checks: the public try-it page checks a profile without an
# account; operators register schools; a school's admins add students, its admins and advisors list them.
ACCESS = AccessPolicy(
    public=frozenset({"ValidateProfile"}),
    only={
        "CreateSchool": frozenset({"operator"}),
        "CreateStudent": frozenset({"school_admin"}),
        "ListStudents": frozenset({"school_admin", "advisor"}),
    },
)


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_PROFILE_")

    grpc_port: int = services.port("profile", "grpc_port")
    ops_port: int = services.port("profile", "ops_port")


async def serve(settings: Settings) -> None:
    await db.migrate(
        settings.database_url, MIGRATIONS, outbox.MIGRATIONS, migration_database_url=settings.migration_database_url
    )
    pool = await db.create_pool(settings.database_url)
    producer = kafka.create_producer(settings.kafka_bootstrap, "smartpick-profile")
    await producer.start()
    relay = outbox.OutboxRelay(pool, producer)
    purge = outbox.retention(keep=timedelta(hours=settings.outbox_retention_hours))
    tasks = [
        background.start(relay.run(), "outbox-relay"),
        background.start(retention.run_retention(pool, [purge], settings.retention_interval_seconds), "retention"),
    ]
    service = ProfileService(PostgresUnitOfWork(pool), ProfileRepository())

    def register(server) -> list[str]:
        profile_pb2_grpc.add_ProfileServiceServicer_to_server(ProfileServicer(service), server)
        return [profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name]

    async def readiness() -> dict[str, bool]:
        return {"database": await db.is_ready(pool), "outbox_relay": relay.active}

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()
        await pool.close()

    await run_grpc_service(settings, register, readiness, on_stop=stop, access=ACCESS)


def main() -> None:
    settings = Settings()
    configure_logging("profile", settings.log_level, settings.log_format)
    asyncio.run(serve(settings))
