"""The platform batch consumer's contract, with fakes in place of Kafka: dispatch by event type, dead
letters once with the reason, retries (outages without limit, failures N times, then one by one), and one
commit per batch after the work."""

import asyncio
import uuid
from dataclasses import dataclass

import asyncpg
from aiokafka import TopicPartition
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2

from smartpick_platform.consumer import BatchConsumer, EventHandler
from smartpick_platform.event_checks import MAX_PROFILE_VERSION
from smartpick_platform.kafka import cloudevent_headers
from smartpick_platform.topics import (
    PROFILE_UPDATED,
    PROFILE_UPDATED_DLQ,
    RECOMMENDATIONS_GENERATED,
    RECOMMENDATIONS_GENERATED_DLQ,
)

PROFILE_TYPE = profile_events_pb2.ProfileUpdated.DESCRIPTOR.full_name
RECOMMENDATIONS_TYPE = recommendation_events_pb2.RecommendationsGenerated.DESCRIPTOR.full_name
P0, P1 = TopicPartition(PROFILE_UPDATED.name, 0), TopicPartition(RECOMMENDATIONS_GENERATED.name, 1)


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes | None
    headers: tuple = ()
    key: bytes = b"k"


TENANT, STUDENT = str(uuid.uuid4()), str(uuid.uuid4())


def ids(offset: int) -> dict[str, str]:
    return {"event_id": str(uuid.UUID(int=offset)), "tenant_id": TENANT, "student_id": STUDENT}


def headers(offset: int, event_type: str) -> tuple:
    return tuple(cloudevent_headers(event_id=str(uuid.UUID(int=offset)), event_type=event_type, source="/tests"))


def profile_record(offset: int, version: int, event_type: str = PROFILE_TYPE, **fields) -> Record:
    event = profile_events_pb2.ProfileUpdated(**(ids(offset) | fields), profile_version=version)
    return Record(P0.topic, 0, offset, event.SerializeToString(), headers(offset, event_type))


def recommendations_record(offset: int, version: int) -> Record:
    value = recommendation_events_pb2.RecommendationsGenerated(**ids(offset), profile_version=version)
    return Record(P1.topic, 1, offset, value.SerializeToString(), headers(offset, RECOMMENDATIONS_TYPE))


class FakeConsumer:
    def __init__(self):
        self.commits: list[dict] = []
        self.seeks: dict = {}

    async def commit(self, offsets):
        self.commits.append(offsets)

    def assignment(self):
        return {P0, P1}

    def seek(self, partition, offset):
        self.seeks[partition] = offset


class FakeProducer:
    def __init__(self, fail_times: int = 0):
        self.sent: list[tuple[str, dict]] = []
        self.fail_times = fail_times

    async def send(self, topic, value, key, headers):
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("broker unreachable")
        self.sent.append((topic, {k: v.decode() for k, v in headers}))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class Handler:
    """Records each call; fails as told: `outages` times with a lost connection, then `failures` times
    whenever a version in `bad` is in the call."""

    def __init__(
        self, outages: int = 0, failures: int = 100, bad: frozenset = frozenset(), refuse: frozenset = frozenset()
    ):
        self.calls: list[list[int]] = []
        self.outages, self.failures, self.bad, self.refuse = outages, failures, bad, refuse

    async def __call__(self, deliveries):
        versions = [d.event.profile_version for d in deliveries]
        self.calls.append(versions)
        if self.outages:
            self.outages -= 1
            raise asyncpg.PostgresConnectionError("connection lost")
        if self.bad & set(versions) and self.failures:
            self.failures -= 1
            raise ValueError("cannot store this one")
        return [("refused: " + str(v)) if v in self.refuse else None for v in versions]


def consumer_with(profiles: Handler, recommendations: Handler | None = None, producer: FakeProducer | None = None):
    handlers = [EventHandler(profile_events_pb2.ProfileUpdated, profiles)]
    if recommendations is not None:
        handlers.append(EventHandler(recommendation_events_pb2.RecommendationsGenerated, recommendations))
    return BatchConsumer(
        FakeConsumer(),
        producer or FakeProducer(),
        "test-group",
        topics=[PROFILE_UPDATED, RECOMMENDATIONS_GENERATED],
        dead_letters={
            PROFILE_UPDATED.name: PROFILE_UPDATED_DLQ,
            RECOMMENDATIONS_GENERATED.name: RECOMMENDATIONS_GENERATED_DLQ,
        },
        handlers=handlers,
        backoff=lambda attempt: 0,
    )


def dead_letters(consumer: BatchConsumer) -> list[tuple[str, str, str]]:
    return [(topic, h["x-dlq-source"], h["x-dlq-reason"]) for topic, h in consumer.producer.sent]


async def test_each_event_type_goes_to_its_handler_and_the_batch_commits_once_after():
    profiles, recommendations = Handler(), Handler()
    consumer = consumer_with(profiles, recommendations)
    await consumer.process({P0: [profile_record(10, 1), profile_record(11, 2)], P1: [recommendations_record(5, 1)]})
    assert profiles.calls == [[1, 2]] and recommendations.calls == [[1]]
    assert consumer.consumer.commits == [{P0: 12, P1: 6}]
    assert consumer.producer.sent == []


async def test_tombstones_unknown_types_garbage_and_refused_events_are_dead_lettered_with_their_reason():
    profiles = Handler(refuse=frozenset({3}))
    consumer = consumer_with(profiles)
    batch = {
        P0: [
            Record(P0.topic, 0, 20, None),
            profile_record(21, 1, event_type="smartpick.events.v1.Unknown"),
            Record(P0.topic, 0, 22, b"\xff\xff not protobuf", headers(22, PROFILE_TYPE)),
            profile_record(23, 3),
            profile_record(24, 4),
        ]
    }
    await consumer.process(batch)
    letters = dead_letters(consumer)
    assert [(topic, source) for topic, source, _ in letters] == [
        (PROFILE_UPDATED_DLQ.name, f"{P0.topic}:0:{offset}") for offset in (20, 21, 22, 23)
    ]
    reasons = [reason for _, _, reason in letters]
    assert "tombstone" in reasons[0] and "Unknown" in reasons[1] and "ProfileUpdated" in reasons[2]
    assert reasons[3] == "refused: 3"
    assert profiles.calls == [[3, 4]]
    assert consumer.consumer.commits == [{P0: 25}]


async def test_forged_events_are_dead_lettered_with_their_reason_and_the_partition_moves_on():
    """What a client allowed to write the topic could plant: each is refused before any handler sees it."""
    profiles = Handler()
    consumer = consumer_with(profiles)
    envelope = dict(headers(34, PROFILE_TYPE))
    batch = {
        P0: [
            profile_record(30, 2**62),
            profile_record(31, 0),
            profile_record(32, 2, tenant_id="school-a"),
            profile_record(33, 3, student_id=STUDENT.upper()),
            Record(P0.topic, 0, 34, profile_record(34, 4).value, tuple({**envelope, "ce_specversion": b"0.3"}.items())),
            Record(P0.topic, 0, 35, profile_record(35, 5).value, (("ce_type", PROFILE_TYPE.encode()),)),
            profile_record(36, MAX_PROFILE_VERSION),
        ]
    }
    await consumer.process(batch)
    reasons = {source: reason for _, source, reason in dead_letters(consumer)}
    assert reasons == {
        f"{P0.topic}:0:30": f"ProfileUpdated: profile_version must be between 1 and {MAX_PROFILE_VERSION}, got {2**62}",
        f"{P0.topic}:0:31": f"ProfileUpdated: profile_version must be between 1 and {MAX_PROFILE_VERSION}, got 0",
        f"{P0.topic}:0:32": "ProfileUpdated: tenant_id must be a UUID (lowercase, hyphenated), got 'school-a'",
        f"{P0.topic}:0:33": "ProfileUpdated: student_id must be a UUID (lowercase, hyphenated), "
        f"got {STUDENT.upper()!r}",
        f"{P0.topic}:0:34": "ce_specversion must be '1.0', got '0.3'",
        f"{P0.topic}:0:35": "missing CloudEvents header(s) ce_id, ce_source, ce_specversion, content-type",
    }
    assert profiles.calls == [[MAX_PROFILE_VERSION]]
    assert consumer.consumer.commits == [{P0: 37}]


async def test_an_outage_is_waited_out_without_limit_and_nothing_is_dead_lettered():
    profiles = Handler(outages=7)
    consumer = consumer_with(profiles)
    await consumer.process({P0: [profile_record(1, 1), profile_record(2, 2)]})
    assert len(profiles.calls) == 8
    assert consumer.producer.sent == []
    assert consumer.consumer.commits == [{P0: 3}]


async def test_a_message_that_keeps_failing_is_found_dead_lettered_once_and_the_others_are_stored():
    profiles = Handler(bad=frozenset({2}))
    consumer = consumer_with(profiles)
    await consumer.process({P0: [profile_record(1, 1), profile_record(2, 2), profile_record(3, 3)]})
    # Three tries of the batch, then each alone.
    assert profiles.calls == [[1, 2, 3]] * 3 + [[1], [2], [3]]
    [(topic, source, reason)] = dead_letters(consumer)
    assert (topic, source) == (PROFILE_UPDATED_DLQ.name, f"{P0.topic}:0:2")
    assert "ValueError: cannot store this one" in reason and "3 times" in reason
    assert consumer.consumer.commits == [{P0: 4}]


async def test_a_failure_that_passes_is_retried_and_dead_letters_nothing():
    profiles = Handler(bad=frozenset({1}), failures=2)
    consumer = consumer_with(profiles)
    await consumer.process({P0: [profile_record(1, 1)]})
    assert profiles.calls == [[1]] * 3
    assert consumer.producer.sent == [] and consumer.consumer.commits == [{P0: 2}]


async def test_a_batch_whose_dead_letters_cannot_be_sent_is_rewound_and_commits_nothing():
    consumer = consumer_with(Handler(), producer=FakeProducer(fail_times=1))
    batch = {P0: [profile_record(30, 1), Record(P0.topic, 0, 31, None)]}
    try:
        await consumer._process_or_rewind(batch)
    except ConnectionError:
        pass
    else:
        raise AssertionError("the failed send must surface, so the run loop backs off")
    assert consumer.consumer.commits == [] and consumer.consumer.seeks == {P0: 30}


class PollingConsumer(FakeConsumer):
    """Serves one batch, then checks what a rebalance needs: getmany is never called under the lock (aiokafka
    waits there for the new assignment, which waits for the listener, which waits for the lock)."""

    def __init__(self, batches: list[dict], stop: asyncio.Event):
        super().__init__()
        self.batches, self.stop, self.locked_polls = batches, stop, 0
        self.owner: BatchConsumer | None = None

    def subscribe(self, topics, listener):
        self.listener = listener

    async def getmany(self, timeout_ms, max_records):
        self.locked_polls += self.owner.processing.locked()
        if not self.batches:
            self.stop.set()
            return {}
        return self.batches.pop(0)


async def test_the_run_loop_polls_outside_the_lock_and_commits_each_batch():
    stop = asyncio.Event()
    polling = PollingConsumer([{P0: [profile_record(1, 1)]}, {P0: [profile_record(2, 2)]}], stop)
    consumer = consumer_with(Handler())
    consumer.consumer = polling
    polling.owner = consumer
    await asyncio.wait_for(consumer.run(stop), 5)
    assert polling.locked_polls == 0
    assert polling.commits == [{P0: 2}, {P0: 3}]
