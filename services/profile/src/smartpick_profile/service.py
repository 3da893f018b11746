"""The profile service's use cases, one unit of work each, between the gRPC entrypoint and the SQL.

A new profile version and its ProfileUpdated event are written in one transaction (the data's owner writes
its event), so a version is never stored without the event that announces it, whatever crashes when."""

import uuid
from dataclasses import dataclass

from smartpick.profile.v1 import profile_pb2

from smartpick_platform.event_checks import MAX_PROFILE_VERSION
from smartpick_platform.unit_of_work import UnitOfWork
from smartpick_profile.adapters.repository import ProfileRepository, School, StoredVersion, Student
from smartpick_profile.domain import ProfileInvalid, needs_new_version, validate_profile
from smartpick_profile.events import profile_event_id, profile_updated_message


class NotFound(LookupError):
    """What was asked for does not exist in this school (or at all)."""


@dataclass(frozen=True)
class SavedProfile:
    version: StoredVersion
    created: bool
    event_id: uuid.UUID


class ProfileService:
    def __init__(self, uow: UnitOfWork, repo: ProfileRepository):
        self._uow = uow
        self._repo = repo

    async def create_school(self, name: str, request_id: str) -> tuple[School, bool]:
        """A new school, or the one this request_id made before. Schools are not tenant-scoped rows; the
        transaction is opened as the new school."""
        school_id = uuid.uuid4()
        async with self._uow.tenant(str(school_id)) as work:
            return await self._repo.insert_school(work.conn, school_id, name, request_id)

    async def get_school(self, school_id: uuid.UUID) -> School:
        async with self._uow.tenant(str(school_id)) as work:
            school = await self._repo.get_school(work.conn, school_id)
        if school is None:
            raise NotFound(f"no school {school_id}")
        return school

    async def create_student(
        self, tenant_id: uuid.UUID, external_ref: str, display_name: str, email: str
    ) -> tuple[Student, bool]:
        async with self._uow.tenant(str(tenant_id)) as work:
            if await self._repo.get_school(work.conn, tenant_id) is None:
                raise NotFound(f"no school {tenant_id}")
            return await self._repo.insert_student(work.conn, tenant_id, external_ref, display_name, email)

    async def get_student(self, tenant_id: uuid.UUID, student_id: uuid.UUID) -> Student:
        async with self._uow.tenant(str(tenant_id)) as work:
            student = await self._repo.get_student(work.conn, student_id)
        if student is None:
            raise NotFound(f"no student {student_id} in this school")
        return student

    async def list_students(self, tenant_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[Student]:
        async with self._uow.tenant(str(tenant_id)) as work:
            return await self._repo.list_students(work.conn, after, limit)

    async def upsert_profile(
        self, tenant_id: uuid.UUID, student_id: uuid.UUID, profile: profile_pb2.ApplicantProfile, request_id: str
    ) -> SavedProfile:
        """Stores a new version, and its ProfileUpdated, unless request_id was seen or nothing changed.

        Raises ProfileInvalid for a profile that breaks a rule, NotFound for a student of no such school."""
        validate_profile(profile)
        async with self._uow.tenant(str(tenant_id)) as work:
            locked = await self._repo.lock_student(work.conn, student_id, request_id)
            if locked is None:
                raise NotFound(f"no student {student_id} in this school")
            if locked.replayed is not None:
                return self._saved(tenant_id, student_id, locked.replayed, created=False)
            if locked.latest is not None and not needs_new_version(locked.latest.profile, profile):
                return self._saved(tenant_id, student_id, locked.latest, created=False)
            version = (locked.latest.version if locked.latest else 0) + 1
            if version > MAX_PROFILE_VERSION:  # its event would be refused by every consumer
                raise ProfileInvalid({"profile": f"a profile has at most {MAX_PROFILE_VERSION} versions"})
            stored = await self._repo.insert_version(work.conn, tenant_id, student_id, version, profile, request_id)
            work.raise_event(profile_updated_message(as_proto(tenant_id, student_id, stored)))
            return self._saved(tenant_id, student_id, stored, created=True)

    async def get_profile(self, tenant_id: uuid.UUID, student_id: uuid.UUID, version: int) -> StoredVersion:
        """The given version, or the latest when version is 0."""
        async with self._uow.tenant(str(tenant_id)) as work:
            stored = await self._repo.get_version(work.conn, student_id, version)
        if stored is None:
            what = f"version {version}" if version else "any profile"
            raise NotFound(f"student {student_id} has no {what} in this school")
        return stored

    @staticmethod
    def _saved(tenant_id: uuid.UUID, student_id: uuid.UUID, stored: StoredVersion, created: bool) -> SavedProfile:
        return SavedProfile(stored, created, profile_event_id(str(tenant_id), str(student_id), stored.version))


def as_proto(tenant_id: uuid.UUID, student_id: uuid.UUID, stored: StoredVersion) -> profile_pb2.ProfileVersion:
    version = profile_pb2.ProfileVersion(
        tenant_id=str(tenant_id), student_id=str(student_id), version=stored.version, profile=stored.profile
    )
    version.create_time.FromDatetime(stored.create_time)
    return version
