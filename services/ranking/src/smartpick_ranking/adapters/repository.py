"""SQL of the ranking service: catalog, specialty figures, a school's program facts, stored results."""

import dataclasses
import json
import uuid
from collections.abc import Callable, Sequence

import asyncpg

from smartpick_platform.db import tenant_transaction
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.enrichment import FACT_FIELDS, ProgramFacts, with_facts

PROGRAM_COLUMNS = (
    "program_id",
    "name",
    "specialty",
    "city",
    "state",
    "latitude",
    "longitude",
    "positions",
    "program_type",
)
# Program facts the public catalog never has; only a school's enrichment sets them.
SCHOOL_ONLY_FIELDS = ("sponsors_visa", "img_share", "do_share")
EARTH_RADIUS_MILES = 3958.8


@dataclasses.dataclass(frozen=True)
class StoredResult:
    profile_version: int
    model_version: str
    event_id: uuid.UUID
    result: bytes


class RankingRepository:
    def __init__(self, pool: asyncpg.Pool):
        self.pool = pool

    async def import_catalog(
        self,
        programs: Sequence[tuple[Program, str]],
        stats: dict[str, SpecialtyStats],
        progress: Callable[[int], None] = lambda _n: None,
        chunk: int = 500,
    ) -> None:
        """Inserts or refreshes every program (with its source tag) and specialty figure, in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            for start in range(0, len(programs), chunk):
                rows = [
                    (*(getattr(p, c) for c in PROGRAM_COLUMNS), source) for p, source in programs[start : start + chunk]
                ]
                await conn.executemany(
                    f"""INSERT INTO programs ({", ".join(PROGRAM_COLUMNS)}, source)
                        VALUES ({", ".join(f"${i}" for i in range(1, len(PROGRAM_COLUMNS) + 2))})
                        ON CONFLICT (program_id) DO UPDATE SET
                        {", ".join(f"{c} = EXCLUDED.{c}" for c in (*PROGRAM_COLUMNS[1:], "source"))},
                        import_time = now()""",
                    rows,
                )
                progress(len(rows))
            await conn.executemany(
                """INSERT INTO specialty_stats (specialty, stats) VALUES ($1, $2::jsonb)
                   ON CONFLICT (specialty) DO UPDATE SET stats = EXCLUDED.stats, import_time = now()""",
                [(name, json.dumps(dataclasses.asdict(s))) for name, s in stats.items()],
            )

    async def load_catalog(self) -> tuple[list[Program], dict[str, SpecialtyStats]]:
        rows = await self.pool.fetch(f"SELECT {', '.join(PROGRAM_COLUMNS)} FROM programs ORDER BY program_id")
        programs = [program_of(row) for row in rows]
        stats = {
            row["specialty"]: SpecialtyStats(**json.loads(row["stats"]))
            for row in await self.pool.fetch("SELECT specialty, stats FROM specialty_stats")
        }
        return programs, stats

    async def program_ids(self) -> set[str]:
        return {row[0] for row in await self.pool.fetch("SELECT program_id FROM programs")}

    async def facts(self, tenant_id: uuid.UUID) -> dict[str, ProgramFacts]:
        async with tenant_transaction(self.pool, tenant_id) as conn:
            rows = await conn.fetch(f"SELECT program_id, {', '.join(FACT_FIELDS)} FROM program_facts")
        return {row["program_id"]: ProgramFacts(**dict(row)) for row in rows}

    async def replace_facts(self, tenant_id: uuid.UUID, facts: Sequence[ProgramFacts]) -> None:
        async with tenant_transaction(self.pool, tenant_id) as conn:
            await conn.executemany(
                f"""INSERT INTO program_facts (tenant_id, program_id, {", ".join(FACT_FIELDS)})
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    ON CONFLICT (tenant_id, program_id) DO UPDATE SET
                    {", ".join(f"{c} = EXCLUDED.{c}" for c in FACT_FIELDS)}, update_time = now()""",
                [(tenant_id, f.program_id, *(getattr(f, c) for c in FACT_FIELDS)) for f in facts],
            )

    async def store_results(self, results: Sequence[tuple[uuid.UUID, uuid.UUID, StoredResult]]) -> list[bool]:
        """Stores (tenant, student, result) rows, each (student, version) once: one already stored is kept.

        Returns, per row, whether it was new. One statement per school, whose transaction sets the
        tenant for row-level security."""
        inserted = [False] * len(results)
        by_tenant: dict[uuid.UUID, list[int]] = {}
        for index, (tenant_id, _, _) in enumerate(results):
            by_tenant.setdefault(tenant_id, []).append(index)
        for tenant_id, indices in by_tenant.items():
            rows = [(results[i][1], results[i][2]) for i in indices]
            async with tenant_transaction(self.pool, tenant_id) as conn:
                new = await conn.fetch(
                    """INSERT INTO recommendations
                         (tenant_id, student_id, profile_version, model_version, event_id, result)
                       SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::uuid[], $6::bytea[])
                       ON CONFLICT (student_id, profile_version) DO NOTHING
                       RETURNING student_id, profile_version""",
                    tenant_id,
                    [student for student, _ in rows],
                    [stored.profile_version for _, stored in rows],
                    [stored.model_version for _, stored in rows],
                    [stored.event_id for _, stored in rows],
                    [stored.result for _, stored in rows],
                )
            fresh = {(row["student_id"], row["profile_version"]) for row in new}
            for i, (student, stored) in zip(indices, rows, strict=True):
                key = (student, stored.profile_version)
                inserted[i] = key in fresh
                fresh.discard(key)
        return inserted

    async def result(self, tenant_id: uuid.UUID, student_id: uuid.UUID, profile_version: int) -> StoredResult | None:
        """The result for a profile version, or the latest version's when profile_version is 0."""
        async with tenant_transaction(self.pool, tenant_id) as conn:
            row = await conn.fetchrow(
                """SELECT profile_version, model_version, event_id, result FROM recommendations
                   WHERE student_id = $1 AND ($2 = 0 OR profile_version = $2)
                   ORDER BY profile_version DESC LIMIT 1""",
                student_id,
                profile_version,
            )
        return None if row is None else StoredResult(**dict(row))

    async def search_programs(
        self,
        tenant_id: uuid.UUID | None,
        specialty: str,
        state: str,
        name_query: str,
        near: tuple[float, float, float] | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Program], int]:
        """Programs matching every filter given, with the school's own facts laid over the catalog.

        `near` is (latitude, longitude, miles): great-circle distance from that point."""
        distance = f"""{EARTH_RADIUS_MILES} * 2 * asin(sqrt(
                   power(sin(radians(p.latitude - $4) / 2), 2)
                   + cos(radians($4)) * cos(radians(p.latitude)) * power(sin(radians(p.longitude - $5) / 2), 2)))"""
        where = """($1 = '' OR p.specialty = $1) AND ($2 = '' OR p.state = $2)
                   AND ($3 = '' OR p.name ILIKE '%' || $3 || '%')"""
        args: list = [specialty, state, name_query]
        if near is not None:
            where += f" AND p.latitude IS NOT NULL AND {distance} <= $6"
            args += list(near)
        fact_columns = ", ".join(f"f.{c} AS fact_{c}" for c in FACT_FIELDS)
        query = f"""SELECT {", ".join(f"p.{c}" for c in PROGRAM_COLUMNS)}, {fact_columns}, count(*) OVER () AS total
                    FROM programs p LEFT JOIN program_facts f ON f.program_id = p.program_id
                    WHERE {where} ORDER BY p.specialty, p.state, p.name, p.program_id
                    OFFSET ${len(args) + 1} LIMIT ${len(args) + 2}"""
        async with tenant_transaction(self.pool, tenant_id or uuid.UUID(int=0)) as conn:
            rows = await conn.fetch(query, *args, offset, limit)
        total = rows[0]["total"] if rows else 0
        return [with_facts(program_of(row), fact_of(row)) for row in rows], total


def fact_of(row) -> ProgramFacts | None:
    if all(row[f"fact_{c}"] is None for c in FACT_FIELDS):
        return None
    return ProgramFacts(row["program_id"], **{c: row[f"fact_{c}"] for c in FACT_FIELDS})


def program_of(row) -> Program:
    """A catalog row; facts only a school can add start unknown."""
    return Program(**{c: row[c] for c in PROGRAM_COLUMNS}, **dict.fromkeys(SCHOOL_ONLY_FIELDS))
