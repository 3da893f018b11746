"""The ranking worker on the platform batch consumer, with a fake service layer and fakes of Kafka."""

import asyncio
import uuid
from dataclasses import dataclass, field

from aiokafka import TopicPartition
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2

from smartpick_platform.kafka import cloudevent_headers
from smartpick_platform.topics import PROFILE_UPDATED, PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED
from smartpick_ranking.entrypoints.worker import RankingWorker
from smartpick_ranking.service import Outcome

P0 = TopicPartition(PROFILE_UPDATED.name, 0)
PROFILE_TYPE = profile_events_pb2.ProfileUpdated.DESCRIPTOR.full_name
SCHOOL_A, OTHER_SCHOOL = str(uuid.uuid4()), str(uuid.uuid4())
UNUSABLE_VERSION = 7


@dataclass
class Record:
    offset: int
    value: bytes | None
    topic: str = P0.topic
    partition: int = 0
    key: bytes = b"k"
    headers: tuple = field(
        default_factory=lambda: tuple(
            cloudevent_headers(event_id=str(uuid.uuid4()), event_type=PROFILE_TYPE, source="/tests")
        )
    )


def event(version: int, tenant: str = SCHOOL_A) -> bytes:
    return profile_events_pb2.ProfileUpdated(
        event_id=str(uuid.uuid4()),
        tenant_id=tenant,
        student_id=str(uuid.UUID(int=version)),
        profile_version=version,
    ).SerializeToString()


class FakeService:
    """Recommends every event; an event of OTHER_SCHOOL fails as a (student, version) stored under another
    school does; UNUSABLE_VERSION is one the service cannot use."""

    def __init__(self):
        self.calls: list[list[int]] = []

    async def handle_profile_updates(self, events):
        self.calls.append([e.profile_version for e in events])
        if any(e.tenant_id == OTHER_SCHOOL for e in events):
            raise AttributeError("'NoneType' object has no attribute 'result'")
        return [
            Outcome(unusable="no program of the student's specialties")
            if e.profile_version == UNUSABLE_VERSION
            else Outcome(
                published=recommendation_events_pb2.RecommendationsGenerated(
                    event_id=f"r{e.profile_version}", student_id=e.student_id, profile_version=e.profile_version
                )
            )
            for e in events
        ]


class FakeConsumer:
    def __init__(self):
        self.commits: list[dict] = []

    async def commit(self, offsets):
        self.commits.append(offsets)


class FakeProducer:
    def __init__(self):
        self.sent: list[tuple[str, bytes, dict]] = []

    async def send(self, topic, value, key, headers):
        self.sent.append((topic, value, {k: v.decode() for k, v in headers}))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def worker() -> RankingWorker:
    made = RankingWorker(FakeService(), FakeConsumer(), FakeProducer())
    made.consumer.backoff = lambda attempt: 0
    return made


async def test_recommendations_are_published_before_the_commit_and_poison_goes_to_the_dead_letter_topic():
    ranking = worker()
    batch = {P0: [Record(1, event(1)), Record(2, None), Record(3, event(UNUSABLE_VERSION)), Record(4, event(2))]}

    await ranking.consumer.process(batch)

    sent = ranking.producer.sent
    published = [(topic, h["ce_id"]) for topic, _, h in sent if topic == RECOMMENDATIONS_GENERATED.name]
    assert published == [(RECOMMENDATIONS_GENERATED.name, "r1"), (RECOMMENDATIONS_GENERATED.name, "r2")]
    dead = {h["x-dlq-source"]: h["x-dlq-reason"] for topic, _, h in sent if topic == PROFILE_UPDATED_DLQ.name}
    assert set(dead) == {f"{P0.topic}:0:2", f"{P0.topic}:0:3"}
    assert "tombstone" in dead[f"{P0.topic}:0:2"] and "specialties" in dead[f"{P0.topic}:0:3"]
    assert ranking.consumer.consumer.commits == [{P0: 5}]


async def test_an_event_of_a_version_stored_under_another_school_is_dead_lettered_not_crash_looped():
    ranking = worker()
    batch = {P0: [Record(1, event(1)), Record(2, event(2, tenant=OTHER_SCHOOL)), Record(3, event(3))]}

    await ranking.consumer.process(batch)

    dead = [h for topic, _, h in ranking.producer.sent if topic == PROFILE_UPDATED_DLQ.name]
    assert [h["x-dlq-source"] for h in dead] == [f"{P0.topic}:0:2"]
    assert "AttributeError" in dead[0]["x-dlq-reason"]
    published = [h["ce_id"] for topic, _, h in ranking.producer.sent if topic == RECOMMENDATIONS_GENERATED.name]
    assert sorted(set(published)) == ["r1", "r3"]
    assert ranking.consumer.consumer.commits == [{P0: 4}]
