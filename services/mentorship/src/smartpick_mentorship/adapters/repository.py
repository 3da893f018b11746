"""SQL of the mentorship database (asyncpg), run on the connection of the caller's unit of work, which names
the school it acts for, the mentor, or both, and row-level security holds it to them (`service.acting`)."""

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import asyncpg

from smartpick_mentorship.domain.model import CRITERIA, Criterion, Goal, Mentee, Mentor, Policy, Reason, Signals
from smartpick_mentorship.domain.workflow import CLOSED_WITH_MENTOR, HOLDS_SLOT, MatchStatus

MENTOR_FIELDS = (
    "display_name",
    "specialty",
    "subspecialties",
    "institution",
    "state",
    "research_interests",
    "languages",
    "goals",
    "capacity",
    "availability_hours_per_month",
    "accepting_new_mentees",
    "accepts_other_schools",
)


def mentor_from_row(row: asyncpg.Record) -> Mentor:
    return Mentor(
        mentor_id=str(row["mentor_id"]),
        tenant_id=None if row["tenant_id"] is None else str(row["tenant_id"]),
        display_name=row["display_name"],
        specialty=row["specialty"],
        subspecialties=tuple(row["subspecialties"]),
        institution=row["institution"],
        state=row["state"],
        research_interests=tuple(row["research_interests"]),
        languages=tuple(row["languages"]),
        goals=tuple(Goal(g) for g in row["goals"]),
        capacity=row["capacity"],
        availability_hours_per_month=row["availability_hours_per_month"],
        accepting_new_mentees=row["accepting_new_mentees"],
        accepts_other_schools=row["accepts_other_schools"],
    )


def reasons_to_json(reasons: Iterable[Reason]) -> str:
    return json.dumps([{"criterion": r.criterion, "contribution": r.contribution, "text": r.text} for r in reasons])


def reasons_from_json(raw: str) -> tuple[Reason, ...]:
    return tuple(Reason(Criterion(r["criterion"]), r["contribution"], r["text"]) for r in json.loads(raw))


@dataclass(frozen=True)
class StoredRequest:
    request: dict  # MenteeRequest as JSON (proto field names)
    signals: Signals
    profile_version: int
    recommendations_version: int


def mentee_from_request(tenant_id: str, student_id: str, request: dict) -> Mentee:
    """The student's own words as a domain Mentee (their events are merged in by `merge_signals`)."""
    return Mentee(
        student_id=student_id,
        tenant_id=tenant_id,
        specialties=tuple(request.get("preferred_specialties", ())),
        subspecialties=tuple(request.get("subspecialties", ())),
        research_interests=tuple(request.get("research_interests", ())),
        states=tuple(request.get("preferred_states", ())),
        institution_targets=tuple(request.get("preferred_institutions", ())),
        languages=tuple(request.get("languages", ())),
        goals=tuple(Goal(g) for g in request.get("goals", ())),
        hours_per_month=float(request.get("hours_per_month", 2.0)),
    )


class MentorshipRepository:
    """The SQL of every table, on the connection of the caller's unit of work (`service.acting`)."""

    # Mentors

    @staticmethod
    async def insert_mentor(conn: asyncpg.Connection, tenant_id: str | None, fields: dict) -> asyncpg.Record:
        mentor_id = uuid.uuid4()
        row = await conn.fetchrow(
            f"""INSERT INTO mentors (mentor_id, tenant_id, {", ".join(MENTOR_FIELDS)})
                VALUES ($1, $2, {", ".join(f"${k + 3}" for k in range(len(MENTOR_FIELDS)))}) RETURNING *""",
            mentor_id,
            uuid.UUID(tenant_id) if tenant_id else None,
            *(fields[f] for f in MENTOR_FIELDS),
        )
        await conn.execute("INSERT INTO mentor_load (mentor_id) VALUES ($1)", mentor_id)
        return row

    @staticmethod
    async def update_mentor(conn: asyncpg.Connection, mentor_id: uuid.UUID, fields: dict) -> asyncpg.Record | None:
        assignments = ", ".join(f"{f} = ${k + 2}" for k, f in enumerate(MENTOR_FIELDS))
        return await conn.fetchrow(
            f"UPDATE mentors SET {assignments}, update_time = now() WHERE mentor_id = $1 RETURNING *",
            mentor_id,
            *(fields[f] for f in MENTOR_FIELDS),
        )

    @staticmethod
    async def get_mentor(conn: asyncpg.Connection, mentor_id: uuid.UUID) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT m.*, l.held FROM mentors m JOIN mentor_load l USING (mentor_id) WHERE m.mentor_id = $1", mentor_id
        )

    @staticmethod
    async def list_mentors(
        conn: asyncpg.Connection, specialty: str, after: uuid.UUID | None, limit: int
    ) -> list[asyncpg.Record]:
        return await conn.fetch(
            """SELECT m.*, l.held FROM mentors m JOIN mentor_load l USING (mentor_id)
               WHERE ($1 = '' OR lower(m.specialty) = lower($1)) AND ($2::uuid IS NULL OR m.mentor_id > $2)
               ORDER BY m.mentor_id LIMIT $3""",
            specialty,
            after,
            limit,
        )

    @staticmethod
    async def visible_mentor_rows(conn: asyncpg.Connection) -> list[asyncpg.Record]:
        """Every mentor the acting school may match with, with the slots each holds, in a stable order."""
        return await conn.fetch(
            "SELECT m.*, l.held FROM mentors m JOIN mentor_load l USING (mentor_id) ORDER BY m.create_time, m.mentor_id"
        )

    @staticmethod
    async def registry_fingerprint(conn: asyncpg.Connection) -> tuple:
        """Changes whenever a mentor visible to the acting school is added or changed (mentors are never
        deleted), so an encoded pool of them can be reused until then."""
        row = await conn.fetchrow("SELECT count(*) AS mentors, max(update_time) AS changed FROM mentors")
        return row["mentors"], row["changed"]

    @staticmethod
    async def held(conn: asyncpg.Connection) -> dict[str, int]:
        """Slots in use per mentor, across every school."""
        return {str(r["mentor_id"]): r["held"] for r in await conn.fetch("SELECT mentor_id, held FROM mentor_load")}

    @staticmethod
    async def change_load(conn: asyncpg.Connection, deltas: Mapping[str, int]) -> None:
        changes = [(uuid.UUID(m), d) for m, d in deltas.items() if d]
        if changes:
            await conn.executemany("UPDATE mentor_load SET held = held + $2 WHERE mentor_id = $1", changes)

    # Requests and what the student's events said

    @staticmethod
    async def upsert_request(conn: asyncpg.Connection, tenant_id: str, student_id: str, request: dict) -> None:
        await conn.execute(
            """INSERT INTO mentee_requests (tenant_id, student_id, request) VALUES ($1, $2, $3::jsonb)
               ON CONFLICT (student_id) DO UPDATE SET request = EXCLUDED.request, update_time = now()""",
            uuid.UUID(tenant_id),
            uuid.UUID(student_id),
            json.dumps(request),
        )

    @staticmethod
    async def requests(conn: asyncpg.Connection, student_id: str | None = None) -> dict[str, StoredRequest]:
        """The acting school's requests (or one student's), each with its student's signals."""
        query = """SELECT r.student_id, r.request, s.profile_version, s.profile_specialties, s.profile_states,
                          s.recommendations_version, s.recommended_specialties, s.recommended_states,
                          s.recommended_programs
                   FROM mentee_requests r LEFT JOIN student_signals s USING (student_id)"""
        if student_id:
            rows = await conn.fetch(f"{query} WHERE r.student_id = $1", uuid.UUID(student_id))
        else:
            rows = await conn.fetch(f"{query} ORDER BY r.create_time, r.student_id")
        return {
            str(r["student_id"]): StoredRequest(
                request=json.loads(r["request"]),
                signals=Signals(
                    profile_specialties=tuple(r["profile_specialties"] or ()),
                    profile_states=tuple(r["profile_states"] or ()),
                    recommended_specialties=tuple(r["recommended_specialties"] or ()),
                    recommended_states=tuple(r["recommended_states"] or ()),
                    recommended_programs=tuple(r["recommended_programs"] or ()),
                ),
                profile_version=r["profile_version"] or 0,
                recommendations_version=r["recommendations_version"] or 0,
            )
            for r in rows
        }

    @staticmethod
    async def closed_pairs(conn: asyncpg.Connection, student_id: str | None = None) -> dict[str, frozenset[str]]:
        """Mentors each student must not be offered again: they declined, or their match ended."""
        query = (
            "SELECT student_id, array_agg(DISTINCT mentor_id) AS mentors FROM matches WHERE status = ANY($1::text[])"
        )
        if student_id:
            rows = await conn.fetch(
                f"{query} AND student_id = $2 GROUP BY student_id", list(CLOSED_WITH_MENTOR), uuid.UUID(student_id)
            )
        else:
            rows = await conn.fetch(f"{query} GROUP BY student_id", list(CLOSED_WITH_MENTOR))
        return {str(r["student_id"]): frozenset(str(m) for m in r["mentors"]) for r in rows}

    @staticmethod
    async def apply_profile(
        conn: asyncpg.Connection, tenant_id: str, student_id: str, version: int, specialties, states
    ) -> bool:
        """Stores what a ProfileUpdated says unless a same or newer version was applied; True if stored."""
        status = await conn.execute(
            """INSERT INTO student_signals (tenant_id, student_id, profile_version, profile_specialties, profile_states)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (student_id) DO UPDATE SET profile_version = EXCLUDED.profile_version,
                   profile_specialties = EXCLUDED.profile_specialties, profile_states = EXCLUDED.profile_states,
                   update_time = now()
               WHERE student_signals.profile_version < EXCLUDED.profile_version""",
            uuid.UUID(tenant_id),
            uuid.UUID(student_id),
            version,
            list(specialties),
            list(states),
        )
        return status.endswith(" 1")

    @staticmethod
    async def apply_recommendations(
        conn: asyncpg.Connection, tenant_id: str, student_id: str, version: int, specialties, states, programs
    ) -> bool:
        """Stores what a RecommendationsGenerated says unless a same or newer version was applied."""
        status = await conn.execute(
            """INSERT INTO student_signals (tenant_id, student_id, recommendations_version,
                   recommended_specialties, recommended_states, recommended_programs)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (student_id) DO UPDATE SET recommendations_version = EXCLUDED.recommendations_version,
                   recommended_specialties = EXCLUDED.recommended_specialties,
                   recommended_states = EXCLUDED.recommended_states,
                   recommended_programs = EXCLUDED.recommended_programs, update_time = now()
               WHERE student_signals.recommendations_version < EXCLUDED.recommendations_version""",
            uuid.UUID(tenant_id),
            uuid.UUID(student_id),
            version,
            list(specialties),
            list(states),
            list(programs),
        )
        return status.endswith(" 1")

    # Policies

    @staticmethod
    async def policy(conn: asyncpg.Connection) -> Policy:
        row = await conn.fetchrow("SELECT * FROM matching_policies")
        if row is None:
            return Policy()
        return Policy(
            weights={Criterion(k): v for k, v in json.loads(row["weights"]).items()},
            require_specialty_match=row["require_specialty_match"],
            require_shared_language=row["require_shared_language"],
            min_score=row["min_score"],
        )

    @staticmethod
    async def save_policy(conn: asyncpg.Connection, tenant_id: str, policy: Policy) -> None:
        await conn.execute(
            """INSERT INTO matching_policies
                   (tenant_id, weights, require_specialty_match, require_shared_language, min_score)
               VALUES ($1, $2::jsonb, $3, $4, $5)
               ON CONFLICT (tenant_id) DO UPDATE SET weights = EXCLUDED.weights,
                   require_specialty_match = EXCLUDED.require_specialty_match,
                   require_shared_language = EXCLUDED.require_shared_language,
                   min_score = EXCLUDED.min_score, update_time = now()""",
            uuid.UUID(tenant_id),
            json.dumps({str(c): policy.weights.get(c, 0.0) for c in CRITERIA}),
            policy.require_specialty_match,
            policy.require_shared_language,
            policy.min_score,
        )

    # Matches, rounds, transitions

    @staticmethod
    async def students_with_open_match(conn: asyncpg.Connection, statuses=HOLDS_SLOT) -> set[str]:
        rows = await conn.fetch("SELECT student_id FROM matches WHERE status = ANY($1::text[])", list(statuses))
        return {str(r["student_id"]) for r in rows}

    @staticmethod
    async def insert_matches(conn: asyncpg.Connection, matches: list[dict]) -> None:
        await conn.executemany(
            """INSERT INTO matches (match_id, tenant_id, student_id, mentor_id, round_id, status, score, reasons,
                                    profile_version)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)""",
            [
                (
                    uuid.UUID(m["match_id"]),
                    uuid.UUID(m["tenant_id"]),
                    uuid.UUID(m["student_id"]),
                    uuid.UUID(m["mentor_id"]),
                    uuid.UUID(m["round_id"]) if m["round_id"] else None,
                    m["status"],
                    m["score"],
                    reasons_to_json(m["reasons"]),
                    m["profile_version"],
                )
                for m in matches
            ],
        )

    @staticmethod
    async def get_match(conn: asyncpg.Connection, match_id: uuid.UUID, for_update: bool = False) -> asyncpg.Record:
        return await conn.fetchrow(
            f"""SELECT x.*, m.display_name AS mentor_display_name, m.specialty AS mentor_specialty
                FROM matches x LEFT JOIN mentors m USING (mentor_id) WHERE x.match_id = $1
                {"FOR UPDATE OF x" if for_update else ""}""",
            match_id,
        )

    @staticmethod
    async def _matches(conn: asyncpg.Connection, where: str, *args) -> list[asyncpg.Record]:
        """Matches with their mentor's name and specialty, oldest first; `where` is one of the constants below."""
        return await conn.fetch(
            f"""SELECT x.*, m.display_name AS mentor_display_name, m.specialty AS mentor_specialty
                FROM matches x LEFT JOIN mentors m USING (mentor_id) WHERE {where}
                ORDER BY x.create_time, x.match_id""",
            *args,
        )

    @classmethod
    async def student_matches(
        cls, conn: asyncpg.Connection, student_id: uuid.UUID, statuses: Iterable[MatchStatus]
    ) -> list[asyncpg.Record]:
        where = "x.student_id = $1 AND x.status = ANY($2::text[])"
        return await cls._matches(conn, where, student_id, [s.value for s in statuses])

    @classmethod
    async def round_matches(
        cls, conn: asyncpg.Connection, round_ids: list[uuid.UUID], status: MatchStatus | None = None
    ) -> list[asyncpg.Record]:
        """The matches of the rounds, or only those in `status`."""
        if status is None:
            return await cls._matches(conn, "x.round_id = ANY($1::uuid[])", round_ids)
        return await cls._matches(conn, "x.round_id = ANY($1::uuid[]) AND x.status = $2", round_ids, status.value)

    @classmethod
    async def mentor_matches(
        cls, conn: asyncpg.Connection, mentor_id: uuid.UUID, statuses: Iterable[MatchStatus]
    ) -> list[asyncpg.Record]:
        where = "x.mentor_id = $1 AND x.status = ANY($2::text[])"
        return await cls._matches(conn, where, mentor_id, [s.value for s in statuses])

    @staticmethod
    async def set_status(
        conn: asyncpg.Connection, match_ids: list[uuid.UUID], status: MatchStatus, note: str = "", rating: int = 0
    ) -> None:
        await conn.execute(
            """UPDATE matches SET status = $2, note = CASE WHEN $3 = '' THEN note ELSE $3 END,
                   rating = CASE WHEN $4 = 0 THEN rating ELSE $4 END, update_time = now()
               WHERE match_id = ANY($1::uuid[])""",
            match_ids,
            status.value,
            note,
            rating,
        )

    @staticmethod
    async def record_transitions(conn: asyncpg.Connection, transitions: list[tuple]) -> None:
        """(tenant_id, match_id, mentor_id, from_status, to_status, event_id) per transition."""
        await conn.executemany(
            """INSERT INTO match_transitions (tenant_id, match_id, mentor_id, from_status, to_status, event_id)
               VALUES ($1, $2, $3, $4, $5, $6)""",
            [(uuid.UUID(str(t)), uuid.UUID(str(m)), uuid.UUID(str(x)), f, s, e) for t, m, x, f, s, e in transitions],
        )

    @staticmethod
    async def insert_round(conn: asyncpg.Connection, round_: dict) -> None:
        await conn.execute(
            """INSERT INTO rounds (round_id, tenant_id, status, cohort_size, kept_matches, unassigned, total_score)
               VALUES ($1, $2, 'draft', $3, $4, $5, $6)""",
            uuid.UUID(round_["round_id"]),
            uuid.UUID(round_["tenant_id"]),
            round_["cohort_size"],
            round_["kept_matches"],
            [uuid.UUID(s) for s in round_["unassigned"]],
            round_["total_score"],
        )

    @staticmethod
    async def get_round(conn: asyncpg.Connection, round_id: uuid.UUID, for_update: bool = False):
        return await conn.fetchrow(
            f"SELECT * FROM rounds WHERE round_id = $1 {'FOR UPDATE' if for_update else ''}", round_id
        )

    @staticmethod
    async def draft_rounds(conn: asyncpg.Connection) -> list[uuid.UUID]:
        rows = await conn.fetch("SELECT round_id FROM rounds WHERE status = 'draft' FOR UPDATE")
        return [r["round_id"] for r in rows]

    @staticmethod
    async def set_round_status(conn: asyncpg.Connection, round_ids: list[uuid.UUID], status: str) -> None:
        await conn.execute(
            """UPDATE rounds SET status = $2,
                   publish_time = CASE WHEN $2 = 'published' THEN now() ELSE publish_time END
               WHERE round_id = ANY($1::uuid[])""",
            round_ids,
            status,
        )
