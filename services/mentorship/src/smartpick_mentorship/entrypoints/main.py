"""Composition root of the mentorship service: the gRPC API, the outbox relay of MentorshipMatched events,
and the consumer of the students' events, in one process around one database pool."""

import asyncio
from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from smartpick.mentorship.v1 import mentorship_pb2, mentorship_pb2_grpc

from smartpick_mentorship.adapters.mentor_pools import MentorPools
from smartpick_mentorship.adapters.repository import MentorshipRepository
from smartpick_mentorship.entrypoints.consumer import GROUP_ID, EventConsumer
from smartpick_mentorship.entrypoints.grpc_api import MentorshipServicer
from smartpick_mentorship.service.matching import Matching
from smartpick_mentorship.service.registry import Registry
from smartpick_platform import background, db, kafka, outbox, retention, services
from smartpick_platform.caller_context import AccessPolicy
from smartpick_platform.grpc_server import run_grpc_service
from smartpick_platform.settings import GrpcServiceSettings
from smartpick_platform.telemetry import configure_logging
from smartpick_platform.unit_of_work import PostgresUnitOfWork

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Who calls what, again behind the gateway's own checks: a school's admins run its rounds and set its policy;
# operators register platform-wide mentors; only the mentor reads their inbox and answers proposals.
ADMINS = frozenset({"school_admin"})
ACCESS = AccessPolicy(
    only={
        "RunRound": ADMINS,
        "PublishRound": ADMINS,
        "UpdateMatchingPolicy": ADMINS,
        "RegisterMentor": frozenset({"school_admin", "operator"}),
        "ListMentorInbox": frozenset({"mentor"}),
        "RespondToProposal": frozenset({"mentor"}),
    }
)


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_MENTORSHIP_")

    grpc_port: int = services.port("mentorship", "grpc_port")
    ops_port: int = services.port("mentorship", "ops_port")
    # Mentorship signals are not latency-critical: letting events gather makes fewer, larger batches (fewer
    # fetches, transactions and commits) instead of one round of each per event.
    event_gather_ms: int = Field(250, ge=0, le=5000, description="longest wait for events to gather into a batch")


async def serve(settings: Settings) -> None:
    await db.migrate(
        settings.database_url, MIGRATIONS, outbox.MIGRATIONS, migration_database_url=settings.migration_database_url
    )
    pool = await db.create_pool(settings.database_url)
    repository, uow = MentorshipRepository(), PostgresUnitOfWork(pool)
    producer = kafka.create_producer(settings.kafka_bootstrap, "smartpick-mentorship")
    consumer = kafka.create_consumer(
        settings.kafka_bootstrap,
        GROUP_ID,
        "smartpick-mentorship",
        fetch_max_wait_ms=settings.event_gather_ms,
        fetch_min_bytes=1024 * 1024,
    )
    await producer.start()
    await consumer.start()
    relay = outbox.OutboxRelay(pool, producer)
    events = EventConsumer(uow, consumer, producer)
    purge = outbox.retention(keep=timedelta(hours=settings.outbox_retention_hours))
    tasks = [
        background.start(relay.run(), "outbox-relay"),
        background.start(events.run(), "events"),
        background.start(retention.run_retention(pool, [purge], settings.retention_interval_seconds), "retention"),
    ]

    pools = MentorPools(repository)

    def register(server) -> list[str]:
        mentorship_pb2_grpc.add_MentorshipServiceServicer_to_server(
            MentorshipServicer(Registry(uow, repository, pools), Matching(uow, repository, pools)), server
        )
        return [mentorship_pb2.DESCRIPTOR.services_by_name["MentorshipService"].full_name]

    async def readiness() -> dict[str, bool]:
        return {
            "database": await db.is_ready(pool),
            "outbox_relay": relay.active,
            "consumer": events.running,
        }

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
        await pool.close()

    await run_grpc_service(settings, register, readiness, on_stop=stop, access=ACCESS)


def main() -> None:
    settings = Settings()
    configure_logging("mentorship", settings.log_level, settings.log_format)
    asyncio.run(serve(settings))
