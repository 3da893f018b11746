"""The ranking service's use cases, between the entrypoints (Kafka worker, gRPC) and the domain.

It owns the catalog held in memory (programs by specialty, public figures), each school's view of it
(its facts laid over the catalog, cached by the school's facts revision, which every batch checks, so a
result computed after new facts are stored always uses them), and the model. Scoring runs in a worker thread:
onnxruntime and numpy release the GIL, so the event loop keeps Kafka heartbeats and gRPC calls flowing."""

import asyncio
import dataclasses
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from prometheus_client import Counter, Histogram
from smartpick.events.v1 import profile_events_pb2, recommendation_events_pb2
from smartpick.events.v1.recommendation_events_pb2 import RECOMMENDATION_CAUSE_PROGRAM_FACTS_CHANGED
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_platform import heap
from smartpick_ranking.adapters.messages import (
    generated_event,
    recommendations_event_id,
    recommendations_message,
    rescored_event_id,
    specialty_message,
)
from smartpick_ranking.adapters.onnx_model import OnnxModel
from smartpick_ranking.adapters.repository import RankingRepository, RescoreJob, StoredResult
from smartpick_ranking.data import load_fee_schedule
from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.cost import FeeSchedule
from smartpick_ranking.domain.enrichment import with_facts
from smartpick_ranking.domain.known_gaps import KnownGaps
from smartpick_ranking.domain.preferences import City, catalog_cities, size_bands
from smartpick_ranking.domain.recommend import Recommendation, recommend_many

log = structlog.get_logger(__name__)

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
        fees: FeeSchedule,
        gaps: KnownGaps | None = None,
    ):
        self.repo = repo
        self.gaps = gaps or KnownGaps({})
        self.model = model
        self.fees = fees
        self.stats = dict(stats)
        self.by_specialty: dict[str, list[Program]] = defaultdict(list)
        for program in programs:
            self.by_specialty[program.specialty].append(program)
        # Home cities and program sizes are read against the public catalog, whatever a school's facts say.
        self.cities: dict[str, City] = catalog_cities(programs)
        self.sizes = size_bands(programs)
        self._views: dict[uuid.UUID, tuple[int, Mapping[str, list[Program]]]] = {}

    @classmethod
    async def load(cls, repo: RankingRepository, model: OnnxModel, gaps: KnownGaps | None = None) -> "RankingService":
        programs, stats = await repo.load_catalog()
        if not programs:
            raise RuntimeError("the program catalog is empty: run `smartpick-ranking import-catalog` first")
        log.info("catalog loaded", programs=len(programs), specialties=len(stats), model=model.version)
        return cls(repo, model, programs, stats, load_fee_schedule(), gaps)

    async def views_for(
        self, tenant_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[int, Mapping[str, list[Program]]]]:
        """Each school's (facts revision, catalog as it sees it): its own facts over the public catalog."""
        revisions = await self.repo.facts_revisions(list(dict.fromkeys(tenant_ids)))
        views = {}
        for tenant_id, revision in revisions.items():
            cached = self._views.get(tenant_id)
            if cached is None or cached[0] != revision:
                facts = await self.repo.facts(tenant_id) if revision else {}
                view = self.by_specialty
                if facts:
                    view = {
                        s: [with_facts(p, facts.get(p.program_id)) for p in ps] for s, ps in self.by_specialty.items()
                    }
                cached = self._views[tenant_id] = (revision, view)
                if facts:
                    # Kept until the school's facts change: else each full collection walks its thousands of
                    # programs again, inside a batch (a view has no reference cycles: replaced, it is freed).
                    heap.freeze_long_lived()
            views[tenant_id] = cached
        return views

    def specialties(self) -> list[ranking_pb2.Specialty]:
        """Every specialty of the catalog with its public figures (what ListSpecialties answers)."""
        return [
            specialty_message(name, len(programs), self.stats.get(name))
            for name, programs in sorted(self.by_specialty.items())
        ]

    async def what_if(
        self, tenant_id: uuid.UUID | None, profile: profile_pb2.ApplicantProfile
    ) -> ranking_pb2.Recommendations:
        """Scores a hypothetical profile now; no tenant scores against the public catalog alone."""
        applicant = self.applicant_of(profile)
        view = self.by_specialty if tenant_id is None else (await self.views_for([tenant_id]))[tenant_id][1]
        (result,) = await asyncio.to_thread(self.score_many, [(applicant, view)])
        SCORED.labels("what_if").inc()
        return recommendations_message(str(tenant_id or ""), "", 0, self.model.version, result)

    def score_many(self, requests: Sequence[tuple[Applicant, Mapping[str, list[Program]]]]) -> list[Recommendation]:
        with SCORE_SECONDS.time():
            model = self.model
            results = recommend_many(
                requests,
                self.stats,
                model.predict,
                model.factor,
                self.fees,
                self.sizes,
                model.predict_levels,
                anchors=model.anchors,
            )
        # What the model's own check against NRMP found for this student's cohort, beside the chance.
        return [
            dataclasses.replace(result, notes=(*result.notes, *self.gaps.notes(applicant)))
            for result, (applicant, _) in zip(results, requests, strict=True)
        ]

    def applicant_of(self, profile: profile_pb2.ApplicantProfile) -> Applicant:
        """The profile's applicant with its home city placed on the catalog's map (left unplaced, and said
        so in the list's notes, when the catalog does not know the city)."""
        applicant = Applicant.from_proto(profile)
        city = self.cities.get(applicant.home_city or "")
        return applicant if city is None else dataclasses.replace(applicant, home=(city.latitude, city.longitude))

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
            views = await self.views_for([tenant_id for _, _, tenant_id, _, _ in work])
            results = await asyncio.to_thread(
                self.score_many, [(applicant, views[tenant_id][1]) for _, _, tenant_id, _, applicant in work]
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
                        facts_revision=views[tenant_id][0],
                        profile=event.profile.SerializeToString(),
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

    def _parse(self, event: profile_events_pb2.ProfileUpdated) -> tuple[uuid.UUID, uuid.UUID, Applicant]:
        tenant_id = _uuid("tenant_id", event.tenant_id)
        student_id = _uuid("student_id", event.student_id)
        if event.profile_version <= 0:
            raise UnusableEvent(f"profile_version must be positive, got {event.profile_version}")
        try:
            return tenant_id, student_id, self.applicant_of(event.profile)
        except ValueError as invalid:
            raise UnusableEvent(f"profile: {invalid}") from None

    async def recommendations(
        self, tenant_id: uuid.UUID, student_id: uuid.UUID, profile_version: int
    ) -> ranking_pb2.Recommendations | None:
        stored = await self.repo.result(tenant_id, student_id, profile_version)
        return None if stored is None else ranking_pb2.Recommendations.FromString(stored.result)

    async def rescore_pending(
        self, limit: int
    ) -> list[tuple[RescoreJob, recommendation_events_pb2.RecommendationsGenerated | None]]:
        """Results made stale by new program facts, scored again with the school's current facts and
        stored; each with the event to publish (None: nothing to publish, a newer result is stored)."""
        jobs = await self.repo.claim_rescore_jobs(limit)
        if not jobs:
            return []
        views = await self.views_for([job.tenant_id for job in jobs])
        found = []
        for job in jobs:
            stored = await self.repo.result(job.tenant_id, job.student_id, job.profile_version)
            if stored is None or stored.profile is None or stored.profile_version != job.profile_version:
                found.append((job, None, None))
                continue
            profile = profile_pb2.ApplicantProfile.FromString(stored.profile)
            found.append((job, stored, self.applicant_of(profile)))
        scorable = [(job, applicant) for job, _, applicant in found if applicant is not None]
        results = await asyncio.to_thread(
            self.score_many, [(applicant, views[job.tenant_id][1]) for job, applicant in scorable]
        )
        SCORED.labels("facts_changed").inc(len(results))
        events = {}
        for (job, applicant), result in zip(scorable, results, strict=True):
            revision = views[job.tenant_id][0]
            student, version = str(job.student_id), job.profile_version
            message = recommendations_message(str(job.tenant_id), student, version, self.model.version, result)
            event_id = rescored_event_id(student, version, revision)
            fresh = StoredResult(version, self.model.version, event_id, message.SerializeToString(), revision)
            if await self.repo.replace_result(job.tenant_id, job.student_id, fresh):
                events[job.student_id, version] = generated_event(
                    message, list(applicant.specialties), event_id, RECOMMENDATION_CAUSE_PROGRAM_FACTS_CHANGED
                )
        return [(job, events.get((job.student_id, job.profile_version))) for job, _, _ in found]
