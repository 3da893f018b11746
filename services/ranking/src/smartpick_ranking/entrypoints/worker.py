"""Ranking worker: one member of the `smartpick-ranking` consumer group on ProfileUpdated.

It only parses and dispatches: each batch is handed to the service layer, the resulting events are
published (acks=all), unusable messages go to the dead-letter topic, and only then are the offsets
committed. A crash anywhere before the commit means the batch is read again, which the service layer
makes harmless (one stored result per student and version, re-published with the same event id)."""

import asyncio
import signal

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from google.protobuf.message import DecodeError
from prometheus_client import Counter
from smartpick.events.v1 import profile_events_pb2

from smartpick_platform import kafka
from smartpick_platform.telemetry import TRACE_HEADER, set_trace_id
from smartpick_platform.topics import PROFILE_UPDATED, PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED
from smartpick_ranking.adapters.messages import EVENT_SOURCE, RECOMMENDATIONS_GENERATED_TYPE
from smartpick_ranking.service import Outcome, RankingService

log = structlog.get_logger(__name__)

GROUP_ID = "smartpick-ranking"
MESSAGES = Counter("smartpick_ranking_messages_total", "ProfileUpdated messages handled", ["outcome"])


class RankingWorker:
    def __init__(
        self,
        service: RankingService,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        batch_size: int = 50,
    ):
        self.service = service
        self.consumer = consumer
        self.producer = producer
        self.batch_size = batch_size
        self.processing = asyncio.Lock()
        self.running = False

    async def run(self, stop: asyncio.Event) -> None:
        kafka.subscribe(self.consumer, [PROFILE_UPDATED], self.processing)
        self.running = True
        while not stop.is_set():
            batch = await self.consumer.getmany(timeout_ms=500, max_records=self.batch_size)
            records = [record for partition in batch.values() for record in partition]
            if records:
                async with self.processing:
                    await self.process(records)
                    await self.consumer.commit()
        self.running = False

    async def process(self, records) -> None:
        events, deliveries = [], []
        for record in records:
            try:
                events.append((record, profile_events_pb2.ProfileUpdated.FromString(record.value)))
            except DecodeError as error:
                deliveries.append(await self._dead_letter(record, f"not a ProfileUpdated message: {error}"))
        outcomes: list[Outcome] = await self.service.handle_profile_updates([event for _, event in events])
        for (record, _event), outcome in zip(events, outcomes, strict=True):
            if outcome.unusable is not None:
                deliveries.append(await self._dead_letter(record, outcome.unusable))
                continue
            headers = kafka.header_map(record.headers)
            set_trace_id(headers.get(TRACE_HEADER))
            published = outcome.published
            deliveries.append(
                await self.producer.send(
                    RECOMMENDATIONS_GENERATED.name,
                    value=published.SerializeToString(),
                    key=published.student_id.encode(),
                    headers=kafka.cloudevent_headers(
                        event_id=published.event_id,
                        event_type=RECOMMENDATIONS_GENERATED_TYPE,
                        source=EVENT_SOURCE,
                        trace_id=headers.get(TRACE_HEADER),
                    ),
                )
            )
            MESSAGES.labels("recommended").inc()
        await asyncio.gather(*deliveries)

    async def _dead_letter(self, record, reason: str):
        MESSAGES.labels("dead_lettered").inc()
        return await kafka.send_to_dead_letter(self.producer, record, PROFILE_UPDATED_DLQ, reason, GROUP_ID)


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
