"""Composition root of the profile service: settings, then the shared database-backed gRPC bootstrap."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from smartpick.profile.v1 import profile_pb2, profile_pb2_grpc

from smartpick_platform import services
from smartpick_platform.grpc_server import serve_forever
from smartpick_platform.settings import GrpcServiceSettings
from smartpick_profile.adapters.repository import ProfileRepository
from smartpick_profile.entrypoints.grpc_api import ProfileServicer

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_PROFILE_")

    grpc_port: int = services.port("profile", "grpc_port")
    ops_port: int = services.port("profile", "ops_port")


def register(server, pool) -> list[str]:
    profile_pb2_grpc.add_ProfileServiceServicer_to_server(ProfileServicer(ProfileRepository(pool)), server)
    return [profile_pb2.DESCRIPTOR.services_by_name["ProfileService"].full_name]


def main() -> None:
    serve_forever("profile", Settings(), MIGRATIONS, register)
