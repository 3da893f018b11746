"""The profile use cases against a fake unit of work and an in-memory repository: no I/O."""

import contextlib
import uuid
from datetime import UTC, datetime

import pytest
from smartpick.events.v1 import profile_events_pb2
from smartpick.profile.v1 import profile_pb2

from smartpick_platform.event_checks import MAX_PROFILE_VERSION
from smartpick_platform.unit_of_work import Work
from smartpick_profile.adapters.repository import LockedStudent, School, StoredVersion, Student
from smartpick_profile.domain import ProfileInvalid
from smartpick_profile.service import NotFound, ProfileService

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def valid_profile(research_items: int = 5) -> profile_pb2.ApplicantProfile:
    return profile_pb2.ApplicantProfile(
        degree_type=profile_pb2.DEGREE_TYPE_MD,
        research_items=research_items,
        preferences=profile_pb2.Preferences(specialties=["Dermatology"], application_budget=60),
    )


class FakeUnitOfWork:
    """Commits the events of a unit of work that ends cleanly; one that raises commits none."""

    def __init__(self):
        self.committed = []

    @contextlib.asynccontextmanager
    async def tenant(self, tenant_id: str):
        work = Work(conn=tenant_id)
        yield work
        self.committed += work.events


class FakeRepository:
    def __init__(self):
        self.schools: dict[str, School] = {}
        self.students: dict[uuid.UUID, Student] = {}
        self.versions: dict[uuid.UUID, list[tuple[str, StoredVersion]]] = {}

    async def insert_school(self, conn, school_id, name, request_id):
        if request_id in self.schools:
            return self.schools[request_id], False
        self.schools[request_id] = School(school_id, name, NOW)
        return self.schools[request_id], True

    async def get_school(self, conn, school_id):
        return next((s for s in self.schools.values() if s.school_id == school_id), None)

    async def insert_student(self, conn, tenant_id, external_ref, display_name, email):
        student = Student(tenant_id, uuid.uuid4(), external_ref, display_name, email, NOW)
        self.students[student.student_id] = student
        self.versions[student.student_id] = []
        return student, True

    async def lock_student(self, conn, student_id, request_id):
        if student_id not in self.students or str(self.students[student_id].tenant_id) != conn:
            return None
        versions = self.versions[student_id]
        replayed = next((v for r, v in versions if r == request_id), None)
        return LockedStudent(versions[-1][1] if versions else None, replayed)

    async def insert_version(self, conn, tenant_id, student_id, version, profile, request_id):
        stored = StoredVersion(version, profile, NOW)
        self.versions[student_id].append((request_id, stored))
        return stored


@pytest.fixture
async def setup():
    uow, repo = FakeUnitOfWork(), FakeRepository()
    service = ProfileService(uow, repo)
    school, _ = await service.create_school("A school", "req-school")
    student, _ = await service.create_student(school.school_id, "ref-1", "Ada", "")
    return service, uow, school.school_id, student.student_id


def published(uow) -> list[profile_events_pb2.ProfileUpdated]:
    return [profile_events_pb2.ProfileUpdated.FromString(m.payload) for m in uow.committed]


async def test_a_new_version_raises_its_event_in_the_same_unit_of_work(setup):
    service, uow, tenant, student = setup
    saved = await service.upsert_profile(tenant, student, valid_profile(), "r1")
    assert (saved.version.version, saved.created) == (1, True)
    [event] = published(uow)
    assert (event.tenant_id, event.student_id, event.profile_version) == (str(tenant), str(student), 1)
    assert event.event_id == str(saved.event_id)
    assert uow.committed[0].key == str(student)


async def test_a_replay_or_an_unchanged_save_raises_no_event_and_names_the_first_one(setup):
    service, uow, tenant, student = setup
    first = await service.upsert_profile(tenant, student, valid_profile(), "r1")
    replay = await service.upsert_profile(tenant, student, valid_profile(research_items=1), "r1")
    unchanged = await service.upsert_profile(tenant, student, valid_profile(), "r2")
    assert replay.created is unchanged.created is False
    assert replay.event_id == unchanged.event_id == first.event_id
    assert len(uow.committed) == 1


async def test_each_change_gets_the_next_version_and_one_event(setup):
    service, uow, tenant, student = setup
    for research in (1, 2, 3):
        await service.upsert_profile(tenant, student, valid_profile(research_items=research), f"r{research}")
    assert [e.profile_version for e in published(uow)] == [1, 2, 3]


async def test_an_invalid_profile_or_another_schools_student_stores_nothing(setup):
    service, uow, tenant, student = setup
    with pytest.raises(ProfileInvalid):
        await service.upsert_profile(tenant, student, valid_profile(research_items=-1), "r1")
    with pytest.raises(NotFound):
        await service.upsert_profile(uuid.uuid4(), student, valid_profile(), "r2")
    assert uow.committed == []


async def test_no_version_past_the_one_consumers_accept_is_stored(setup):
    service, uow, tenant, student = setup
    repo = service._repo
    repo.versions[student].append(("old", StoredVersion(MAX_PROFILE_VERSION, valid_profile(), NOW)))
    with pytest.raises(ProfileInvalid, match=f"at most {MAX_PROFILE_VERSION} versions"):
        await service.upsert_profile(tenant, student, valid_profile(research_items=9), "r-next")
    assert uow.committed == []


async def test_creating_a_school_twice_with_one_request_id_returns_the_first(setup):
    service, _, tenant, _ = setup
    again, created = await service.create_school("A school", "req-school")
    assert (again.school_id, created) == (tenant, False)
