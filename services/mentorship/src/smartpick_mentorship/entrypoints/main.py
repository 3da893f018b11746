"""Composition root of the mentorship service. Its RPCs answer UNIMPLEMENTED until the mentorship issue lands."""

import asyncio
from pathlib import Path

from pydantic_settings import SettingsConfigDict
from smartpick.mentorship.v1 import mentorship_pb2, mentorship_pb2_grpc

from smartpick_platform.grpc_server import run_database_grpc_service
from smartpick_platform.settings import GrpcServiceSettings
from smartpick_platform.telemetry import configure_logging

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_MENTORSHIP_")

    grpc_port: int = 50053
    ops_port: int = 8083


def register(server, _pool) -> list[str]:
    mentorship_pb2_grpc.add_MentorshipServiceServicer_to_server(mentorship_pb2_grpc.MentorshipServiceServicer(), server)
    return [mentorship_pb2.DESCRIPTOR.services_by_name["MentorshipService"].full_name]


def main() -> None:
    settings = Settings()
    configure_logging("mentorship", settings.log_level, settings.log_format)
    asyncio.run(run_database_grpc_service(settings, MIGRATIONS, register))
