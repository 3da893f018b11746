"""SQL for schools, students and profile versions (asyncpg); every student query runs tenant-scoped."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from google.protobuf import json_format
from smartpick.profile.v1 import profile_pb2

from smartpick_platform.db import tenant_transaction


@dataclass(frozen=True)
class StoredVersion:
    version: int
    profile: profile_pb2.ApplicantProfile
    create_time: datetime


def _to_json(profile: profile_pb2.ApplicantProfile) -> str:
    return json.dumps(json_format.MessageToDict(profile, preserving_proto_field_name=True))


def _from_json(raw: str) -> profile_pb2.ApplicantProfile:
    return json_format.ParseDict(json.loads(raw), profile_pb2.ApplicantProfile())


class ProfileRepository:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    async def create_school(self, name: str) -> asyncpg.Record:
        return await self._pool.fetchrow(
            "INSERT INTO schools (school_id, name) VALUES ($1, $2) RETURNING school_id, name, create_time",
            uuid.uuid4(),
            name,
        )

    async def get_school(self, school_id: uuid.UUID) -> asyncpg.Record | None:
        return await self._pool.fetchrow(
            "SELECT school_id, name, create_time FROM schools WHERE school_id = $1", school_id
        )

    async def create_student(
        self, tenant_id: uuid.UUID, external_ref: str, display_name: str, email: str
    ) -> tuple[asyncpg.Record, bool]:
        """Inserts the student unless (tenant, external_ref) exists; returns (row, created)."""
        async with tenant_transaction(self._pool, tenant_id) as conn:
            row = await conn.fetchrow(
                """INSERT INTO students (tenant_id, student_id, external_ref, display_name, email)
                   VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT (tenant_id, external_ref) DO NOTHING
                   RETURNING *""",
                tenant_id,
                uuid.uuid4(),
                external_ref,
                display_name,
                email,
            )
            if row is not None:
                return row, True
            existing = await conn.fetchrow(
                "SELECT * FROM students WHERE tenant_id = $1 AND external_ref = $2", tenant_id, external_ref
            )
            return existing, False

    async def get_student(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> asyncpg.Record | None:
        async with tenant_transaction(self._pool, tenant_id) as conn:
            return await conn.fetchrow("SELECT * FROM students WHERE student_id = $1", student_id)

    async def list_students(self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[asyncpg.Record]:
        async with tenant_transaction(self._pool, tenant_id) as conn:
            return await conn.fetch(
                """SELECT * FROM students WHERE ($1::uuid IS NULL OR student_id > $1)
                   ORDER BY student_id LIMIT $2""",
                after,
                limit,
            )

    async def upsert_profile(
        self,
        tenant_id: uuid.UUID,
        student_id: uuid.UUID,
        profile: profile_pb2.ApplicantProfile,
        request_id: str,
        needs_new_version,
    ) -> tuple[StoredVersion, bool] | None:
        """Stores a new version unless request_id was seen or nothing changed; None if no such student.

        The student row is locked so that concurrent saves of one student get consecutive versions."""
        async with tenant_transaction(self._pool, tenant_id) as conn:
            # One round trip: the locked student, a version this request already made, and the latest version.
            found = await conn.fetchrow(
                """SELECT s.latest_version, replay.version AS replay_version, replay.profile AS replay_profile,
                          replay.create_time AS replay_time, latest.profile AS latest_profile,
                          latest.create_time AS latest_time
                   FROM students s
                   LEFT JOIN profile_versions replay ON replay.student_id = s.student_id AND replay.request_id = $2
                   LEFT JOIN profile_versions latest
                          ON latest.student_id = s.student_id AND latest.version = s.latest_version
                   WHERE s.student_id = $1
                   FOR UPDATE OF s""",
                student_id,
                request_id,
            )
            if found is None:
                return None
            if found["replay_version"] is not None:
                replayed = _from_json(found["replay_profile"])
                return StoredVersion(found["replay_version"], replayed, found["replay_time"]), False
            latest_version = found["latest_version"]
            if latest_version:
                latest = StoredVersion(latest_version, _from_json(found["latest_profile"]), found["latest_time"])
                if not needs_new_version(latest.profile, profile):
                    return latest, False
            version = latest_version + 1
            create_time = await conn.fetchval(
                """WITH inserted AS (
                       INSERT INTO profile_versions (tenant_id, student_id, version, profile, request_id)
                       VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING create_time)
                   UPDATE students SET latest_version = $3 WHERE student_id = $2
                   RETURNING (SELECT create_time FROM inserted)""",
                tenant_id,
                student_id,
                version,
                _to_json(profile),
                request_id,
            )
            return StoredVersion(version, profile, create_time), True

    async def get_profile(self, tenant_id: uuid.UUID, student_id: uuid.UUID, version: int) -> StoredVersion | None:
        """The given version, or the latest when version is 0."""
        async with tenant_transaction(self._pool, tenant_id) as conn:
            if version == 0:
                version = await conn.fetchval("SELECT latest_version FROM students WHERE student_id = $1", student_id)
                if not version:
                    return None
            return await self._fetch_version(conn, student_id, version)

    @staticmethod
    async def _fetch_version(conn: asyncpg.Connection, student_id: uuid.UUID, version: int) -> StoredVersion | None:
        row = await conn.fetchrow(
            "SELECT version, profile, create_time FROM profile_versions WHERE student_id = $1 AND version = $2",
            student_id,
            version,
        )
        return None if row is None else StoredVersion(row["version"], _from_json(row["profile"]), row["create_time"])
