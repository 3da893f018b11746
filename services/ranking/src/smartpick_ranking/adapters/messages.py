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
    message = ranking_pb2.Recommendations(
        tenant_id=tenant_id,
        student_id=student_id,
        profile_version=profile_version,
        model_version=model_version,
        list_match_probability=result.list_match_probability,
        excluded=result.excluded,
        create_time=_now(),
        disclaimer=DISCLAIMER,
    )
    # Entries are added in place: building each one apart and then passing the list would copy it again.
    for scored in result.application_list:
        program = scored.program
        entry = message.application_list.add(
            program_id=program.program_id,
            name=program.name,
            specialty=program.specialty,
            city=program.city or "",
            state=program.state or "",
            interview_probability=scored.interview_probability,
            match_probability=scored.match_probability,
            tier=TIERS[scored.tier],
        )
        for reason in scored.reasons:
            entry.reasons.add(feature=reason.feature, text=reason.text, effect=reason.effect)
    for applications, probability in enumerate(result.curve, start=1):
        message.curve.add(applications=applications, match_probability=probability)
    return message


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
