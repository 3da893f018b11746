"""Domain results to and from the contracts (ranking.v1, events.v1)."""

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.events.v1 import recommendation_events_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_ranking.domain.catalog import Program
from smartpick_ranking.domain.recommend import DISCLAIMER, Recommendation
from smartpick_ranking.domain.tiers import Tier

EVENT_NAMESPACE = uuid.UUID("0b6f3e59-54c4-4f3f-8a5e-2f6b1c9a7d21")
RECOMMENDATIONS_GENERATED_TYPE = "smartpick.events.v1.RecommendationsGenerated"
EVENT_SOURCE = "/smartpick/ranking"
TIERS = {Tier.REACH: ranking_pb2.TIER_REACH, Tier.TARGET: ranking_pb2.TIER_TARGET, Tier.LIKELY: ranking_pb2.TIER_LIKELY}


def recommendations_event_id(student_id: str, profile_version: int) -> uuid.UUID:
    """One id per (student, profile version): a redelivered or re-published result keeps its id."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{student_id}/{profile_version}")


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.now(UTC))
    return ts


def program_message(program: Program) -> ranking_pb2.Program:
    optional = {
        name: getattr(program, name)
        for name in ("latitude", "longitude", "positions", "sponsors_visa", "img_share", "do_share")
        if getattr(program, name) is not None
    }
    return ranking_pb2.Program(
        program_id=program.program_id,
        name=program.name,
        specialty=program.specialty,
        city=program.city or "",
        state=program.state or "",
        program_type=program.program_type or "",
        **optional,
    )


def recommendations_message(
    tenant_id: str, student_id: str, profile_version: int, model_version: str, result: Recommendation
) -> ranking_pb2.Recommendations:
    return ranking_pb2.Recommendations(
        tenant_id=tenant_id,
        student_id=student_id,
        profile_version=profile_version,
        model_version=model_version,
        application_list=[
            ranking_pb2.ProgramRecommendation(
                program_id=s.program.program_id,
                name=s.program.name,
                specialty=s.program.specialty,
                city=s.program.city or "",
                state=s.program.state or "",
                interview_probability=s.interview_probability,
                match_probability=s.match_probability,
                tier=TIERS[s.tier],
                reasons=[ranking_pb2.Reason(feature=r.feature, text=r.text, effect=r.effect) for r in s.reasons],
            )
            for s in result.application_list
        ],
        list_match_probability=result.list_match_probability,
        curve=[ranking_pb2.CurvePoint(applications=k + 1, match_probability=p) for k, p in enumerate(result.curve)],
        excluded=result.excluded,
        create_time=_now(),
        disclaimer=DISCLAIMER,
    )


def generated_event(
    recommendations: ranking_pb2.Recommendations, specialties: list[str], event_id: uuid.UUID
) -> recommendation_events_pb2.RecommendationsGenerated:
    return recommendation_events_pb2.RecommendationsGenerated(
        event_id=str(event_id),
        tenant_id=recommendations.tenant_id,
        student_id=recommendations.student_id,
        profile_version=recommendations.profile_version,
        model_version=recommendations.model_version,
        occur_time=_now(),
        specialties=specialties,
        application_list=recommendations.application_list,
        list_match_probability=recommendations.list_match_probability,
    )
