"""A simulated applicant cohort per specialty, calibrated to the public figures, run through interviews and a
deferred-acceptance match. The outcome rows (applicant, program, interviewed, matched) train the model.

What comes from the public figures (specialty_stats.csv), per specialty: the mean Step 2 CK of matched US MD
seniors, the mean research items of matched applicants, the share of positions filled by US MD seniors, the
fill rate, the number of positions and the number of preference signals. The cohort's score, research and
degree mix are shifted, pass after pass, until the simulated match reproduces those figures.

Where a specialty lacks a figure, the simulation uses a documented fallback (FALLBACKS; every use is listed
in the model card): the median of the specialties that state it, or, for research, the 2024 mean of all US
seniors given in SPECIALTY_SOURCES.md. The model's FEATURES never see a fallback: they see the figure as
published, NaN where it is missing, exactly as at serving time.

What no public figure gives, and this simulation therefore ASSUMES (named constants below, listed in the
model card): applicants per position, the number of applications and interviews, how programs weigh an
applicant's inputs, and programs' sizes, types, visa sponsorship and IMG/DO shares (which the catalog does
not hold). A program's fact is shown to the model with probability REVEAL_PROBABILITY and is NaN otherwise,
so that the model learns both the known and the unknown case.
"""

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.training.matching import deferred_acceptance

# Mean publications of US seniors, 2024 (SPECIALTY_SOURCES.md, Al-Mufti et al.): the research fallback.
ALL_SENIORS_MEAN_RESEARCH_2024 = 13.98
FALLBACKS = {
    "mean_step2ck_matched_usmd": "median of the specialties that state it",
    "mean_research_items_matched": f"mean publications of all US seniors 2024 ({ALL_SENIORS_MEAN_RESEARCH_2024})",
    "pct_positions_filled_by_usmd_seniors_2025": "median of the specialties that state it",
    "fill_rate_2025": "median of the specialties that state it",
    "signals_2025": "median of the specialties that state it",
    "positions_per_program": "median positions per catalog program of the specialties that state positions",
}

# Assumptions no public figure in the data gives (named so that the model card can list them).
ASSUMPTIONS = {
    "applicants_per_position": "1.1 + 0.5 x competitiveness (0 for the lowest, 1 for the highest Step 2 CK mean); "
    "fill rate / 100 + 0.1 where the published fill rate is below 97%; then adjusted to reproduce the fill rate",
    "non_md_split": "applicants who are not US MD: 40% DO, 60% IMG",
    "step2_ck_spread": "standard deviation 13 points; DO means 5 and IMG means 3 points below MD",
    "do_with_step2": "70% of DO applicants report a Step 2 CK score (all report COMLEX Level 2)",
    "img_visa_need": "55% of IMGs need a visa (two thirds J-1); 5% of all applicants leave it unsaid",
    "applications": "Gamma-distributed, mean 45 per applicant, at most the specialty's program count",
    "interviews_per_position": "12 interview offers per position",
    "program_facts": "size Poisson around the specialty's positions per program; 55% academic; 60% sponsor visas; "
    "IMG and DO shares Beta-distributed around the specialty's non-MD share",
    "reveal_probability": "each program fact is shown to the model with probability 0.5, NaN otherwise",
    "program_weights": "standardized Step 2 CK (or COMLEX) 1.0, log research 0.45, AOA 0.5, honors 0.12 each, "
    "signal 1.3, home state 0.8, preferred state 0.3, home program 1.0, away rotation 0.8, failed Step 1 -2.5, "
    "DO -0.5 and IMG -1.2 (less where the program's DO/IMG share is high), noise 0.7",
}

APPLICANTS_PER_POSITION_MIN, APPLICANTS_PER_POSITION_SPAN = 1.1, 0.5
DO_SHARE_OF_NON_MD = 0.4
STEP2_SD = 13.0
DEGREE_STEP2_OFFSET = {"MD": 0.0, "DO": -5.0, "IMG": -3.0}
DO_WITH_STEP2 = 0.7
IMG_VISA_NEED, UNSAID_VISA = 0.55, 0.05
MEAN_APPLICATIONS = 45.0
INTERVIEWS_PER_POSITION = 12.0
ACADEMIC_SHARE, SPONSORS_VISA_SHARE = 0.55, 0.6
REVEAL_PROBABILITY = 0.5
CALIBRATION_PASSES = 4
DEGREES = np.array(["MD", "DO", "IMG"])


@dataclass(frozen=True)
class SpecialtyTargets:
    """The figures the simulated match of one specialty is calibrated to, after fallbacks."""

    specialty: str
    mean_step2ck_matched_usmd: float
    mean_research_items_matched: float
    usmd_share: float  # 0-1
    fill_rate: float  # 0-1
    signals: int
    positions_per_program: float
    applicants_per_position: float
    fallbacks: tuple[str, ...]


@dataclass
class SpecialtyOutcome:
    """The simulated cohort of one specialty and its outcome rows."""

    specialty: str
    programs: list[Program]  # as the model sees them: facts revealed or None
    applicants: list[Applicant]
    pair_applicant: np.ndarray  # one entry per application
    pair_program: np.ndarray
    interviewed: np.ndarray
    matched: np.ndarray
    achieved: dict[str, float] = field(default_factory=dict)  # simulated figures beside the targets


def resolve_targets(programs: Sequence[Program], stats: Mapping[str, SpecialtyStats]) -> dict[str, SpecialtyTargets]:
    """Targets for every specialty of the catalog: the public figure, or the documented fallback."""
    counts: dict[str, int] = {}
    for program in programs:
        counts[program.specialty] = counts.get(program.specialty, 0) + 1

    def median_of(getter: Callable[[SpecialtyStats], float | None]) -> float:
        return statistics.median(v for s in stats.values() if (v := getter(s)) is not None)

    medians = {
        "mean_step2ck_matched_usmd": median_of(lambda s: s.mean_step2ck_matched_usmd),
        "pct_positions_filled_by_usmd_seniors_2025": median_of(lambda s: s.pct_positions_filled_by_usmd_seniors_2025),
        "fill_rate_2025": median_of(lambda s: s.fill_rate_2025),
        "signals_2025": median_of(lambda s: s.signals_2025),
        "positions_per_program": statistics.median(
            s.positions_2025 / counts[s.specialty]
            for s in stats.values()
            if s.positions_2025 is not None and counts.get(s.specialty)
        ),
    }
    known_step2 = [s.mean_step2ck_matched_usmd for s in stats.values() if s.mean_step2ck_matched_usmd is not None]
    low, high = min(known_step2), max(known_step2)
    targets = {}
    for specialty, count in sorted(counts.items()):
        figures = stats.get(specialty, SpecialtyStats(specialty))
        fallbacks = []

        def pick(name: str, value: float | None, fallback: float, fallbacks=fallbacks) -> float:
            if value is None:
                fallbacks.append(name)
                return fallback
            return float(value)

        step2 = pick(
            "mean_step2ck_matched_usmd", figures.mean_step2ck_matched_usmd, medians["mean_step2ck_matched_usmd"]
        )
        research = pick(
            "mean_research_items_matched", figures.mean_research_items_matched, ALL_SENIORS_MEAN_RESEARCH_2024
        )
        md_share = pick(
            "pct_positions_filled_by_usmd_seniors_2025",
            figures.pct_positions_filled_by_usmd_seniors_2025,
            medians["pct_positions_filled_by_usmd_seniors_2025"],
        )
        fill = pick("fill_rate_2025", figures.fill_rate_2025, medians["fill_rate_2025"])
        signals = pick("signals_2025", figures.signals_2025, medians["signals_2025"])
        per_program = pick(
            "positions_per_program",
            None if figures.positions_2025 is None else figures.positions_2025 / count,
            medians["positions_per_program"],
        )
        competitiveness = (step2 - low) / (high - low)
        ratio = APPLICANTS_PER_POSITION_MIN + APPLICANTS_PER_POSITION_SPAN * competitiveness
        if fill < 97:
            ratio = fill / 100 + 0.1
        targets[specialty] = SpecialtyTargets(
            specialty=specialty,
            mean_step2ck_matched_usmd=step2,
            mean_research_items_matched=research,
            usmd_share=md_share / 100,
            fill_rate=fill / 100,
            signals=round(signals),
            positions_per_program=max(1.0, per_program),
            applicants_per_position=ratio,
            fallbacks=tuple(fallbacks),
        )
    return targets


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class _Knobs:
    """What the calibration passes adjust."""

    step2_mean: float
    research_mean: float
    md_fraction: float
    applicants_per_position: float


def _top_k_per_row(keys: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the k[row] largest keys of each row."""
    order = np.argsort(-keys, axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(keys.shape[1])[None, :].repeat(keys.shape[0], 0), axis=1)
    rows, cols = np.nonzero(rank < k[:, None])
    return rows, cols


def _simulate_once(
    programs: Sequence[Program], targets: SpecialtyTargets, knobs: _Knobs, seed: Sequence[int]
) -> SpecialtyOutcome:
    rng = np.random.default_rng(list(seed))
    n_programs = len(programs)
    states = np.array([p.state or "" for p in programs])

    # Programs: latent facts, and what the model is shown of them.
    size = np.maximum(1, rng.poisson(targets.positions_per_program, n_programs))
    academic = rng.random(n_programs) < ACADEMIC_SHARE
    sponsors = rng.random(n_programs) < SPONSORS_VISA_SHARE
    non_md = max(0.02, 1 - targets.usmd_share)
    img_share = rng.beta(2, 2 / (non_md * 0.6) - 2 if non_md * 0.6 < 1 else 0.5, n_programs)
    do_share = rng.beta(2, 2 / (non_md * 0.4) - 2 if non_md * 0.4 < 1 else 0.5, n_programs)
    prestige = rng.normal(0, 1, n_programs) + 0.5 * academic
    reveal = rng.random((n_programs, 5)) < REVEAL_PROBABILITY
    shown = [
        Program(
            program_id=p.program_id,
            name=p.name,
            specialty=p.specialty,
            city=p.city,
            state=p.state,
            latitude=p.latitude,
            longitude=p.longitude,
            positions=int(size[j]) if reveal[j, 0] else None,
            program_type=("academic" if academic[j] else "community") if reveal[j, 1] else None,
            sponsors_visa=bool(sponsors[j]) if reveal[j, 2] else None,
            img_share=round(float(img_share[j]), 3) if reveal[j, 3] else None,
            do_share=round(float(do_share[j]), 3) if reveal[j, 4] else None,
        )
        for j, p in enumerate(programs)
    ]

    # Applicants.
    n_applicants = max(2, round(size.sum() * knobs.applicants_per_position))
    draw = rng.random(n_applicants)
    degree_index = np.where(
        draw < knobs.md_fraction,
        0,
        np.where(draw < knobs.md_fraction + (1 - knobs.md_fraction) * DO_SHARE_OF_NON_MD, 1, 2),
    )
    degree = DEGREES[degree_index]
    ability = rng.normal(0, 1, n_applicants)
    offset = np.select([degree_index == 1, degree_index == 2], [DEGREE_STEP2_OFFSET["DO"], DEGREE_STEP2_OFFSET["IMG"]])
    step2 = np.clip(np.round(knobs.step2_mean + offset + STEP2_SD * ability), 180, 300)
    has_step2 = (degree_index != 1) | (rng.random(n_applicants) < DO_WITH_STEP2)
    comlex = np.clip(np.round(580 + 75 * ability + rng.normal(0, 25, n_applicants)), 200, 999)
    research_scale = knobs.research_mean * np.select([degree_index == 1, degree_index == 2], [0.6, 0.7], 1.0)
    research_rate = rng.gamma(2.0, research_scale * np.exp(0.25 * ability) / 2.0)
    research = rng.poisson(research_rate)
    aoa = (degree_index == 0) & (rng.random(n_applicants) < _sigmoid(-2.2 + 1.5 * ability))
    honors = rng.binomial(7, _sigmoid(-0.3 + 0.9 * ability))
    step1_draw = rng.random(n_applicants)
    step1 = np.where(step1_draw < 0.02, "fail", np.where(step1_draw < 0.05, "", "pass"))
    visa_draw = rng.random(n_applicants)
    needs_visa = (degree_index == 2) & (visa_draw < IMG_VISA_NEED)
    visa = np.where(needs_visa, np.where(visa_draw < IMG_VISA_NEED * 2 / 3, "J1", "H1B"), "none")
    visa = np.where(rng.random(n_applicants) < UNSAID_VISA, "", visa)
    years = np.where(
        degree_index == 2, rng.poisson(3, n_applicants), rng.choice([0, 1, 2], n_applicants, p=[0.85, 0.1, 0.05])
    )
    home_state = rng.choice(states, n_applicants) if n_programs else np.array([""] * n_applicants)
    state_pool = np.unique(states[states != ""])
    has_home = rng.random(n_applicants) < 0.5

    # Applications: preferred states weigh three times.
    preferred = [
        frozenset(
            {home_state[i], *rng.choice(state_pool, rng.integers(0, min(4, len(state_pool) + 1)), replace=False)} - {""}
        )
        for i in range(n_applicants)
    ]
    state_names, state_of_program = np.unique(states, return_inverse=True)
    preferred_matrix = np.array([[name in chosen for name in state_names] for chosen in preferred], dtype=bool)
    in_pref = preferred_matrix[:, state_of_program]
    home_match = home_state[:, None] == states[None, :]
    n_apps = np.clip(np.round(rng.gamma(4.0, MEAN_APPLICATIONS / 4.0, n_applicants)), 5, n_programs).astype(int)
    n_apps = np.minimum(n_apps, n_programs)
    keys = np.log1p(3.0 * in_pref) + rng.gumbel(size=(n_applicants, n_programs))
    pair_a, pair_p = _top_k_per_row(keys, n_apps)
    n_pairs = len(pair_a)
    not_applied = np.ones((n_applicants, n_programs), dtype=bool)
    not_applied[pair_a, pair_p] = False
    signal_count = np.minimum(targets.signals, n_apps)
    signal_keys = np.full((n_applicants, n_programs), -np.inf)
    signal_keys[pair_a, pair_p] = 0.8 * in_pref[pair_a, pair_p] + 0.3 * prestige[pair_p] + rng.gumbel(size=n_pairs)
    sig_a, sig_p = _top_k_per_row(signal_keys, signal_count)
    signaled = np.zeros((n_applicants, n_programs), dtype=bool)
    signaled[sig_a, sig_p] = True
    away_count = np.minimum(rng.poisson(0.4 + 1.2 * (targets.signals >= 20), n_applicants), n_apps)
    away_keys = np.where(signaled, 1.0, 0.0) + rng.gumbel(size=(n_applicants, n_programs))
    away_keys[not_applied] = -np.inf
    away_a, away_p = _top_k_per_row(away_keys, away_count)
    away = np.zeros((n_applicants, n_programs), dtype=bool)
    away[away_a, away_p] = True
    home_keys = np.where(home_match, 1.0, 0.0) + rng.gumbel(size=(n_applicants, n_programs))
    home_keys[not_applied] = -np.inf
    home_a, home_p = _top_k_per_row(home_keys, has_home.astype(int))
    home_program = np.zeros((n_applicants, n_programs), dtype=bool)
    home_program[home_a, home_p] = True

    # Programs score their applicants; the strongest get interviews.
    a, p = pair_a, pair_p
    academic_strength = np.where(
        has_step2[a], (step2[a] - targets.mean_step2ck_matched_usmd) / STEP2_SD, (comlex[a] - 580) / 75 - 0.3
    )
    degree_term = np.select(
        [degree_index[a] == 1, degree_index[a] == 2],
        [-0.5 + 3.0 * (do_share[p] - 0.1), -1.2 + 4.0 * (img_share[p] - 0.15) - 0.3 * academic[p]],
        0.0,
    )
    score = (
        academic_strength
        + 0.45 * (np.log1p(research[a]) - np.log1p(targets.mean_research_items_matched))
        + 0.5 * aoa[a]
        + 0.12 * (honors[a] - 3)
        + 1.3 * signaled[a, p]
        + 0.8 * home_match[a, p]
        + 0.3 * in_pref[a, p]
        + 1.0 * home_program[a, p]
        + 0.8 * away[a, p]
        + degree_term
        - 2.5 * (step1[a] == "fail")
        - 0.12 * np.maximum(0, years[a] - 1)
        - 0.3 * (needs_visa[a] & sponsors[p])
        + rng.normal(0, 0.7, n_pairs)
    )
    score = np.where(needs_visa[a] & ~sponsors[p], -np.inf, score)
    order = np.lexsort((-score, p))
    first = np.searchsorted(p[order], np.arange(n_programs))
    rank_in_program = np.arange(n_pairs) - first[p[order]]
    invited = np.zeros(n_pairs, dtype=bool)
    capacity = np.ceil(INTERVIEWS_PER_POSITION * size[p[order]])
    invited[order] = (rank_in_program < capacity) & np.isfinite(score[order])

    # Rank lists after interviews, then the match.
    utility = prestige[p] + 0.7 * in_pref[a, p] + 0.5 * home_match[a, p] + rng.normal(0, 1, n_pairs)
    final_score = score + rng.normal(0, 0.5, n_pairs)
    interviewed_pairs = np.nonzero(invited)[0]
    by_applicant: list[list[tuple[float, int]]] = [[] for _ in range(n_applicants)]
    program_scores: list[dict[int, float]] = [{} for _ in range(n_programs)]
    for k in interviewed_pairs:
        by_applicant[a[k]].append((-utility[k], p[k]))
        program_scores[p[k]][int(a[k])] = float(final_score[k])
    preferences = [[program for _, program in sorted(choices)] for choices in by_applicant]
    assignment = deferred_acceptance(preferences, program_scores, size.tolist())
    matched_program = np.array([-1 if m is None else m for m in assignment])
    matched = matched_program[a] == p

    applicants = [
        Applicant(
            degree=str(degree[i]),
            step2_ck_score=int(step2[i]) if has_step2[i] else None,
            step1_result=str(step1[i]) or None,
            comlex_level2_score=int(comlex[i]) if degree_index[i] == 1 else None,
            research_items=int(research[i]),
            aoa_member=bool(aoa[i]),
            clerkship_honors=int(honors[i]),
            visa_need=str(visa[i]) or None,
            years_since_graduation=int(years[i]),
            signals_sent=int(signal_count[i]),
            has_home_program=bool(has_home[i]),
            away_rotations=int(away_count[i]),
            specialties=(targets.specialty,),
            preferred_states=preferred[i],
            application_budget=int(n_apps[i]),
            signaled_program_ids=frozenset(programs[j].program_id for j in np.nonzero(signaled[i])[0]),
        )
        for i in range(n_applicants)
    ]
    is_md_match = (matched_program >= 0) & (degree_index == 0)
    positions = int(size.sum())
    achieved = {
        "mean_step2ck_matched_usmd": float(step2[is_md_match].mean()) if is_md_match.any() else float("nan"),
        "mean_research_items_matched": float(research[is_md_match].mean()) if is_md_match.any() else float("nan"),
        "usmd_share": float(is_md_match.sum() / positions),
        "fill_rate": float((matched_program >= 0).sum() / positions),
        "applicants": float(n_applicants),
        "positions": float(positions),
        "interview_rate": float(invited.mean()),
    }
    return SpecialtyOutcome(targets.specialty, shown, applicants, a, p, invited, matched, achieved)


def simulate_specialty(
    programs: Sequence[Program], targets: SpecialtyTargets, seed: int, specialty_index: int
) -> SpecialtyOutcome:
    """Simulate, then shift score, research, degree mix and pool size until the match reproduces the targets."""
    knobs = _Knobs(
        step2_mean=targets.mean_step2ck_matched_usmd - 3.0,
        research_mean=targets.mean_research_items_matched,
        md_fraction=min(0.95, targets.usmd_share),
        applicants_per_position=targets.applicants_per_position,
    )
    outcome = _simulate_once(programs, targets, knobs, (seed, specialty_index))
    for _ in range(CALIBRATION_PASSES - 1):
        got = outcome.achieved
        if np.isfinite(got["mean_step2ck_matched_usmd"]):
            knobs.step2_mean += targets.mean_step2ck_matched_usmd - got["mean_step2ck_matched_usmd"]
            ratio = targets.mean_research_items_matched / max(got["mean_research_items_matched"], 0.1)
            knobs.research_mean *= float(np.clip(ratio, 0.5, 2.0))
        share_ratio = targets.usmd_share / max(got["usmd_share"], 0.01)
        knobs.md_fraction = float(np.clip(knobs.md_fraction * share_ratio, 0.02, 0.98))
        fill_ratio = (targets.fill_rate / max(got["fill_rate"], 0.01)) ** 2
        knobs.applicants_per_position = float(np.clip(knobs.applicants_per_position * fill_ratio, 0.5, 4.0))
        outcome = _simulate_once(programs, targets, knobs, (seed, specialty_index))
    return outcome
