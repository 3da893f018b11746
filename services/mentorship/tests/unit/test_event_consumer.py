"""The mentorship consumer on the platform batch consumer, with fakes in place of Kafka and PostgreSQL."""

import asyncio
import contextlib
import uuid
from dataclasses import dataclass

import asyncpg
from aiokafka import TopicPartition
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2
from smartpick.profile.v1 import profile_pb2

from smartpick_mentorship.entrypoints.consumer import EventConsumer
from smartpick_platform.kafka import cloudevent_headers
from smartpick_platform.topics import PROFILE_UPDATED, PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED
from smartpick_platform.unit_of_work import Work

SCHOOL_A, SCHOOL_B = "0b7d8a36-1a62-4b9b-8a3e-9f1f0c1d2e3f", "5d0c2a1e-7b3f-4e8a-9c6d-1f2e3a4b5c6d"
STUDENT = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


PROFILE_TYPE = profile_events_pb2.ProfileUpdated.DESCRIPTOR.full_name
RECOMMENDATIONS_TYPE = recommendation_events_pb2.RecommendationsGenerated.DESCRIPTOR.full_name


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes = b"k"
    headers: tuple = ()

    def __post_init__(self):
        kind = PROFILE_TYPE if self.topic == PROFILE_UPDATED.name else RECOMMENDATIONS_TYPE
        self.headers = tuple(cloudevent_headers(event_id=str(uuid.uuid4()), event_type=kind, source="/tests"))


def profile_updated(tenant: str, version: int) -> bytes:
    return profile_events_pb2.ProfileUpdated(
        event_id=str(uuid.uuid4()),
        tenant_id=tenant,
        student_id=STUDENT,
        profile_version=version,
        profile=profile_pb2.ApplicantProfile(preferences=profile_pb2.Preferences(specialties=["Dermatology"])),
    ).SerializeToString()


def recommendations(tenant: str, version: int) -> bytes:
    return recommendation_events_pb2.RecommendationsGenerated(
        event_id=str(uuid.uuid4()),
        tenant_id=tenant,
        student_id=STUDENT,
        profile_version=version,
        specialties=["Dermatology"],
    ).SerializeToString()


class FakeConnection:
    def __init__(self, repo: "FakeRepository"):
        self.repo = repo

    async def execute(self, query: str, *args):
        if self.repo.outages:
            self.repo.outages -= 1
            raise asyncpg.PostgresConnectionError("connection lost")
        if self.repo.tenant_id in self.repo.refusing:
            raise asyncpg.InsufficientPrivilegeError("new row violates row-level security policy")
        self.repo.statements.append((self.repo.tenant_id, query.split("(")[0].strip(), args[2]))
        return "INSERT 0 1"


class FakeRepository:
    def __init__(self, outages: int = 0, refusing: frozenset = frozenset()):
        self.outages, self.refusing, self.tenant_id = outages, refusing, None
        self.transactions: list[str] = []
        self.statements: list[tuple] = []

    @contextlib.asynccontextmanager
    async def tenant(self, tenant_id, *, acting_for=None, lock=None):
        """The unit of work the consumer is handed: one per school and batch."""
        self.tenant_id = tenant_id
        self.transactions.append(tenant_id)
        yield Work(FakeConnection(self))


class FakeConsumer:
    def __init__(self):
        self.commits: list[dict] = []

    async def commit(self, offsets):
        self.commits.append(offsets)


class FakeProducer:
    def __init__(self):
        self.sent: list[tuple[str, dict]] = []

    async def send(self, topic, value, key, headers):
        self.sent.append((topic, dict(headers)))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


P0, P1 = TopicPartition(PROFILE_UPDATED.name, 0), TopicPartition(RECOMMENDATIONS_GENERATED.name, 1)


def a_batch() -> dict:
    return {
        P0: [
            Record(P0.topic, 0, 50, profile_updated(SCHOOL_A, 1)),
            Record(P0.topic, 0, 51, b"\xff not protobuf"),
            Record(P0.topic, 0, 52, profile_updated(SCHOOL_B, 4)),
        ],
        P1: [Record(P1.topic, 1, 70, recommendations(SCHOOL_A, 1))],
    }


def consumer_of(repo: FakeRepository) -> EventConsumer:
    consumer = EventConsumer(repo, FakeConsumer(), FakeProducer())
    consumer.consumer.backoff = lambda attempt: 0
    return consumer


async def test_a_batch_is_one_transaction_per_school_and_type_and_one_commit_after_everything():
    repo = FakeRepository()
    events = consumer_of(repo)

    await events.consumer.process(a_batch())

    assert sorted(repo.transactions) == sorted([SCHOOL_A, SCHOOL_B, SCHOOL_A])
    assert sorted((tenant, version) for tenant, _, version in repo.statements) == [
        (SCHOOL_A, 1),
        (SCHOOL_A, 1),
        (SCHOOL_B, 4),
    ]
    sent = events.consumer.producer.sent
    assert [topic for topic, _ in sent] == [PROFILE_UPDATED_DLQ.name]
    assert b"ProfileUpdated" in sent[0][1]["x-dlq-reason"]
    assert events.consumer.consumer.commits == [{P0: 53, P1: 71}]


async def test_a_database_outage_is_waited_out_and_the_batch_commits_after():
    repo = FakeRepository(outages=3)
    events = consumer_of(repo)

    await events.consumer.process(a_batch())

    assert {(tenant, version) for tenant, _, version in repo.statements} == {(SCHOOL_A, 1), (SCHOOL_B, 4)}
    assert events.consumer.consumer.commits == [{P0: 53, P1: 71}]


async def test_an_event_the_database_refuses_for_good_is_dead_lettered_and_the_others_are_stored():
    """Before: a permanent database error (another school's student, refused by row-level security) was
    retried forever and stopped the partition."""
    repo = FakeRepository(refusing=frozenset({SCHOOL_B}))
    events = consumer_of(repo)

    await events.consumer.process(a_batch())

    sent = events.consumer.producer.sent
    assert [h["x-dlq-source"] for _, h in sent] == [f"{P0.topic}:0:51".encode(), f"{P0.topic}:0:52".encode()]
    assert b"row-level security" in sent[1][1]["x-dlq-reason"]
    assert {(tenant, version) for tenant, _, version in repo.statements} == {(SCHOOL_A, 1)}
    assert events.consumer.consumer.commits == [{P0: 53, P1: 71}]
