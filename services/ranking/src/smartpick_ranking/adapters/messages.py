"""Domain results to and from the contracts (ranking.v1, events.v1)."""

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from smartpick.events.v1 import recommendation_events_pb2
from smartpick.ranking.v1 import ranking_pb2

from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.optimize import NONE, SECOND, TOP
from smartpick_ranking.domain.preferences import City
from smartpick_ranking.domain.recommend import DISCLAIMER, Recommendation
from smartpick_ranking.domain.tiers import Tier

EVENT_NAMESPACE = uuid.UUID("0b6f3e59-54c4-4f3f-8a5e-2f6b1c9a7d21")
RECOMMENDATIONS_GENERATED_TYPE = "smartpick.events.v1.RecommendationsGenerated"
EVENT_SOURCE = "/smartpick/ranking"
TIERS = {Tier.REACH: ranking_pb2.TIER_REACH, Tier.TARGET: ranking_pb2.TIER_TARGET, Tier.LIKELY: ranking_pb2.TIER_LIKELY}
SIGNALS = {
    NONE: ranking_pb2.SIGNAL_LEVEL_NONE,
    TOP: ranking_pb2.SIGNAL_LEVEL_TOP,
    SECOND: ranking_pb2.SIGNAL_LEVEL_SECOND,
}
DATA_VINTAGE = (
    "program facts 2021 (Internal Medicine 2025); interview rates by signal, ERAS 2024; Match rates by "
    "Step 2 CK band 2020-2024; specialty figures 2022-2025; ERAS fees 2026"
)
# The Program message's optional fields: each is a Program attribute of the same name, unset when unknown.
OPTIONAL_PROGRAM_FIELDS = tuple(
    f.name for f in ranking_pb2.Program.DESCRIPTOR.fields if f.has_presence and f.message_type is None
)


def recommendations_event_id(student_id: str, profile_version: int) -> uuid.UUID:
    """One id per (student, profile version): a redelivered or re-published result keeps its id."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{student_id}/{profile_version}")


def rescored_event_id(student_id: str, profile_version: int, facts_revision: int) -> uuid.UUID:
    """One id per (student, profile version, school facts revision): a re-scoring redone keeps its id."""
    return uuid.uuid5(EVENT_NAMESPACE, f"{student_id}/{profile_version}/facts-{facts_revision}")


def _now() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.now(UTC))
    return ts


def program_message(program: Program) -> ranking_pb2.Program:
    optional = {name: getattr(program, name) for name in OPTIONAL_PROGRAM_FIELDS if getattr(program, name) is not None}
    return ranking_pb2.Program(
        program_id=program.program_id,
        name=program.name,
        specialty=program.specialty,
        city=program.city or "",
        state=program.state or "",
        program_type=program.program_type or "",
        fact_sources=[ranking_pb2.FactSource(facts=f, source=source) for f, source in program.provenance],
        **optional,
    )


def recommendations_message(
    tenant_id: str, student_id: str, profile_version: int, model_version: str, result: Recommendation
) -> ranking_pb2.Recommendations:
    low, high = result.list_interval
    message = ranking_pb2.Recommendations(
        tenant_id=tenant_id,
        student_id=student_id,
        profile_version=profile_version,
        model_version=model_version,
        list_match_probability=result.list_match_probability,
        list_match_probability_interval=ranking_pb2.Interval(low=low, high=high),
        excluded=result.excluded,
        create_time=_now(),
        disclaimer=DISCLAIMER,
        expected_interviews=result.expected_interviews,
        diminishing_returns_at=result.plateau,
        signal_plan=ranking_pb2.SignalPlan(
            top_used=result.top_signals[0],
            top_available=result.top_signals[1],
            second_used=result.second_signals[0],
            second_available=result.second_signals[1],
            planned=result.signals_planned,
        ),
        notes=result.notes,
        list_cost_usd=result.curve_cost_usd[-1] if result.curve_cost_usd else 0.0,
        fee_schedule=result.fee_schedule,
        candidate_programs=result.candidates,
        data_vintage=DATA_VINTAGE,
    )
    for reason in result.top_reasons:
        message.top_reasons.add(feature=reason.feature, text=reason.text, effect=reason.effect)
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
            match_probability=scored.admission_probability,
            tier=TIERS[scored.tier],
            signal=SIGNALS[scored.signal],
        )
        entry.match_probability_interval.low, entry.match_probability_interval.high = scored.admission_interval
        for facts, source in program.provenance:
            entry.fact_sources.add(facts=facts, source=source)
        for reason in scored.reasons:
            entry.reasons.add(feature=reason.feature, text=reason.text, effect=reason.effect)
    for applications, (probability, cost) in enumerate(zip(result.curve, result.curve_cost_usd, strict=True), start=1):
        message.curve.add(applications=applications, match_probability=probability, cost_usd=cost)
    return message


def generated_event(
    recommendations: ranking_pb2.Recommendations,
    specialties: list[str],
    event_id: uuid.UUID,
    cause: int = recommendation_events_pb2.RECOMMENDATION_CAUSE_PROFILE_UPDATED,
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
        cause=cause,
    )


def specialty_message(name: str, catalog_programs: int, stats: SpecialtyStats | None) -> ranking_pb2.Specialty:
    if stats is None:
        return ranking_pb2.Specialty(name=name, catalog_programs=catalog_programs, sources="no public figures")
    figures = {
        "positions": stats.positions_2025,
        "fill_rate_percent": stats.fill_rate_2025,
        "usmd_share_percent": stats.pct_positions_filled_by_usmd_seniors_2025,
        "mean_step2ck_matched_usmd": stats.mean_step2ck_matched_usmd,
        "mean_research_items_matched": stats.mean_research_items_matched,
        "top_signals": stats.gold_signals,
        "second_signals": stats.silver_signals,
        "mean_applications": stats.mean_applications_usmd,
    }
    return ranking_pb2.Specialty(
        name=name,
        catalog_programs=catalog_programs,
        sources=stats.sources or "",
        **{k: v for k, v in figures.items() if v is not None},
    )


def city_message(city: City) -> ranking_pb2.City:
    return ranking_pb2.City(
        name=city.name, state=city.state, latitude=city.latitude, longitude=city.longitude, programs=city.programs
    )
