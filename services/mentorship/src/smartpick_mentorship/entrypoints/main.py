"""Composition root of the mentorship service. Its RPCs answer UNIMPLEMENTED until the mentorship issue lands."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict
from smartpick.mentorship.v1 import mentorship_pb2, mentorship_pb2_grpc

from smartpick_platform.grpc_server import serve_forever
from smartpick_platform.settings import GrpcServiceSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class Settings(GrpcServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTPICK_MENTORSHIP_")

    grpc_port: int = 50053
    ops_port: int = 8083


def register(server, _pool) -> list[str]:
    mentorship_pb2_grpc.add_MentorshipServiceServicer_to_server(mentorship_pb2_grpc.MentorshipServiceServicer(), server)
    return [mentorship_pb2.DESCRIPTOR.services_by_name["MentorshipService"].full_name]


def main() -> None:
    serve_forever("mentorship", Settings(), MIGRATIONS, register)
