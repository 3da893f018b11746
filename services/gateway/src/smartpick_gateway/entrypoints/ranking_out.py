"""What the recommendation and catalog routes answer: the ranking contracts as JSON, documented for OpenAPI."""

from pydantic import BaseModel, Field
from smartpick.ranking.v1 import ranking_pb2

ESTIMATE_NOTE = "Estimated probability from public aggregate data; not a prediction of an individual outcome."
TIERS = {ranking_pb2.TIER_REACH: "reach", ranking_pb2.TIER_TARGET: "target", ranking_pb2.TIER_LIKELY: "likely"}
SIGNALS = {
    ranking_pb2.SIGNAL_LEVEL_UNSPECIFIED: "none",
    ranking_pb2.SIGNAL_LEVEL_NONE: "none",
    ranking_pb2.SIGNAL_LEVEL_TOP: "top",
    ranking_pb2.SIGNAL_LEVEL_SECOND: "second",
}
OPTIONAL_PROGRAM_FIELDS = tuple(
    f.name for f in ranking_pb2.Program.DESCRIPTOR.fields if f.has_presence and f.message_type is None
)


class ReasonOut(BaseModel):
    feature: str
    text: str
    effect: float = Field(
        description="Probability points this input adds (negative: takes away) against the typical case"
    )


class IntervalOut(BaseModel):
    low: float
    high: float


class FactSourceOut(BaseModel):
    facts: str
    source: str = Field(description="Source tags and vintage (docs/model.md lists every tag)")


class ProgramRecommendationOut(BaseModel):
    program_id: str
    name: str
    specialty: str
    city: str
    state: str
    interview_probability: float
    match_probability: float = Field(
        description="Chance this program would take you if you ranked it first (interview, then ranked to match)"
    )
    match_probability_interval: IntervalOut = Field(
        description="10th-90th percentile over what your inputs cannot show (letters, interviews)"
    )
    tier: str = Field(description="reach, target or likely (by interview probability)")
    signal: str = Field(description="none, top (gold, or the specialty's only signal) or second (silver)")
    reasons: list[ReasonOut]
    fact_sources: list[FactSourceOut]


class CurvePointOut(BaseModel):
    applications: int
    match_probability: float
    cost_usd: float


class SignalPlanOut(BaseModel):
    top_used: int
    top_available: int
    second_used: int
    second_available: int
    planned: bool = Field(description="true: the plan chose the signals; false: your own signals were scored")


class RecommendationsOut(BaseModel):
    status: str = Field(description="'ready', or 'pending' while the ranking workers catch up")
    profile_version: int
    model_version: str | None = None
    estimate_note: str = ESTIMATE_NOTE
    disclaimer: str | None = None
    data_vintage: str | None = None
    list_match_probability: float | None = Field(None, description="Chance of at least one match from the list")
    list_match_probability_interval: IntervalOut | None = None
    expected_interviews: float | None = None
    diminishing_returns_at: int | None = Field(None, description="Applications after which each adds < 0.5 points")
    list_cost_usd: float | None = None
    fee_schedule: str | None = None
    signal_plan: SignalPlanOut | None = None
    top_reasons: list[ReasonOut] = []
    notes: list[str] = []
    candidate_programs: int | None = None
    total_programs: int | None = Field(None, description="Programs on the whole list (application_list is one page)")
    next_page_token: str | None = None
    application_list: list[ProgramRecommendationOut] = []
    curve: list[CurvePointOut] = []
    excluded: dict[str, int] = {}


class ProgramOut(BaseModel):
    program_id: str
    name: str
    specialty: str
    city: str
    state: str
    latitude: float | None
    longitude: float | None
    positions: int | None
    program_type: str | None
    sponsors_visa: bool | None
    sponsors_j1: bool | None
    sponsors_h1b: bool | None
    md_share: float | None
    img_share: float | None
    do_share: float | None
    applications: int | None
    interview_share: float | None
    rate_top_signal: float | None
    rate_second_signal: float | None
    rate_no_signal: float | None
    fact_sources: list[FactSourceOut]


class SpecialtyOut(BaseModel):
    name: str
    catalog_programs: int
    positions: int | None
    fill_rate_percent: float | None
    usmd_share_percent: float | None
    mean_step2ck_matched_usmd: float | None
    mean_research_items_matched: float | None
    top_signals: int | None
    second_signals: int | None
    mean_applications: float | None
    sources: str = Field(description="Source tags of the figures, with vintage (docs/model.md)")


class CityOut(BaseModel):
    name: str = Field(description='"City, ST": what a profile\'s preferences.home_city takes')
    state: str
    latitude: float
    longitude: float
    programs: int = Field(description="Programs of the catalog in the city (its point is their mean)")


def _reasons(reasons) -> list[ReasonOut]:
    return [ReasonOut(feature=r.feature, text=r.text, effect=r.effect) for r in reasons]


def _sources(sources) -> list[FactSourceOut]:
    return [FactSourceOut(facts=s.facts, source=s.source) for s in sources]


def recommendations_out(reply, status: str = "ready") -> RecommendationsOut:
    """The JSON of a GetRecommendations or ScoreWhatIf reply (one page of the list)."""
    found = reply.recommendations
    plan = found.signal_plan
    return RecommendationsOut(
        status=status,
        total_programs=reply.total_programs,
        next_page_token=reply.next_page_token or None,
        profile_version=found.profile_version,
        model_version=found.model_version,
        disclaimer=found.disclaimer,
        data_vintage=found.data_vintage,
        list_match_probability=found.list_match_probability,
        list_match_probability_interval=IntervalOut(
            low=found.list_match_probability_interval.low, high=found.list_match_probability_interval.high
        ),
        expected_interviews=found.expected_interviews,
        diminishing_returns_at=found.diminishing_returns_at,
        list_cost_usd=found.list_cost_usd,
        fee_schedule=found.fee_schedule,
        signal_plan=SignalPlanOut(
            top_used=plan.top_used,
            top_available=plan.top_available,
            second_used=plan.second_used,
            second_available=plan.second_available,
            planned=plan.planned,
        ),
        top_reasons=_reasons(found.top_reasons),
        notes=list(found.notes),
        candidate_programs=found.candidate_programs,
        application_list=[
            ProgramRecommendationOut(
                program_id=p.program_id,
                name=p.name,
                specialty=p.specialty,
                city=p.city,
                state=p.state,
                interview_probability=p.interview_probability,
                match_probability=p.match_probability,
                match_probability_interval=IntervalOut(
                    low=p.match_probability_interval.low, high=p.match_probability_interval.high
                ),
                tier=TIERS[p.tier],
                signal=SIGNALS[p.signal],
                reasons=_reasons(p.reasons),
                fact_sources=_sources(p.fact_sources),
            )
            for p in found.application_list
        ],
        curve=[
            CurvePointOut(applications=c.applications, match_probability=c.match_probability, cost_usd=c.cost_usd)
            for c in found.curve
        ],
        excluded=dict(found.excluded),
    )


def program_out(p: ranking_pb2.Program) -> ProgramOut:
    return ProgramOut(
        program_id=p.program_id,
        name=p.name,
        specialty=p.specialty,
        city=p.city,
        state=p.state,
        program_type=p.program_type or None,
        fact_sources=_sources(p.fact_sources),
        **{f: getattr(p, f) if p.HasField(f) else None for f in OPTIONAL_PROGRAM_FIELDS},
    )


def specialty_out(s: ranking_pb2.Specialty) -> SpecialtyOut:
    optional = (
        "positions",
        "fill_rate_percent",
        "usmd_share_percent",
        "mean_step2ck_matched_usmd",
        "mean_research_items_matched",
        "top_signals",
        "second_signals",
        "mean_applications",
    )
    return SpecialtyOut(
        name=s.name,
        catalog_programs=s.catalog_programs,
        sources=s.sources,
        **{f: getattr(s, f) if s.HasField(f) else None for f in optional},
    )
