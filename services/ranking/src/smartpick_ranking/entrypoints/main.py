"""Composition root of the ranking service. Its RPCs answer UNIMPLEMENTED until the ranking issue lands."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from smartpick.ranking.v1 import ranking_pb2, ranking_pb2_grpc

from smartpick_platform.grpc_server import serve_forever
from smartpick_platform.settings import GrpcServiceSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_RANKING_")

    grpc_port: int = 50052
    ops_port: int = 8082


def register(server, _pool) -> list[str]:
    ranking_pb2_grpc.add_RankingServiceServicer_to_server(ranking_pb2_grpc.RankingServiceServicer(), server)
    return [ranking_pb2.DESCRIPTOR.services_by_name["RankingService"].full_name]


def main() -> None:
    serve_forever("ranking", Settings(), MIGRATIONS, register)
