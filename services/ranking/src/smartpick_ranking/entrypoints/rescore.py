"""Re-scoring after a school's program facts change: a loop beside each worker's consumer.

It claims queued results (the queue is written in the facts' own transaction, so none is lost), scores them
again with the school's current facts through the service layer, publishes each new
RecommendationsGenerated (cause PROGRAM_FACTS_CHANGED, acks=all) and only then ends its job. A crash
between the publish and the end re-publishes the same event id, which readers treat as one."""

import asyncio

import structlog
from aiokafka import AIOKafkaProducer

from smartpick_platform import kafka
from smartpick_platform.consumer import OUTAGE, backoff_seconds
from smartpick_platform.topics import RECOMMENDATIONS_GENERATED
from smartpick_ranking.adapters.messages import EVENT_SOURCE, RECOMMENDATIONS_GENERATED_TYPE
from smartpick_ranking.service import RankingService

log = structlog.get_logger(__name__)


class Rescorer:
    def __init__(
        self, service: RankingService, producer: AIOKafkaProducer, batch_size: int = 20, idle_seconds: float = 1.0
    ):
        self.service = service
        self.producer = producer
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds

    async def run(self) -> None:
        """Re-scores until cancelled, waiting `idle_seconds` whenever nothing is queued; an outage of the
        database or the broker is waited out as the consumer beside it waits it out."""
        outages = 0
        while True:
            try:
                done = await self.once()
                outages = 0
            except OUTAGE as error:
                outages += 1
                log.warning("re-scoring waiting out an outage", error=repr(error), attempt=outages)
                await asyncio.sleep(backoff_seconds(outages))
                continue
            if not done:
                await asyncio.sleep(self.idle_seconds)

    async def once(self) -> int:
        """One batch of queued re-scorings; returns how many jobs it ended."""
        done = await self.service.rescore_pending(self.batch_size)
        deliveries = [
            await self.producer.send(
                RECOMMENDATIONS_GENERATED.name,
                value=event.SerializeToString(),
                key=event.student_id.encode(),
                headers=kafka.cloudevent_headers(
                    event_id=event.event_id, event_type=RECOMMENDATIONS_GENERATED_TYPE, source=EVENT_SOURCE
                ),
            )
            for _, event in done
            if event is not None
        ]
        await asyncio.gather(*deliveries)
        for job, _ in done:
            await self.service.repo.finish_rescore_job(job)
        if done:
            log.info("re-scored after new program facts", jobs=len(done), published=len(deliveries))
        return len(done)
