"""The names the ranking service's catalog knows (specialties, home cities), fetched once and kept for a
while: profile saves are checked against them without a call each."""

import time

from smartpick.ranking.v1 import ranking_pb2

from smartpick_gateway.adapters.grpc_client import ServiceClient
from smartpick_platform.names import unknown_city_message, unknown_name_message

NAMES_TTL_SECONDS = 300.0


class _CatalogNames:
    """Names from one listing call of the ranking service, fetched again after the TTL."""

    def __init__(self, ranking: ServiceClient, ttl_seconds: float = NAMES_TTL_SECONDS):
        self._ranking = ranking
        self._ttl = ttl_seconds
        self._names: frozenset[str] = frozenset()
        self._expires = 0.0

    async def _fetch(self) -> list[str]:
        """The names, by one listing call."""
        raise NotImplementedError

    async def names(self) -> frozenset[str]:
        if time.monotonic() >= self._expires:
            self._names = frozenset(await self._fetch())
            self._expires = time.monotonic() + self._ttl
        return self._names


class SpecialtyNames(_CatalogNames):
    async def _fetch(self) -> list[str]:
        reply = await self._ranking.rpc.ListSpecialties(ranking_pb2.ListSpecialtiesRequest())
        return [s.name for s in reply.specialties]

    async def unknown(self, names: list[str], field: str) -> dict[str, str]:
        """Each name the catalog lacks, by its field path, with the closest names it has."""
        known = await self.names()
        return {
            f"{field}[{i}]": unknown_name_message("specialty", name, known)
            for i, name in enumerate(names)
            if name not in known
        }


def _folded(name: str) -> str:
    """A city name without its case and extra spaces: "boston ,ma" and "Boston, MA" are one city."""
    city, _, state = name.rpartition(",")
    return f"{' '.join(city.split()).lower()},{state.strip().lower()}"


class CityNames(_CatalogNames):
    """The catalog's cities ("Boston, MA"), the names a profile's home city accepts."""

    async def _fetch(self) -> list[str]:
        reply = await self._ranking.rpc.ListCities(ranking_pb2.ListCitiesRequest())
        return [c.name for c in reply.cities]

    async def known(self, name: str) -> str | None:
        """The catalog's spelling of the city, whatever its case and spacing; None when it has no such city."""
        found = {_folded(n): n for n in await self.names()}
        return found.get(_folded(name))

    async def unknown_message(self, name: str) -> str:
        return unknown_city_message(name, await self.names())
