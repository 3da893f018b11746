"""The mentorship consumer's batch contract, with fakes in place of Kafka and PostgreSQL."""

import asyncio
import contextlib
from dataclasses import dataclass

import asyncpg
import pytest
from aiokafka import TopicPartition
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2
from smartpick.profile.v1 import profile_pb2

from smartpick_mentorship.entrypoints.consumer import EventConsumer
from smartpick_platform.topics import PROFILE_UPDATED, PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED

SCHOOL_A, SCHOOL_B = "0b7d8a36-1a62-4b9b-8a3e-9f1f0c1d2e3f", "5d0c2a1e-7b3f-4e8a-9c6d-1f2e3a4b5c6d"
STUDENT = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes = b"k"
    headers: tuple = ()


def profile_updated(tenant: str, version: int) -> bytes:
    return profile_events_pb2.ProfileUpdated(
        event_id="e",
        tenant_id=tenant,
        student_id=STUDENT,
        profile_version=version,
        profile=profile_pb2.ApplicantProfile(preferences=profile_pb2.Preferences(specialties=["Dermatology"])),
    ).SerializeToString()


def recommendations(tenant: str, version: int) -> bytes:
    return recommendation_events_pb2.RecommendationsGenerated(
        event_id="e", tenant_id=tenant, student_id=STUDENT, profile_version=version, specialties=["Dermatology"]
    ).SerializeToString()


class FakeConnection:
    def __init__(self, repo: "FakeRepository"):
        self.repo = repo

    async def execute(self, query: str, *args):
        if self.repo.fail:
            raise asyncpg.PostgresConnectionError("connection lost")
        self.repo.statements.append((self.repo.tenant, query.split("(")[0].strip(), args[2]))
        return "INSERT 0 1"


class FakeRepository:
    def __init__(self, fail: bool = False):
        self.fail, self.tenant = fail, None
        self.transactions: list[str] = []
        self.statements: list[tuple] = []

    @contextlib.asynccontextmanager
    async def scope(self, tenant_id=None):
        self.tenant = tenant_id
        self.transactions.append(tenant_id)
        yield FakeConnection(self)


class FakeConsumer:
    def __init__(self):
        self.commits: list[dict] = []
        self.seeks: dict[TopicPartition, int] = {}

    async def commit(self, offsets):
        self.commits.append(offsets)

    async def committed(self, partition):
        return 40 + partition.partition

    def seek(self, partition, offset):
        self.seeks[partition] = offset


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


async def test_a_batch_is_one_transaction_per_school_and_one_commit_after_everything():
    repo, consumer, producer = FakeRepository(), FakeConsumer(), FakeProducer()

    await EventConsumer(repo, consumer, producer).store(a_batch())

    assert sorted(repo.transactions) == sorted([SCHOOL_A, SCHOOL_B])
    assert [(tenant, version) for tenant, _, version in repo.statements] == [
        (SCHOOL_A, 1),
        (SCHOOL_A, 1),
        (SCHOOL_B, 4),
    ]
    assert [topic for topic, _ in producer.sent] == [PROFILE_UPDATED_DLQ.name]
    assert b"ProfileUpdated" in producer.sent[0][1]["x-dlq-reason"]
    assert consumer.commits == [{P0: 53, P1: 71}]


async def test_a_failed_batch_commits_nothing_and_rewinds_every_partition_it_read():
    repo, consumer = FakeRepository(fail=True), FakeConsumer()

    with pytest.raises(asyncpg.PostgresConnectionError):
        await EventConsumer(repo, consumer, FakeProducer()).store(a_batch())

    assert consumer.commits == []
    assert consumer.seeks == {P0: 40, P1: 41}
