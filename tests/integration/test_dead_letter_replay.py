"""The runbook's dead-letter replay on the real broker: a parked message goes back to its source topic once,
without the dead-letter headers, however often the replay runs."""

import os
import subprocess
import sys
import uuid

from aiokafka import AIOKafkaProducer
from support import read_topic

from smartpick_platform.kafka import header_map
from smartpick_platform.topics import MENTORSHIP_MATCHED, RECOMMENDATIONS_GENERATED_DLQ

DLQ = RECOMMENDATIONS_GENERATED_DLQ.name


def dead_letters(command: str, endpoints) -> str:
    """The operator's command, run with the broker admin's settings as the runbook says."""
    done = subprocess.run(
        [sys.executable, "-m", "smartpick_platform.dead_letters", command, DLQ],
        env={**os.environ, **endpoints.kafka_environment()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_a_dead_letter_is_replayed_to_its_source_once(stack):
    key = f"replay-{uuid.uuid4()}"
    producer = AIOKafkaProducer(**stack.endpoints.kafka_options())
    await producer.start()
    try:
        await producer.send_and_wait(
            RECOMMENDATIONS_GENERATED_DLQ.name,
            value=b"payload",
            key=key.encode(),
            headers=[
                ("ce_id", key.encode()),
                ("x-dlq-reason", b"cannot be processed: test"),
                ("x-dlq-source", f"{MENTORSHIP_MATCHED.name}:0:5".encode()),
                ("x-dlq-group", b"smartpick-test"),
            ],
        )
    finally:
        await producer.stop()

    assert f"event {key}  reason: cannot be processed: test" in dead_letters("list", stack.endpoints)
    dead_letters("replay", stack.endpoints)
    dead_letters("replay", stack.endpoints)  # again: nothing it already sent goes twice

    replayed = await read_topic(stack.endpoints, MENTORSHIP_MATCHED.name, key, expect=1)
    assert len(replayed) == 1 and replayed[0].value == b"payload"
    headers = header_map(replayed[0].headers)
    assert headers["ce_id"] == key and headers["x-dlq-replayed-from"].startswith(RECOMMENDATIONS_GENERATED_DLQ.name)
    assert not {"x-dlq-reason", "x-dlq-source", "x-dlq-group"} & headers.keys()
