"""Composition root of the ranking service. Its RPCs answer UNIMPLEMENTED until the ranking issue lands."""

import asyncio
from pathlib import Path

from pydantic_settings import SettingsConfigDict
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc

from smartpick_platform.grpc_server import run_database_grpc_service
from smartpick_platform.settings import GrpcServiceSettings
from smartpick_platform.telemetry import configure_logging

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_RANKING_")

    grpc_port: int = 50052
    ops_port: int = 8082


def register(server, _pool) -> list[str]:
    ranking_pb2_grpc.add_RankingServiceServicer_to_server(ranking_pb2_grpc.RankingServiceServicer(), server)
    return [ranking_pb2.DESCRIPTOR.services_by_name["RankingService"].full_name]


def main() -> None:
    settings = Settings()
    configure_logging("ranking", settings.log_level, settings.log_format)
    asyncio.run(run_database_grpc_service(settings, MIGRATIONS, register))
