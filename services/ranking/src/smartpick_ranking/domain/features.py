"""The one feature definition of the ranking model, used alike by training and by serving.

Unknown stays unknown: a value that neither the applicant, the catalog, the school nor the public figures
state is NaN, which the gradient-boosted trees route on their own learned branch. The one exception is the
inputs a profile may leave unsaid (Step 1, honors, home program, away rotations): those take the specialty's
typical applicant's value (`unstated`), in training as in serving.
"""

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import PROGRAM_NUMBERS, Program, SpecialtyStats
from smartpick_ranking.domain.unstated import as_typical

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
    "has_home_program",
    "away_rotations",
)
SPECIALTY_FEATURES = (
    "specialty_mean_step2ck",
    "specialty_mean_research",
    "specialty_fill_rate",
    "specialty_usmd_share",
    "specialty_gold_signals",
    "specialty_silver_signals",
    "step2_ck_above_specialty_mean",
    "research_above_specialty_mean",
)
PROGRAM_FEATURES = (
    "program_positions",
    "program_academic",
    "program_community",
    "program_takes_own_visa",
    "program_img_share",
    "program_do_share",
    "program_share_of_own_degree",
    "program_log_applications_per_position",
    "program_interview_share",
    "program_rate_top_signal",
    "program_rate_second_signal",
    "program_rate_no_signal",
    "program_rate_own_school_location",
    "signal_sent",
    "top_signal_sent",
    "in_preferred_state",
    "in_school_state",
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
    "signal_sent": 1,
    "top_signal_sent": 1,
    "step1_failed": -1,
}

NO_VISA_SPONSORSHIP = "no sponsorship of the visa you need"
# The only columns a signal level sets (`at_signal_level`): rows of one applicant and program at each level
# differ in these alone.
SIGNAL_FEATURES = ("signal_sent", "top_signal_sent")

_COLUMN = {name: index for index, name in enumerate(FEATURE_NAMES)}
_NUMBER = {name: index for index, name in enumerate(PROGRAM_NUMBERS)}


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
        float(applicant.has_home_program),
        float(applicant.away_rotations),
    ]


def step2_above_specialty_mean(applicant: Applicant, stats: SpecialtyStats | None) -> float:
    """The row's step2_ck_above_specialty_mean: Step 2 CK minus the specialty's matched mean, NaN if either is
    unknown."""
    if stats is None:
        return np.nan
    return _value(applicant.step2_ck_score) - _value(stats.mean_step2ck_matched_usmd)


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
        float(stats.gold_signals or 0),
        float(stats.silver_signals or 0),
        step2_above_specialty_mean(applicant, stats),
        applicant.research_items - mean_research,
    ]


def signal_levels(applicant: Applicant, programs: Sequence[Program], tiered: Mapping[str, bool]) -> np.ndarray:
    """Per program: 2 where the applicant sent the specialty's top signal (gold, or the only tier), 1 for a
    silver signal, 0 for none. `tiered[specialty]` says whether the specialty has gold and silver."""
    gold, other = applicant.gold_signal_program_ids, applicant.signaled_program_ids
    return np.fromiter(
        (
            2.0
            if p.program_id in gold
            else (0.0 if p.program_id not in other else (1.0 if tiered.get(p.specialty) else 2.0))
            for p in programs
        ),
        dtype=np.float64,
        count=len(programs),
    )


def _program_columns(applicant: Applicant, programs: Sequence[Program], signals: np.ndarray) -> np.ndarray:
    """PROGRAM_FEATURES for all programs at once, a row each (np.fromiter: no per-row Python lists)."""
    n = len(programs)
    width = len(PROGRAM_NUMBERS)
    numbers = np.fromiter(
        itertools.chain.from_iterable(p.numbers for p in programs), dtype=np.float64, count=n * width
    ).reshape(n, width)

    def column(name: str) -> np.ndarray:
        return numbers[:, _NUMBER[name]]

    own_degree = {"IMG": column("img_share"), "DO": column("do_share")}.get(applicant.degree, column("md_share"))
    visa = {"J1": column("sponsors_j1"), "H1B": column("sponsors_h1b")}.get(applicant.visa_need or "")
    takes_visa = visa if visa is not None else np.full(n, np.nan)
    preferred, school = applicant.preferred_states, applicant.school_state
    # A school abroad is in no state. A US school whose state the profile leaves unsaid is read as in none
    # of the programs' states: the model never saw a US school without one (it would read it as abroad).
    in_school_state = np.fromiter(
        (np.nan if applicant.school_abroad or p.state is None else p.state == school for p in programs),
        dtype=np.float64,
        count=n,
    )
    own_location = np.where(in_school_state == 1, column("rate_in_state"), column("rate_out_of_state"))
    own_location = np.where(np.isnan(in_school_state), np.nan, own_location)
    in_state = np.fromiter((p.state is not None and p.state in preferred for p in programs), dtype=np.float64, count=n)
    return np.column_stack(
        (
            column("positions"),
            column("academic"),
            column("community"),
            takes_visa,
            column("img_share"),
            column("do_share"),
            own_degree,
            column("applications_per_position"),
            column("interview_share"),
            column("rate_top_signal"),
            column("rate_second_signal"),
            column("rate_no_signal"),
            own_location,
            signals >= 1,  # any signal; the top one also sets the next column: both are rewards, so
            signals == 2,  # none <= second <= top holds by the monotone constraints
            in_state,
            in_school_state,
        )
    )


def build_features(
    applicant: Applicant,
    programs: Sequence[Program],
    stats: Mapping[str, SpecialtyStats],
    signals: np.ndarray | None = None,
) -> np.ndarray:
    """float32 matrix, one row per program in order, columns FEATURE_NAMES; NaN where unknown. `signals`
    (2 top, 1 second, 0 none per program) overrides the applicant's own, for a signal plan's what-ifs."""
    features = np.empty((len(programs), len(FEATURE_NAMES)), dtype=np.float32)
    if not programs:
        return features
    if signals is None:
        signals = signal_levels(applicant, programs, tiered_specialties(stats))
    _fill_applicant_columns(features, applicant, programs, stats)
    features[:, _SPECIALTY_END:] = _program_columns(applicant, programs, signals)
    return features


_SPECIALTY_END = len(APPLICANT_FEATURES) + len(SPECIALTY_FEATURES)
# What of the applicant the program columns read: rows of two applicants alike in these differ only in the
# applicant and specialty columns.
_PROGRAM_COLUMNS_READ = ("degree", "visa_need", "school_state", "preferred_states")


def _fill_applicant_columns(
    features: np.ndarray, applicant: Applicant, programs: Sequence[Program], stats: Mapping[str, SpecialtyStats]
) -> None:
    specialties = {s: i for i, s in enumerate(dict.fromkeys(p.specialty for p in programs))}
    # What the applicant left unsaid is the specialty's typical applicant's (`unstated`).
    specialty_rows = np.array(
        [
            _applicant_row(as_typical(applicant, stats.get(s))) + _specialty_row(applicant, stats.get(s))
            for s in specialties
        ],
        dtype=np.float64,
    )
    features[:, :_SPECIALTY_END] = specialty_rows[[specialties[p.specialty] for p in programs]]


def for_applicant(
    rows: np.ndarray,
    built_for: Applicant,
    applicant: Applicant,
    programs: Sequence[Program],
    stats: Mapping[str, SpecialtyStats],
    signals: np.ndarray,
) -> np.ndarray:
    """`build_features(applicant, programs, stats, signals)` from `rows`, built so for another applicant:
    only the applicant and specialty columns are rebuilt where the program columns cannot differ (same
    degree, visa need, school state and preferred states), else everything is."""
    if any(getattr(built_for, name) != getattr(applicant, name) for name in _PROGRAM_COLUMNS_READ):
        return build_features(applicant, programs, stats, signals)
    changed = rows.copy()
    if len(programs):
        _fill_applicant_columns(changed, applicant, programs, stats)
    return changed


def at_signal_level(rows: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """A copy of feature rows with every program at one signal level (2 top, 1 second, 0 none), or each at
    its own (`level` an array, one per row): the same rows `build_features` gives with those signals."""
    changed = rows.copy()
    changed[:, _COLUMN["signal_sent"]] = level >= 1
    changed[:, _COLUMN["top_signal_sent"]] = level == 2
    return changed


def tiered_specialties(stats: Mapping[str, SpecialtyStats]) -> dict[str, bool]:
    """Whether each specialty's signals come as gold and silver (else one tier)."""
    return {name: bool(s.silver_signals) for name, s in stats.items()}


def feature_column(name: str) -> int:
    """Column index of a feature name (KeyError for a name the model does not know)."""
    return _COLUMN[name]


def hard_exclusion(applicant: Applicant, program: Program) -> str | None:
    """Why the program cannot take this applicant at all, or None. Only KNOWN facts exclude: unknown
    sponsorship is not an exclusion (it is the program_takes_own_visa feature, NaN)."""
    if applicant.needs_visa and program.sponsors(applicant.visa_need) is False:
        return NO_VISA_SPONSORSHIP
    return None


def hard_rules_apply(applicant: Applicant) -> bool:
    """Whether `hard_exclusion` can exclude any program for this applicant (else every program is kept)."""
    return bool(applicant.needs_visa)
