"""The specialty names the ranking service knows, fetched once and kept for a while: profile saves are
checked against them without a call each."""

import time

from smartpick.ranking.v1 import ranking_pb2

from smartpick_gateway.adapters.grpc_client import ServiceClient
from smartpick_platform.names import unknown_name_message

NAMES_TTL_SECONDS = 300.0


class SpecialtyNames:
    def __init__(self, ranking: ServiceClient, ttl_seconds: float = NAMES_TTL_SECONDS):
        self._ranking = ranking
        self._ttl = ttl_seconds
        self._names: frozenset[str] = frozenset()
        self._expires = 0.0

    async def unknown(self, names: list[str], field: str) -> dict[str, str]:
        """Each name the catalog lacks, by its field path, with the closest names it has."""
        if time.monotonic() >= self._expires:
            reply = await self._ranking.call("ListSpecialties", ranking_pb2.ListSpecialtiesRequest())
            self._names = frozenset(s.name for s in reply.specialties)
            self._expires = time.monotonic() + self._ttl
        return {
            f"{field}[{i}]": unknown_name_message("specialty", name, self._names)
            for i, name in enumerate(names)
            if name not in self._names
        }
