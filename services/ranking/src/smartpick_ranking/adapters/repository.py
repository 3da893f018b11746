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
)
# Every other Program field is a public fact laid over the catalog row, kept together as JSON.
PUBLIC_FACT_FIELDS = tuple(f.name for f in dataclasses.fields(Program) if f.init and f.name not in PROGRAM_COLUMNS)
EARTH_RADIUS_MILES = 3958.8


@dataclasses.dataclass(frozen=True)
class StoredResult:
    profile_version: int
    model_version: str
    event_id: uuid.UUID
    result: bytes
    facts_revision: int = 0
    profile: bytes | None = None  # the ApplicantProfile scored, kept so that new facts can re-score it


@dataclasses.dataclass(frozen=True)
class RescoreJob:
    tenant_id: uuid.UUID
    student_id: uuid.UUID
    profile_version: int
    facts_revision: int


RESCORE_LEASE_SECONDS = 120


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
                    (*(getattr(p, c) for c in PROGRAM_COLUMNS), source, _public_facts_json(p))
                    for p, source in programs[start : start + chunk]
                ]
                await conn.executemany(
                    f"""INSERT INTO programs ({", ".join(PROGRAM_COLUMNS)}, source, public_facts)
                        VALUES ({", ".join(f"${i}" for i in range(1, len(PROGRAM_COLUMNS) + 2))},
                                ${len(PROGRAM_COLUMNS) + 2}::jsonb)
                        ON CONFLICT (program_id) DO UPDATE SET
                        {", ".join(f"{c} = EXCLUDED.{c}" for c in (*PROGRAM_COLUMNS[1:], "source", "public_facts"))},
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
        rows = await self.pool.fetch(
            f"SELECT {', '.join(PROGRAM_COLUMNS)}, public_facts FROM programs ORDER BY program_id"
        )
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

    async def replace_facts(self, tenant_id: uuid.UUID, facts: Sequence[ProgramFacts]) -> int:
        """Stores the facts, bumps the school's facts revision and queues its students' latest results for
        re-scoring, all in one transaction; returns how many results were queued."""
        async with tenant_transaction(self.pool, tenant_id) as conn:
            revision = await conn.fetchval(
                """INSERT INTO facts_revisions (tenant_id, revision) VALUES ($1, 1)
                   ON CONFLICT (tenant_id) DO UPDATE SET revision = facts_revisions.revision + 1, update_time = now()
                   RETURNING revision""",
                tenant_id,
            )
            await conn.executemany(
                f"""INSERT INTO program_facts (tenant_id, program_id, {", ".join(FACT_FIELDS)})
                    VALUES ($1, $2, {", ".join(f"${i}" for i in range(3, len(FACT_FIELDS) + 3))})
                    ON CONFLICT (tenant_id, program_id) DO UPDATE SET
                    {", ".join(f"{c} = EXCLUDED.{c}" for c in FACT_FIELDS)}, update_time = now()""",
                [(tenant_id, f.program_id, *(getattr(f, c) for c in FACT_FIELDS)) for f in facts],
            )
            queued = await conn.fetch(
                """INSERT INTO rescore_queue (tenant_id, student_id, profile_version, facts_revision)
                   SELECT DISTINCT ON (student_id) tenant_id, student_id, profile_version, $1
                   FROM recommendations WHERE profile IS NOT NULL ORDER BY student_id, profile_version DESC
                   ON CONFLICT (student_id, profile_version) DO UPDATE
                   SET facts_revision = EXCLUDED.facts_revision, enqueue_time = now(), lease_until = NULL
                   RETURNING student_id""",
                revision,
            )
        return len(queued)

    async def facts_revisions(self, tenant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """Each school's facts revision (0: the school never sent facts)."""
        rows = await self.pool.fetch(
            "SELECT tenant_id, revision FROM facts_revisions WHERE tenant_id = ANY($1::uuid[])", list(tenant_ids)
        )
        found = {row["tenant_id"]: row["revision"] for row in rows}
        return {tenant: found.get(tenant, 0) for tenant in tenant_ids}

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
                # FOR SHARE waits for a facts change in flight: a result scored with older facts than the
                # ones stored by then is queued for re-scoring below, in this same transaction.
                current = await conn.fetchval(
                    "SELECT revision FROM facts_revisions WHERE tenant_id = $1 FOR SHARE", tenant_id
                )
                new = await conn.fetch(
                    """INSERT INTO recommendations (tenant_id, student_id, profile_version, model_version, event_id,
                                                    result, facts_revision, profile)
                       SELECT $1, * FROM unnest($2::uuid[], $3::bigint[], $4::text[], $5::uuid[], $6::bytea[],
                                                $7::bigint[], $8::bytea[])
                       ON CONFLICT (student_id, profile_version) DO NOTHING
                       RETURNING student_id, profile_version, facts_revision""",
                    tenant_id,
                    [student for student, _ in rows],
                    [stored.profile_version for _, stored in rows],
                    [stored.model_version for _, stored in rows],
                    [stored.event_id for _, stored in rows],
                    [stored.result for _, stored in rows],
                    [stored.facts_revision for _, stored in rows],
                    [stored.profile for _, stored in rows],
                )
                stale = [row for row in new if current and row["facts_revision"] < current]
                if stale:
                    await conn.executemany(
                        """INSERT INTO rescore_queue (tenant_id, student_id, profile_version, facts_revision)
                           VALUES ($1, $2, $3, $4) ON CONFLICT (student_id, profile_version) DO NOTHING""",
                        [(tenant_id, row["student_id"], row["profile_version"], current) for row in stale],
                    )
            fresh = {(row["student_id"], row["profile_version"]) for row in new}
            for i, (student, stored) in zip(indices, rows, strict=True):
                key = (student, stored.profile_version)
                inserted[i] = key in fresh
                fresh.discard(key)
        return inserted

    async def claim_rescore_jobs(self, limit: int) -> list[RescoreJob]:
        """Up to `limit` queued re-scorings no other worker holds, leased to this one for a while (a worker
        that dies lets its lease run out, and another takes the job)."""
        rows = await self.pool.fetch(
            f"""UPDATE rescore_queue SET lease_until = now() + interval '{RESCORE_LEASE_SECONDS} seconds'
                WHERE (student_id, profile_version) IN (
                    SELECT student_id, profile_version FROM rescore_queue
                    WHERE lease_until IS NULL OR lease_until < now()
                    ORDER BY enqueue_time LIMIT $1 FOR UPDATE SKIP LOCKED)
                RETURNING tenant_id, student_id, profile_version, facts_revision""",
            limit,
        )
        return [RescoreJob(**dict(row)) for row in rows]

    async def replace_result(self, tenant_id: uuid.UUID, student_id: uuid.UUID, stored: StoredResult) -> bool:
        """Replaces a result scored with older facts, and ends its job; False when a newer one is stored."""
        async with tenant_transaction(self.pool, tenant_id) as conn:
            status = await conn.execute(
                """UPDATE recommendations SET model_version = $3, event_id = $4, result = $5, facts_revision = $6
                   WHERE student_id = $1 AND profile_version = $2 AND facts_revision < $6""",
                student_id,
                stored.profile_version,
                stored.model_version,
                stored.event_id,
                stored.result,
                stored.facts_revision,
            )
        return status.endswith(" 1")

    async def finish_rescore_job(self, job: RescoreJob) -> None:
        """Ends a job once its result is stored and published (a newer revision's job stays queued)."""
        await self.pool.execute(
            "DELETE FROM rescore_queue WHERE student_id = $1 AND profile_version = $2 AND facts_revision <= $3",
            job.student_id,
            job.profile_version,
            job.facts_revision,
        )

    async def result(self, tenant_id: uuid.UUID, student_id: uuid.UUID, profile_version: int) -> StoredResult | None:
        """The result for a profile version, or the latest version's when profile_version is 0."""
        async with tenant_transaction(self.pool, tenant_id) as conn:
            row = await conn.fetchrow(
                """SELECT profile_version, model_version, event_id, result, facts_revision, profile
                   FROM recommendations
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
        query = f"""SELECT {", ".join(f"p.{c}" for c in PROGRAM_COLUMNS)}, p.public_facts, {fact_columns},
                           count(*) OVER () AS total
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


def _public_facts_json(program: Program) -> str:
    return json.dumps({f: getattr(program, f) for f in PUBLIC_FACT_FIELDS if getattr(program, f) not in (None, ())})


def program_of(row) -> Program:
    """A catalog row with its public facts."""
    facts = json.loads(row["public_facts"])
    facts["provenance"] = tuple(tuple(pair) for pair in facts.get("provenance", ()))
    return Program(**{c: row[c] for c in PROGRAM_COLUMNS}, **facts)
