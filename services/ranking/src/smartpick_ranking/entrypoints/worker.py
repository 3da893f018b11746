"""Ranking worker: one member of the `smartpick-ranking` consumer group on ProfileUpdated.

It only wires the platform's batch consumer to the service layer: each batch's ProfileUpdated events go to
`RankingService.handle_profile_updates`, the resulting RecommendationsGenerated events are published
(acks=all), and only then does the consumer commit. Retries, the dead-letter topic (tombstones, bytes that
do not parse, events the service cannot use, messages that keep failing) and rebalances are the platform
consumer's. A crash before the commit means the batch is read again, which the service layer makes
harmless (one stored result per student and version, re-published with the same event id)."""

import asyncio
import signal
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import Counter
from smartpick.events.v1 import profile_events_pb2

from smartpick_platform import kafka
from smartpick_platform.consumer import BatchConsumer, Delivery, EventHandler
from smartpick_platform.telemetry import TRACE_HEADER
from smartpick_platform.topics import PROFILE_UPDATED, PROFILE_UPDATED_DLQ, RECOMMENDATIONS_GENERATED
from smartpick_ranking.adapters.messages import EVENT_SOURCE, RECOMMENDATIONS_GENERATED_TYPE
from smartpick_ranking.service import RankingService

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
        self.producer = producer
        self.consumer = BatchConsumer(
            consumer,
            producer,
            GROUP_ID,
            topics=[PROFILE_UPDATED],
            dead_letters={PROFILE_UPDATED.name: PROFILE_UPDATED_DLQ},
            handlers=[EventHandler(profile_events_pb2.ProfileUpdated, self.handle_profile_updates)],
            batch_size=batch_size,
        )

    @property
    def running(self) -> bool:
        return self.consumer.running

    async def run(self) -> None:
        """Consumes until cancelled."""
        await self.consumer.run()

    async def handle_profile_updates(self, deliveries: Sequence[Delivery]) -> list[str | None]:
        """Recommendations for each event, published before the batch is committed; None when done, else
        why the event is unusable."""
        outcomes = await self.service.handle_profile_updates([d.event for d in deliveries])
        reasons, sent = [], []
        for delivery, outcome in zip(deliveries, outcomes, strict=True):
            if outcome.unusable is not None:
                MESSAGES.labels("unusable").inc()
                reasons.append(outcome.unusable)
                continue
            published = outcome.published
            sent.append(
                await self.producer.send(
                    RECOMMENDATIONS_GENERATED.name,
                    value=published.SerializeToString(),
                    key=published.student_id.encode(),
                    headers=kafka.cloudevent_headers(
                        event_id=published.event_id,
                        event_type=RECOMMENDATIONS_GENERATED_TYPE,
                        source=EVENT_SOURCE,
                        trace_id=delivery.headers.get(TRACE_HEADER),
                    ),
                )
            )
            MESSAGES.labels("recommended").inc()
            reasons.append(None)
        await asyncio.gather(*sent)
        return reasons


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
