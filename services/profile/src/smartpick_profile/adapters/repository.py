"""SQL for schools, students and profile versions (asyncpg), run on the connection of the caller's unit of
work: the service layer decides what to store, these statements only store and read it."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from google.protobuf import json_format
from smartpick.profile.v1 import profile_pb2


@dataclass(frozen=True)
class School:
    school_id: uuid.UUID
    name: str
    create_time: datetime


@dataclass(frozen=True)
class Student:
    tenant_id: uuid.UUID
    student_id: uuid.UUID
    external_ref: str
    display_name: str
    email: str
    create_time: datetime


@dataclass(frozen=True)
class StoredVersion:
    version: int
    profile: profile_pb2.ApplicantProfile
    create_time: datetime


@dataclass(frozen=True)
class LockedStudent:
    """A student locked for a save: the version a request already made, if any, and the latest one."""

    latest: StoredVersion | None
    replayed: StoredVersion | None


def _to_json(profile: profile_pb2.ApplicantProfile) -> str:
    return json.dumps(json_format.MessageToDict(profile, preserving_proto_field_name=True))


def _from_json(raw: str) -> profile_pb2.ApplicantProfile:
    return json_format.ParseDict(json.loads(raw), profile_pb2.ApplicantProfile())


def _student(row: asyncpg.Record | None) -> Student | None:
    if row is None:
        return None
    return Student(
        row["tenant_id"], row["student_id"], row["external_ref"], row["display_name"], row["email"], row["create_time"]
    )


class ProfileRepository:
    async def insert_school(self, conn, school_id: uuid.UUID, name: str, request_id: str) -> tuple[School, bool]:
        """Inserts the school unless request_id made one already; returns (school, created)."""
        row = await conn.fetchrow(
            """INSERT INTO schools (school_id, name, request_id) VALUES ($1, $2, $3)
               ON CONFLICT (request_id) DO NOTHING RETURNING school_id, name, create_time""",
            school_id,
            name,
            request_id,
        )
        if row is not None:
            return School(*row), True
        row = await conn.fetchrow("SELECT school_id, name, create_time FROM schools WHERE request_id = $1", request_id)
        return School(*row), False

    async def get_school(self, conn, school_id: uuid.UUID) -> School | None:
        row = await conn.fetchrow("SELECT school_id, name, create_time FROM schools WHERE school_id = $1", school_id)
        return None if row is None else School(*row)

    async def insert_student(
        self, conn, tenant_id: uuid.UUID, external_ref: str, display_name: str, email: str
    ) -> tuple[Student, bool]:
        """Inserts the student unless (tenant, external_ref) exists; returns (student, created)."""
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
            return _student(row), True
        existing = await conn.fetchrow(
            "SELECT * FROM students WHERE tenant_id = $1 AND external_ref = $2", tenant_id, external_ref
        )
        return _student(existing), False

    async def get_student(self, conn, student_id: uuid.UUID) -> Student | None:
        return _student(await conn.fetchrow("SELECT * FROM students WHERE student_id = $1", student_id))

    async def list_students(self, conn, after: uuid.UUID | None, limit: int) -> list[Student]:
        rows = await conn.fetch(
            """SELECT * FROM students WHERE ($1::uuid IS NULL OR student_id > $1)
               ORDER BY student_id LIMIT $2""",
            after,
            limit,
        )
        return [_student(row) for row in rows]

    async def lock_student(self, conn, student_id: uuid.UUID, request_id: str) -> LockedStudent | None:
        """Locks the student row, so concurrent saves of one student get consecutive versions; None if there
        is no such student. Then the version this request made and the latest one.

        Two statements, not one: a statement that waited for the lock re-reads the locked row as the other
        save committed it, but its joins keep the snapshot taken before the wait, which misses that save's
        version (the latest would be a number with no row, the replay not found). The second statement,
        run once the lock is held, sees every committed save (READ COMMITTED)."""
        latest_version = await conn.fetchval(
            "SELECT latest_version FROM students WHERE student_id = $1 FOR UPDATE", student_id
        )
        if latest_version is None:
            return None
        found = await conn.fetchrow(
            """SELECT replay.version AS replay_version, replay.profile AS replay_profile,
                      replay.create_time AS replay_time, latest.profile AS latest_profile,
                      latest.create_time AS latest_time
               FROM (SELECT 1) AS one
               LEFT JOIN profile_versions replay ON replay.student_id = $1 AND replay.request_id = $2
               LEFT JOIN profile_versions latest ON latest.student_id = $1 AND latest.version = $3""",
            student_id,
            request_id,
            latest_version,
        )
        replayed = latest = None
        if found["replay_version"] is not None:
            replayed = StoredVersion(found["replay_version"], _from_json(found["replay_profile"]), found["replay_time"])
        if latest_version:
            if found["latest_profile"] is None:
                raise RuntimeError(f"student {student_id} has latest_version {latest_version} but no such version")
            latest = StoredVersion(latest_version, _from_json(found["latest_profile"]), found["latest_time"])
        return LockedStudent(latest, replayed)

    async def insert_version(
        self,
        conn,
        tenant_id: uuid.UUID,
        student_id: uuid.UUID,
        version: int,
        profile: profile_pb2.ApplicantProfile,
        request_id: str,
    ) -> StoredVersion:
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
        return StoredVersion(version, profile, create_time)

    async def get_version(self, conn, student_id: uuid.UUID, version: int) -> StoredVersion | None:
        """The given version, or the latest when version is 0."""
        if version == 0:
            version = await conn.fetchval("SELECT latest_version FROM students WHERE student_id = $1", student_id)
            if not version:
                return None
        row = await conn.fetchrow(
            "SELECT version, profile, create_time FROM profile_versions WHERE student_id = $1 AND version = $2",
            student_id,
            version,
        )
        return None if row is None else StoredVersion(row["version"], _from_json(row["profile"]), row["create_time"])
