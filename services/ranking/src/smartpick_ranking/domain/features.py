"""The one feature definition of the ranking model, used alike by training and by serving.

Unknown stays unknown: a value that neither the applicant, the catalog, the school nor the public figures
state is NaN, which the gradient-boosted trees route on their own learned branch. Nothing is imputed here.
"""

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats

APPLICANT_FEATURES = (
    "degree_md",
    "degree_do",
    "degree_img",
    "step2_ck_score",
    "step1_failed",
    "comlex_level2_score",
    "research_items",
    "aoa_member",
    "clerkship_honors",
    "needs_visa",
    "years_since_graduation",
    "signals_sent",
    "has_home_program",
    "away_rotations",
)
SPECIALTY_FEATURES = (
    "specialty_mean_step2ck",
    "specialty_mean_research",
    "specialty_fill_rate",
    "specialty_usmd_share",
    "specialty_signals",
    "specialty_positions",
    "step2_ck_above_specialty_mean",
    "research_above_specialty_mean",
)
PROGRAM_FEATURES = (
    "program_positions",
    "program_academic",
    "program_sponsors_visa",
    "program_img_share",
    "program_do_share",
    "program_share_of_own_degree",
    "signaled_program",
    "in_preferred_state",
)
FEATURE_NAMES: tuple[str, ...] = APPLICANT_FEATURES + SPECIALTY_FEATURES + PROGRAM_FEATURES

# +1: a higher value never lowers a probability; -1: never raises it. DESIGN.md asks this of scores and
# research; AOA, honors and a signal are rewards; a failed Step 1 is never a help.
MONOTONE: Mapping[str, int] = {
    "step2_ck_score": 1,
    "comlex_level2_score": 1,
    "research_items": 1,
    "aoa_member": 1,
    "clerkship_honors": 1,
    "step2_ck_above_specialty_mean": 1,
    "research_above_specialty_mean": 1,
    "signaled_program": 1,
    "step1_failed": -1,
}

NO_VISA_SPONSORSHIP = "no visa sponsorship"

_COLUMN = {name: index for index, name in enumerate(FEATURE_NAMES)}


def _value(value: float | int | bool | None) -> float:
    return np.nan if value is None else float(value)


def _applicant_row(applicant: Applicant) -> list[float]:
    step1 = {"pass": 0.0, "fail": 1.0}.get(applicant.step1_result or "", np.nan)
    return [
        float(applicant.degree == "MD"),
        float(applicant.degree == "DO"),
        float(applicant.degree == "IMG"),
        _value(applicant.step2_ck_score),
        step1,
        _value(applicant.comlex_level2_score),
        float(applicant.research_items),
        float(applicant.aoa_member),
        float(applicant.clerkship_honors),
        _value(applicant.needs_visa),
        float(applicant.years_since_graduation),
        float(applicant.signals_sent),
        float(applicant.has_home_program),
        float(applicant.away_rotations),
    ]


def _specialty_row(applicant: Applicant, stats: SpecialtyStats | None) -> list[float]:
    if stats is None:
        return [np.nan] * len(SPECIALTY_FEATURES)
    mean_step2 = _value(stats.mean_step2ck_matched_usmd)
    mean_research = _value(stats.mean_research_items_matched)
    return [
        mean_step2,
        mean_research,
        _value(stats.fill_rate_2025),
        _value(stats.pct_positions_filled_by_usmd_seniors_2025),
        _value(stats.signals_2025),
        _value(stats.positions_2025),
        _value(applicant.step2_ck_score) - mean_step2,
        applicant.research_items - mean_research,
    ]


def _program_columns(applicant: Applicant, programs: Sequence[Program]) -> np.ndarray:
    """PROGRAM_FEATURES for all programs at once, a row each (np.fromiter: no per-row Python lists)."""
    n = len(programs)
    numbers = np.fromiter(
        itertools.chain.from_iterable(p.numbers for p in programs), dtype=np.float64, count=n * 5
    ).reshape(n, 5)
    img_share, do_share = numbers[:, 3], numbers[:, 4]
    if applicant.degree == "IMG":
        own_degree = img_share
    elif applicant.degree == "DO":
        own_degree = do_share
    else:  # MD: the share neither IMG nor DO, known only when both are (NaN propagates)
        own_degree = np.maximum(0.0, 1.0 - img_share - do_share)
    signaled, preferred = applicant.signaled_program_ids, applicant.preferred_states
    signal = np.fromiter((p.program_id in signaled for p in programs), dtype=np.float64, count=n)
    in_state = np.fromiter(
        (np.nan if p.state is None else p.state in preferred for p in programs), dtype=np.float64, count=n
    )
    return np.column_stack((numbers, own_degree, signal, in_state))


def build_features(
    applicant: Applicant, programs: Sequence[Program], stats: Mapping[str, SpecialtyStats]
) -> np.ndarray:
    """float32 matrix, one row per program in order, columns FEATURE_NAMES; NaN where unknown."""
    features = np.empty((len(programs), len(FEATURE_NAMES)), dtype=np.float32)
    if not programs:
        return features
    applicant_end = len(APPLICANT_FEATURES)
    specialty_end = applicant_end + len(SPECIALTY_FEATURES)
    features[:, :applicant_end] = _applicant_row(applicant)
    specialties = {s: i for i, s in enumerate(dict.fromkeys(p.specialty for p in programs))}
    specialty_rows = np.array([_specialty_row(applicant, stats.get(s)) for s in specialties], dtype=np.float64)
    features[:, applicant_end:specialty_end] = specialty_rows[[specialties[p.specialty] for p in programs]]
    features[:, specialty_end:] = _program_columns(applicant, programs)
    return features


def feature_column(name: str) -> int:
    """Column index of a feature name (KeyError for a name the model does not know)."""
    return _COLUMN[name]


def hard_exclusion(applicant: Applicant, program: Program) -> str | None:
    """Why the program cannot take this applicant at all, or None. Only KNOWN facts exclude: unknown
    sponsorship is not an exclusion (it is the program_sponsors_visa feature, NaN)."""
    if applicant.needs_visa and program.sponsors_visa is False:
        return NO_VISA_SPONSORSHIP
    return None
