"""`python -m smartpick_platform.dead_letters list|replay TOPIC.dlq`: what was dead-lettered and why, and putting
it back on the topic it came from once the cause is fixed (docs/operations.md, "Replay the dead-letter topic").

Replaying is safe to repeat: the consumers are idempotent on (student, version), so a message that reaches them
twice has one effect. `replay` reads as its own consumer group (smartpick-dlq-replay) and commits only after
the batch it re-sent is acknowledged, so a replay run again sends only what the last one did not finish."""

import argparse
import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from smartpick_platform.kafka import create_consumer, create_producer, header_map, partition_count, security_options
from smartpick_platform.settings import PlatformSettings

REPLAY_GROUP = "smartpick-dlq-replay"
DLQ_HEADERS = {"x-dlq-reason", "x-dlq-source", "x-dlq-group"}


def original(record) -> tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]:
    """(topic, key, value, headers) of the message as it was before it was dead-lettered, marked as replayed."""
    headers = list(record.headers or ())
    source = header_map(headers).get("x-dlq-source")
    if not source:
        raise ValueError(f"{record.topic}:{record.partition}:{record.offset} has no x-dlq-source header")
    topic = source.rsplit(":", 2)[0]
    kept = [(k, v) for k, v in headers if k not in DLQ_HEADERS]
    kept.append(("x-dlq-replayed-from", f"{record.topic}:{record.partition}:{record.offset}".encode()))
    return topic, record.key, record.value, kept


async def _read_to_end(consumer: AIOKafkaConsumer, handle) -> int:
    """Hands every batch to `handle` until the consumer has reached the end offsets it found on joining."""
    seen, ends = 0, None
    while True:
        batch = await consumer.getmany(timeout_ms=1000, max_records=500)
        records = [r for tp in sorted(batch, key=lambda tp: tp.partition) for r in batch[tp]]
        if records:
            await handle(records)
            seen += len(records)
        partitions = consumer.assignment()
        if not partitions:
            continue  # still joining the group
        if ends is None:
            ends = await consumer.end_offsets(list(partitions))
        positions = [await consumer.position(tp) for tp in partitions]
        if all(position >= ends.get(tp, 0) for tp, position in zip(partitions, positions, strict=True)):
            return seen


async def list_dead_letters(bootstrap: str, topic: str) -> int:
    try:
        count = await partition_count(bootstrap, topic)
    except LookupError as error:
        raise SystemExit(str(error)) from None
    consumer = AIOKafkaConsumer(**security_options(), bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)

        async def show(records) -> None:
            for record in records:
                headers = header_map(record.headers)
                print(
                    f"{record.partition}:{record.offset}  from {headers.get('x-dlq-source')}  "
                    f"by {headers.get('x-dlq-group')}  event {headers.get('ce_id')}  "
                    f"reason: {headers.get('x-dlq-reason')}"
                )

        return await _read_to_end(consumer, show)
    finally:
        await consumer.stop()


async def replay(bootstrap: str, topic: str) -> int:
    consumer = create_consumer(bootstrap, REPLAY_GROUP, REPLAY_GROUP)
    producer = create_producer(bootstrap, REPLAY_GROUP)
    await consumer.start()
    await producer.start()
    try:
        consumer.subscribe([topic])

        async def resend(records) -> None:
            deliveries = []
            for record in records:
                target, key, value, headers = original(record)
                deliveries.append(await producer.send(target, value=value, key=key, headers=headers))
            await asyncio.gather(*deliveries)
            await consumer.commit()

        return await _read_to_end(consumer, resend)
    finally:
        await producer.stop()
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("topic", help="a dead-letter topic, e.g. smartpick.profile-updated.v1.dlq")
    parser.add_argument("--bootstrap", default=PlatformSettings().kafka_bootstrap)
    args = parser.parse_args()
    if not args.topic.endswith(".dlq"):
        parser.error(f"{args.topic} is not a dead-letter topic (those end in .dlq)")
    count = asyncio.run((list_dead_letters if args.command == "list" else replay)(args.bootstrap, args.topic))
    print(f"{args.command}: {count} message(s) of {args.topic}")


if __name__ == "__main__":
    main()
