"""The platform's producer puts many large events in one batch, so a send does not wait for each one before it."""

from aiokafka import AIOKafkaProducer

from smartpick_platform.kafka import create_producer

# About the size of a RecommendationsGenerated of a whole specialty (21 KiB on average, 37 KiB at most).
LARGE_EVENT = b"x" * 37_000


async def _events_in_one_batch(producer: AIOKafkaProducer) -> int:
    try:
        batch, count = producer.create_batch(), 0
        while batch.append(key=b"student", value=LARGE_EVENT, timestamp=None) is not None:
            count += 1
        return count
    finally:
        await producer.stop()


async def test_a_batch_holds_many_whole_specialty_events():
    assert await _events_in_one_batch(create_producer("127.0.0.1:9", "test")) >= 10


async def test_with_aiokafkas_default_a_second_large_event_would_wait_for_the_first():
    """What the setting fixes: at the default 16 KiB the batch is full after one such event."""
    assert await _events_in_one_batch(AIOKafkaProducer(bootstrap_servers="127.0.0.1:9")) == 1
