"""The ranking service's use cases, between the entrypoints (Kafka worker, gRPC) and the domain.

It owns the catalog held in memory (programs by specialty, public figures), each school's view of it
(its enrichment laid over the catalog, cached briefly), and the model. Scoring runs in a worker thread:
onnxruntime and numpy release the GIL, so the event loop keeps Kafka heartbeats and gRPC calls flowing."""

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from prometheus_client import Counter, Histogram
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_ranking.adapters.messages import generated_event, recommendations_event_id, recommendations_message
from smartpick_ranking.adapters.onnx_model import OnnxModel
from smartpick_ranking.adapters.repository import RankingRepository, StoredResult
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.enrichment import with_facts
from smartpick_ranking.domain.recommend import Recommendation, recommend_many

log = structlog.get_logger(__name__)

FACTS_TTL_SECONDS = 30.0
SCORED = Counter("smartpick_ranking_profiles_scored_total", "Profiles scored by the model", ["kind"])
SCORE_SECONDS = Histogram("smartpick_ranking_score_seconds", "Time to score one batch of profiles")


class UnusableEvent(ValueError):
    """An event this service can never process (it goes to the dead-letter topic with this reason)."""


@dataclass(frozen=True)
class Outcome:
    """What handling one ProfileUpdated gave: the event to publish, or why the message is unusable."""

    published: recommendation_events_pb2.RecommendationsGenerated | None = None
    unusable: str | None = None


def _uuid(field: str, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise UnusableEvent(f"{field} is not a UUID: {value!r}") from None


class RankingService:
    def __init__(
        self,
        repo: RankingRepository,
        model: OnnxModel,
        programs: Sequence[Program],
        stats: Mapping[str, SpecialtyStats],
    ):
        self.repo = repo
        self.model = model
        self.stats = dict(stats)
        self.by_specialty: dict[str, list[Program]] = defaultdict(list)
        for program in programs:
            self.by_specialty[program.specialty].append(program)
        self._views: dict[uuid.UUID, tuple[float, dict[str, list[Program]]]] = {}

    @classmethod
    async def load(cls, repo: RankingRepository, model: OnnxModel) -> "RankingService":
        programs, stats = await repo.load_catalog()
        if not programs:
            raise RuntimeError("the program catalog is empty: run `smartpick-ranking import-catalog` first")
        log.info("catalog loaded", programs=len(programs), specialties=len(stats), model=model.version)
        return cls(repo, model, programs, stats)

    async def view_for(self, tenant_id: uuid.UUID | None) -> Mapping[str, list[Program]]:
        """The catalog as this school sees it: its own facts over the public catalog (None: the public one)."""
        if tenant_id is None:
            return self.by_specialty
        cached = self._views.get(tenant_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        facts = await self.repo.facts(tenant_id)
        view = self.by_specialty
        if facts:
            view = {s: [with_facts(p, facts.get(p.program_id)) for p in ps] for s, ps in self.by_specialty.items()}
        self._views[tenant_id] = (time.monotonic() + FACTS_TTL_SECONDS, view)
        return view

    def forget_view(self, tenant_id: uuid.UUID) -> None:
        self._views.pop(tenant_id, None)

    async def what_if(
        self, tenant_id: uuid.UUID | None, profile: profile_pb2.ApplicantProfile
    ) -> ranking_pb2.Recommendations:
        applicant = Applicant.from_proto(profile)
        (result,) = await asyncio.to_thread(self.score_many, [(applicant, await self.view_for(tenant_id))])
        SCORED.labels("what_if").inc()
        return recommendations_message(str(tenant_id or ""), "", 0, self.model.version, result)

    def score_many(self, requests: Sequence[tuple[Applicant, Mapping[str, list[Program]]]]) -> list[Recommendation]:
        with SCORE_SECONDS.time():
            return recommend_many(requests, self.stats, self.model.predict)

    async def handle_profile_updates(self, events: Sequence[profile_events_pb2.ProfileUpdated]) -> list[Outcome]:
        """Recommendations for each event's profile version, stored once per (student, version).

        The whole batch is scored in one worker-thread call (two model calls in all) and stored in one
        statement per school. A version already stored (a redelivery, or another worker's) is
        re-published as stored, so its event is never lost and never differs."""
        outcomes: list[Outcome | None] = [None] * len(events)
        work = []
        for index, event in enumerate(events):
            try:
                work.append((index, event, *self._parse(event)))
            except UnusableEvent as unusable:
                outcomes[index] = Outcome(unusable=str(unusable))
        if work:
            views = {tenant_id: await self.view_for(tenant_id) for _, _, tenant_id, _, _ in work}
            results = await asyncio.to_thread(
                self.score_many, [(applicant, views[tenant_id]) for _, _, tenant_id, _, applicant in work]
            )
            SCORED.labels("event").inc(len(results))
            messages = [
                recommendations_message(
                    event.tenant_id, event.student_id, event.profile_version, self.model.version, result
                )
                for (_, event, _, _, _), result in zip(work, results, strict=True)
            ]
            rows = [
                (
                    tenant_id,
                    student_id,
                    StoredResult(
                        event.profile_version,
                        self.model.version,
                        recommendations_event_id(event.student_id, event.profile_version),
                        message.SerializeToString(),
                    ),
                )
                for (_, event, tenant_id, student_id, _), message in zip(work, messages, strict=True)
            ]
            inserted = await self.repo.store_results(rows)
            for (index, event, tenant_id, student_id, applicant), message, (_, _, stored), new in zip(
                work, messages, rows, inserted, strict=True
            ):
                if not new:
                    stored = await self.repo.result(tenant_id, student_id, event.profile_version)
                    message = ranking_pb2.Recommendations.FromString(stored.result)
                outcomes[index] = Outcome(
                    published=generated_event(message, list(applicant.specialties), stored.event_id)
                )
        return outcomes

    @staticmethod
    def _parse(event: profile_events_pb2.ProfileUpdated) -> tuple[uuid.UUID, uuid.UUID, Applicant]:
        tenant_id = _uuid("tenant_id", event.tenant_id)
        student_id = _uuid("student_id", event.student_id)
        if event.profile_version <= 0:
            raise UnusableEvent(f"profile_version must be positive, got {event.profile_version}")
        try:
            return tenant_id, student_id, Applicant.from_proto(event.profile)
        except ValueError as invalid:
            raise UnusableEvent(f"profile: {invalid}") from None

    async def recommendations(
        self, tenant_id: uuid.UUID, student_id: uuid.UUID, profile_version: int
    ) -> ranking_pb2.Recommendations | None:
        stored = await self.repo.result(tenant_id, student_id, profile_version)
        return None if stored is None else ranking_pb2.Recommendations.FromString(stored.result)
