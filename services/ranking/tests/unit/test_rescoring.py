"""The re-scoring use case with a fake repository and model: new facts reach the stored result and its event."""

import asyncio
import gc
import uuid

import numpy as np
from smartpick.events.v1 import recommendation_events_pb2
from smartpick.profile.v1 import profile_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_ranking.adapters.repository import RescoreJob, StoredResult
from smartpick_ranking.data import load_fee_schedule
from smartpick_ranking.domain.anchoring import NO_ANCHORS
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.chances import LatentFactor
from smartpick_ranking.domain.enrichment import ProgramFacts
from smartpick_ranking.domain.features import feature_column
from smartpick_ranking.domain.scoring import stacked
from smartpick_ranking.service import RankingService

TENANT, STUDENT = uuid.uuid4(), uuid.uuid4()
PROGRAMS = [Program(f"08000000{i:02d}", f"Derm {i}", "Dermatology", state="CA", positions=2 + i) for i in range(4)]
PROFILE = profile_pb2.ApplicantProfile(
    degree_type=profile_pb2.DEGREE_TYPE_IMG,
    step2_ck_score=250,
    visa_need=profile_pb2.VISA_NEED_H1B,
    preferences=profile_pb2.Preferences(specialties=["Dermatology"], application_budget=4),
)


class FakeModel:
    version = "fake-1"
    factor = LatentFactor.of(0.5)
    anchors = NO_ANCHORS

    def predict(self, rows):
        size = np.nan_to_num(rows[:, feature_column("program_positions")], nan=1)
        return np.full(len(rows), 0.5), size / 20

    def predict_levels(self, blocks):
        return stacked(self.predict)(blocks)


class FakeRepository:
    def __init__(self):
        self.revision = 0
        self.school_facts: dict[str, ProgramFacts] = {}
        self.jobs: list[RescoreJob] = []
        self.stored = StoredResult(1, "fake-1", uuid.uuid4(), b"", 0, PROFILE.SerializeToString())

    async def facts_revisions(self, tenants):
        return {t: self.revision if t == TENANT else 0 for t in tenants}

    async def facts(self, tenant_id):
        return self.school_facts

    async def claim_rescore_jobs(self, limit):
        claimed, self.jobs = self.jobs[:limit], self.jobs[limit:]
        return claimed

    async def result(self, tenant_id, student_id, profile_version):
        return self.stored

    async def replace_result(self, tenant_id, student_id, stored):
        if stored.facts_revision <= self.stored.facts_revision:
            return False
        self.stored = StoredResult(**{**stored.__dict__, "profile": self.stored.profile})
        return True


def service(repo) -> RankingService:
    stats = {"Dermatology": SpecialtyStats("Dermatology", mean_step2ck_matched_usmd=257)}
    return RankingService(repo, FakeModel(), PROGRAMS, stats, load_fee_schedule())


def test_new_facts_rescore_the_stored_profile_and_say_why():
    repo = FakeRepository()
    ranking = service(repo)
    repo.revision = 1
    repo.school_facts = {PROGRAMS[3].program_id: ProgramFacts(PROGRAMS[3].program_id, sponsors_h1b=False)}
    repo.jobs = [RescoreJob(TENANT, STUDENT, 1, 1)]
    [(job, event)] = asyncio.run(ranking.rescore_pending(10))
    assert job.profile_version == 1
    assert event.cause == recommendation_events_pb2.RECOMMENDATION_CAUSE_PROGRAM_FACTS_CHANGED
    listed = [p.program_id for p in event.application_list]
    assert PROGRAMS[3].program_id not in listed and len(listed) == 3
    stored = ranking_pb2.Recommendations.FromString(repo.stored.result)
    assert repo.stored.facts_revision == 1 and [p.program_id for p in stored.application_list] == listed
    assert stored.excluded == {"no sponsorship of the visa you need": 1}


def test_a_result_already_as_new_publishes_nothing():
    repo = FakeRepository()
    ranking = service(repo)
    repo.jobs = [RescoreJob(TENANT, STUDENT, 1, 0)]
    [(_, event)] = asyncio.run(ranking.rescore_pending(10))
    assert event is None


def test_the_view_follows_the_facts_revision_not_a_clock():
    repo = FakeRepository()
    ranking = service(repo)
    first = asyncio.run(ranking.views_for([TENANT]))[TENANT]
    assert first[0] == 0 and first[1]["Dermatology"][3].sponsors_h1b is None
    repo.revision = 1
    repo.school_facts = {PROGRAMS[3].program_id: ProgramFacts(PROGRAMS[3].program_id, sponsors_h1b=False)}
    second = asyncio.run(ranking.views_for([TENANT]))[TENANT]
    assert second[0] == 1 and second[1]["Dermatology"][3].sponsors_h1b is False


def test_a_schools_new_view_is_taken_out_of_the_cyclic_collectors_generations():
    repo = FakeRepository()
    ranking = service(repo)
    gc.unfreeze()
    asyncio.run(ranking.views_for([TENANT]))  # no facts: the public catalog, nothing new to keep
    assert gc.get_freeze_count() == 0
    repo.revision = 1
    repo.school_facts = {PROGRAMS[3].program_id: ProgramFacts(PROGRAMS[3].program_id, sponsors_h1b=False)}
    asyncio.run(ranking.views_for([TENANT]))
    assert gc.get_freeze_count() > 0
    gc.unfreeze()


def test_the_rescoring_loop_waits_out_a_database_outage():
    """A PostgreSQL restart must not end the loop (it is a watched task: ending would stop the worker)."""
    from smartpick_ranking.entrypoints import rescore

    class Flaky:
        calls = 0

        async def rescore_pending(self, limit):
            Flaky.calls += 1
            if Flaky.calls < 3:
                raise ConnectionRefusedError(111, "Connect call failed")
            raise asyncio.CancelledError

    loop = rescore.Rescorer(Flaky(), producer=None, idle_seconds=0)
    try:
        asyncio.run(loop.run())
    except asyncio.CancelledError:
        pass
    assert Flaky.calls == 3
