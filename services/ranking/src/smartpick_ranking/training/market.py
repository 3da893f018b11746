"""One simulated Match of a specialty: programs, applicants, applications, signals, interviews, rank lists,
deferred acceptance, and the counterfactual admission label of every application (see simulation.py).

What no public figure gives is ASSUMED here (ASSUMPTIONS, listed in the model card)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import ndtr as _normal_cdf

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program
from smartpick_ranking.domain.unstated import typical_away_rotations
from smartpick_ranking.training.matching import deferred_acceptance
from smartpick_ranking.training.program_view import STEP2_SD, Cohort, DrawnPrograms, Knobs, program_view
from smartpick_ranking.training.targets import BAND_TAIL_MEAN, SpecialtyTargets

ASSUMPTIONS = {
    "applicants": "US MD applicants' AOA membership follows their Step 2 CK with a correlation fitted to the "
    "band rates (start 0.6); their research and honors do not (a typical applicant of every band has the "
    "specialty's); their Step 2 CK follows the specialty's band counts "
    "(uniform within a band; 250+ as 250 + exponential, mean 9); without bands, normal with SD 13 around a "
    "shifted mean; DO 5 points lower; non-US IMGs as many per position as NRMP counted in 2026, with their "
    "Step 2 CK mean (SD 13) and research mean, where it gives them (else 3 points lower, 0.7 of the matched "
    "research, and the non-US-MD applicants 40% DO, 60% IMG)",
    "latent_strength": "every applicant has a strength no input shows, N(0, 1), weighing 0.7 in every "
    "program's score, before and after interviews",
    "noise": "each program's view of an applicant adds N(0, 1.0) before interviews and N(0, 0.7) after",
    "applications": "Gamma-distributed (shape 4) around the specialty's mean applications, at most its "
    "program count; programs chosen in proportion to the applications they received per position (drawn "
    "from the specialty's where unknown) times the share of residents of the applicant's own degree (+0.05), "
    "three times as likely in a preferred state, never where the public facts say the applicant's visa is not "
    "taken",
    "strategy": "from the second calibration pass on, applicants plan like the product's users: each estimates "
    "their chance at every program from their visible strengths against where the program drew its interview "
    "and ranking lines in the previous pass, and weighs log(chance) as much as a program's draw when choosing "
    "where to apply, and the chance a signal adds when choosing where to signal",
    "interviews": "each program gives as many interviews as its share interviewed times the applications it "
    "received (AAMC 2020-2021) where both are known, else 12 per position, offered to the highest-scored in up "
    "to 4 waves; an applicant attends at most 24 and declines the offers they want least, which the next wave "
    "offers to others",
    "program_facts": "unknown facts drawn from the specialty's programs that state them",
    "program_weights": "standardized Step 2 CK (or COMLEX) weight fitted to the band rates (start 1.0), log "
    "research 0.45, AOA 0.5, honors 0.12 each, top signal and second signal fitted to the ERAS interview "
    "rates (start 1.5 and 0.9), a non-US IMG's Step 2 CK weighed by a share of that weight fitted to NRMP's "
    "IMG match rates below and above their median score (start 1; 0 at the least), school in the program's "
    "state 0.6, home program 1.0, away rotation 0.8, failed Step 1 -2.5, DO and IMG penalties smaller where "
    "the program's DO/IMG share is larger but never a bonus: no program scores a DO or an IMG above a US MD "
    "senior of the same record for the degree alone",
    "match_rates": f"without band rates, US MD seniors match at {0.9}; DO and IMG applicants at {0.5} (pool sizes)",
    "market": f"a specialty of more than {250} programs is simulated on a random {250} of them, its pools "
    "scaled to their positions",
    "visa": "55% of IMGs need a visa (two thirds J-1); a program that does not take that visa never interviews",
}
DEGREE_STEP2_OFFSET = {"MD": 0.0, "DO": -5.0, "IMG": -3.0}
DO_SHARE_OF_NON_MD = 0.4
DO_WITH_STEP2 = 0.7
IMG_VISA_NEED, UNSAID_VISA = 0.55, 0.05
HOME_PROGRAM_SHARE = 0.5  # US graduates whose own school has a program in the specialty
INTERVIEWS_PER_POSITION = 12.0
HOME_PROGRAM_WEIGHT, AWAY_WEIGHT = 1.0, 0.8  # in a program's score of its own student, of a rotator
LATENT_WEIGHT = 0.7
OPEN_LINE = -10.0  # a program that interviewed everyone / did not fill, as a line no applicant is below
STRATEGY_WEIGHT = 1.0  # log(estimated chance) against log(a program's draw) when applicants plan
PRE_INTERVIEW_NOISE, POST_INTERVIEW_NOISE = 1.0, 0.7
MAX_INTERVIEWS, INTERVIEW_WAVES = 24, 4  # an applicant attends at most 24; declined slots are offered again
DEGREES = np.array(["MD", "DO", "IMG"])


@dataclass
class SpecialtyOutcome:
    """The simulated cohort of one specialty and its outcome rows."""

    specialty: str
    programs: list[Program]  # as the model sees them: the public facts, unknown stays None
    applicants: list[Applicant]
    pair_applicant: np.ndarray  # one entry per application
    pair_program: np.ndarray
    interviewed: np.ndarray
    admitted: np.ndarray
    matched: np.ndarray  # the applicant matched at this program
    bars: "ProgramBars | None" = None
    achieved: dict[str, float] = field(default_factory=dict)  # simulated figures beside the targets
    drawn: "DrawnPrograms | None" = None  # the programs as the simulation ran them
    knobs: "Knobs | None" = None  # the weights programs scored with


@dataclass(frozen=True)
class ProgramBars:
    """Where each program drew its lines, in score units: the lowest pre-interview score it interviewed and
    the lowest final score it matched (-inf: it interviewed everyone who applied / did not fill)."""

    interview: np.ndarray
    admission: np.ndarray

    def blended(self, latest: "ProgramBars", weight: float) -> "ProgramBars":
        """What applicants believe after `latest`: a damped mix, so that a crowd does not chase last season's
        easy programs round after round (-inf counts as a line far below every score)."""

        def mix(old: np.ndarray, new: np.ndarray) -> np.ndarray:
            return (1 - weight) * np.maximum(old, OPEN_LINE) + weight * np.maximum(new, OPEN_LINE)

        return ProgramBars(mix(self.interview, latest.interview), mix(self.admission, latest.admission))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _top_k_per_row(keys: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the k[row] largest keys of each row (keys continuous: ties have no weight)."""
    widest = int(max(1, k.max(initial=1)))
    negated = -keys
    if widest < keys.shape[1]:
        negated = np.partition(negated, widest - 1, axis=1)[:, :widest]
    ordered = -np.sort(negated, axis=1)
    threshold = ordered[np.arange(len(k)), np.maximum(k, 1) - 1]
    chosen = (keys >= threshold[:, None]) & np.isfinite(keys)
    chosen[k <= 0] = False
    return np.nonzero(chosen)


def _top_k_pairs(pair_a: np.ndarray, key: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Mask over pairs: the k[applicant] pairs of each applicant with the largest keys."""
    order = np.lexsort((-key, pair_a))
    first = np.searchsorted(pair_a[order], pair_a[order])
    chosen = np.zeros(len(pair_a), dtype=bool)
    chosen[order] = (np.arange(len(order)) - first) < k[pair_a[order]]
    return chosen


def _interview_waves(
    a: np.ndarray, p: np.ndarray, score: np.ndarray, utility: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(offered, attended) per pair. Each wave, every program offers its free interview slots to the
    highest-scored applicants it has not asked yet; each applicant keeps at most MAX_INTERVIEWS, the ones
    they want most (those already accepted first), and declines the rest, whose slots the next wave offers."""
    order = np.lexsort((-score, p))
    first = np.searchsorted(p[order], p[order])  # where each pair's program starts in `order`
    offered = np.zeros(len(p), dtype=bool)
    attended = np.zeros(len(p), dtype=bool)
    keep_all = np.full(int(a.max(initial=0)) + 1, MAX_INTERVIEWS)
    for _ in range(INTERVIEW_WAVES):
        free = capacity - np.bincount(p[attended], minlength=len(capacity))
        waiting = (~offered & np.isfinite(score))[order]
        before = np.cumsum(waiting) - waiting  # waiting pairs ahead in the whole order
        rank = before - before[first]  # ... and ahead in the pair's own program
        new = np.zeros(len(p), dtype=bool)
        new[order] = waiting & (rank < free[p[order]])
        if not new.any():
            break
        offered |= new
        held = attended | new
        attended = held & _top_k_pairs(a, np.where(held, utility + 1e3 * attended, -np.inf), keep_all)
    return offered, attended


def _md_step2(rng, targets: SpecialtyTargets, knobs: Knobs, n: int) -> np.ndarray:
    if not targets.bands:
        return np.round(knobs.step2_shift + STEP2_SD * rng.normal(0, 1, n))
    weights = np.array([b.applicants for b in targets.bands], dtype=float)
    which = rng.choice(len(targets.bands), n, p=weights / weights.sum())
    lows = np.array([b.low if b.low is not None else b.high - 9 for b in targets.bands])[which]
    highs = np.array([b.high if b.high is not None else -1 for b in targets.bands])[which]
    uniform = rng.integers(0, 10, n)
    tail = np.round(rng.exponential(BAND_TAIL_MEAN, n))
    return np.where(highs < 0, lows + tail, lows + uniform).astype(float)


def _planned_chances(visible: np.ndarray, knobs: Knobs, bars: ProgramBars) -> tuple[np.ndarray, ...]:
    """An applicant's own estimate of P(admitted) at every program with no signal, a top and a second
    signal: their visible strengths against the program's previous lines, the latent and the noise unknown."""
    pre_sd = math.hypot(LATENT_WEIGHT, PRE_INTERVIEW_NOISE)
    post_sd = math.hypot(LATENT_WEIGHT, POST_INTERVIEW_NOISE)
    ranked = _normal_cdf((visible - np.maximum(bars.admission, OPEN_LINE)[None, :]) / post_sd)
    return tuple(
        _normal_cdf((visible + weight - np.maximum(bars.interview, OPEN_LINE)[None, :]) / pre_sd) * ranked
        for weight in (0.0, knobs.top_signal_weight, knobs.second_signal_weight)
    )


def simulate_market(
    programs: Sequence[Program],
    targets: SpecialtyTargets,
    knobs: Knobs,
    seed: Sequence[int],
    bars: ProgramBars | None = None,
) -> SpecialtyOutcome:
    """`bars`: the programs' lines from a previous pass; with them applicants plan (ASSUMPTIONS["strategy"])."""
    rng = np.random.default_rng(list(seed))
    drawn = DrawnPrograms.draw(rng, programs, targets)
    n_programs, states, size, popularity = len(programs), drawn.states, drawn.size, drawn.popularity
    # Interviews a program gives: its share interviewed times the applications it received (both AAMC, one
    # season), else INTERVIEWS_PER_POSITION per position.
    interviews = np.array(
        [
            p.interview_share * p.applications if p.interview_share is not None and p.applications else np.nan
            for p in programs
        ]
    )

    # Applicants: US MD seniors, then DO and IMG graduates.
    positions = int(size.sum())
    n_md = max(1, round(positions * knobs.md_per_position))
    img = targets.img
    if img is None:
        n_other = max(1, round(positions * knobs.other_per_position))
        other_degrees = np.where(rng.random(n_other) < DO_SHARE_OF_NON_MD, 1, 2)
    else:  # the IMG pool as NRMP counts it; the DO pool fills the rest
        n_do, n_img = max(1, round(positions * knobs.other_per_position)), max(1, round(positions * img.per_position))
        n_other = n_do + n_img
        other_degrees = np.concatenate([np.ones(n_do, dtype=int), np.full(n_img, 2)])
    n_applicants = n_md + n_other
    degree_index = np.concatenate([np.zeros(n_md, dtype=int), other_degrees])
    degree = DEGREES[degree_index]
    ability = rng.normal(0, 1, n_applicants)
    latent = rng.normal(0, 1, n_applicants)
    md_scores = _md_step2(rng, targets, knobs, n_md)
    md_center = float(np.mean(md_scores))
    coupling = knobs.step2_coupling
    ability[:n_md] = coupling * (md_scores - md_center) / STEP2_SD + rng.normal(0, math.sqrt(1 - coupling**2), n_md)
    offset = np.where(degree_index == 1, DEGREE_STEP2_OFFSET["DO"], DEGREE_STEP2_OFFSET["IMG"])
    other_center = md_center + offset[n_md:]
    if img is not None and img.mean_step2 is not None:
        other_center = np.where(degree_index[n_md:] == 2, img.mean_step2, other_center)
    other_scores = np.round(other_center + STEP2_SD * rng.normal(0, 1, n_other))
    step2 = np.clip(np.concatenate([md_scores, other_scores]), 180, 300)
    has_step2 = (degree_index != 1) | (rng.random(n_applicants) < DO_WITH_STEP2)
    comlex = np.clip(np.round(580 + 75 * ability + rng.normal(0, 25, n_applicants)), 200, 999)
    img_research = 0.7 * targets.mean_research_items_matched
    if img is not None and img.mean_research is not None:
        img_research = img.mean_research
    research_scale = np.select(
        [degree_index == 1, degree_index == 2],
        [0.6 * targets.mean_research_items_matched, img_research],
        0.85 * targets.mean_research_items_matched,
    )
    # Research and honors do not follow Step 2 CK: a typical applicant of any band has the specialty's own.
    drive = rng.normal(0, 1, n_applicants)
    research = rng.poisson(rng.gamma(2.0, research_scale * np.exp(0.25 * drive) / 2.0))
    aoa = (degree_index == 0) & (rng.random(n_applicants) < _sigmoid(-2.2 + 1.5 * ability))
    honors = rng.binomial(7, _sigmoid(-0.3 + 0.9 * drive))
    step1_draw = rng.random(n_applicants)
    step1 = np.where(step1_draw < 0.02, "fail", np.where(step1_draw < 0.05, "", "pass"))
    visa_draw = rng.random(n_applicants)
    needs_visa = (degree_index == 2) & (visa_draw < IMG_VISA_NEED)
    visa = np.where(needs_visa, np.where(visa_draw < IMG_VISA_NEED * 2 / 3, "J1", "H1B"), "none")
    visa_said = rng.random(n_applicants) >= UNSAID_VISA
    years = np.where(
        degree_index == 2, rng.poisson(3, n_applicants), rng.choice([0, 1, 2], n_applicants, p=[0.85, 0.1, 0.05])
    )
    state_pool = np.unique(states[states != ""])
    home_state = rng.choice(state_pool, n_applicants) if len(state_pool) else np.array([""] * n_applicants)
    home_state = np.where(degree_index == 2, "", home_state)  # a school abroad is in no state
    has_home = (degree_index != 2) & (rng.random(n_applicants) < HOME_PROGRAM_SHARE)

    # Applications: programs in proportion to the applications they received, more in preferred states.
    preferred = [
        frozenset({home_state[i], *rng.choice(state_pool, rng.integers(0, min(4, len(state_pool) + 1)), replace=False)})
        - {""}
        for i in range(n_applicants)
    ]
    state_names, state_of_program = np.unique(states, return_inverse=True)
    preferred_matrix = np.array([[name in chosen for name in state_names] for chosen in preferred], dtype=bool)
    in_pref = preferred_matrix[:, state_of_program] & (states != "")[None, :]
    home_match = drawn.in_state(home_state)
    n_apps = np.clip(np.round(rng.gamma(4.0, targets.mean_applications / 4.0, n_applicants)), 3, n_programs)
    n_apps = n_apps.astype(int)
    # Applicants favour programs whose residents share their degree (the shares are the programs' own).
    md_share = np.clip(1 - drawn.img_share - drawn.do_share, 0.0, 1.0)
    degree_fit = np.log(0.05 + np.stack((md_share, drawn.do_share, drawn.img_share)))[degree_index]
    failed = step1 == "fail"
    cohort = Cohort(degree_index, step2, has_step2, comlex, research, aoa, honors, failed, years, home_state, visa)
    visible = program_view(cohort, drawn, knobs, targets)
    # Nobody applies where the public facts say their visa is not taken (as the product excludes those).
    said_no_j1 = np.array([p.sponsors_j1 is False for p in programs])
    said_no_h1b = np.array([p.sponsors_h1b is False for p in programs])
    known_refusal = np.where(
        (visa == "J1")[:, None], said_no_j1[None, :], np.where((visa == "H1B")[:, None], said_no_h1b[None, :], False)
    )
    keys = np.log(popularity)[None, :] + degree_fit + np.log1p(2.0 * in_pref)
    keys = np.where(known_refusal, -np.inf, keys)
    keys += rng.gumbel(size=(n_applicants, n_programs))
    top_count = np.minimum(targets.top_signals, n_apps)
    second_count = np.minimum(targets.second_signals, n_apps - top_count)
    if bars is not None:
        chance_none, chance_top, chance_second = _planned_chances(visible, knobs, bars)
        usual = np.where((second_count > top_count)[:, None], chance_second, chance_top)
        keys += STRATEGY_WEIGHT * np.log(np.maximum(chance_none, usual) + 1e-4)
    pair_a, pair_p = _top_k_per_row(keys, n_apps)
    n_pairs = len(pair_a)

    # Signals: the top ones to the most wanted programs applied to (where they add the most, when planned),
    # then the second tier among the others (pair by pair).
    a, p = pair_a, pair_p
    in_pref_pair, home_pair = in_pref[a, p], home_match[a, p]
    want_top = 0.5 * np.log(popularity)[p] + 0.8 * in_pref_pair + rng.gumbel(size=n_pairs)
    want_second = want_top.copy()
    if bars is not None:
        none_pair = chance_none[a, p]
        want_top += STRATEGY_WEIGHT * np.log(np.maximum(chance_top[a, p] - none_pair, 0) + 1e-4)
        want_second += STRATEGY_WEIGHT * np.log(np.maximum(chance_second[a, p] - none_pair, 0) + 1e-4)
    top_signal = _top_k_pairs(a, want_top, top_count)
    second_signal = _top_k_pairs(a, np.where(top_signal, -np.inf, want_second), second_count) & ~top_signal
    signals_total = targets.top_signals + targets.second_signals
    away_count = np.minimum(rng.poisson(typical_away_rotations(signals_total), n_applicants), n_apps)
    away = _top_k_pairs(a, (top_signal | second_signal) + rng.gumbel(size=n_pairs), away_count)
    home_program = _top_k_pairs(a, home_pair + rng.gumbel(size=n_pairs), has_home.astype(int))

    # Programs score their applicants and interview the highest.
    base = visible[a, p] + HOME_PROGRAM_WEIGHT * home_program + AWAY_WEIGHT * away + LATENT_WEIGHT * latent[a]
    signal_term = knobs.top_signal_weight * top_signal + knobs.second_signal_weight * second_signal
    score = base + signal_term + rng.normal(0, PRE_INTERVIEW_NOISE, n_pairs)
    capacity = np.ceil(np.where(np.isnan(interviews), INTERVIEWS_PER_POSITION * size, interviews))
    capacity = np.maximum(capacity, size).astype(int)
    utility = np.log(popularity)[p] + 0.7 * in_pref_pair + 0.5 * home_pair + rng.normal(0, 1, n_pairs)
    offered, invited = _interview_waves(a, p, score, utility, capacity)

    # Rank lists after interviews, then the match.
    final_score = base + rng.normal(0, POST_INTERVIEW_NOISE, n_pairs)
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

    # Counterfactual admission: the program would take the applicant if ranked first.
    filled = np.bincount(matched_program[matched_program >= 0], minlength=n_programs)
    cutoff = np.full(n_programs, -np.inf)
    for j in range(n_programs):
        if filled[j] >= size[j]:
            cutoff[j] = min(program_scores[j][i] for i in np.nonzero(matched_program == j)[0])
    admitted = invited & ((final_score >= cutoff[p]) | matched)
    applied = np.bincount(p[np.isfinite(score)], minlength=n_programs)
    lowest_offered = np.full(n_programs, np.inf)
    np.minimum.at(lowest_offered, p[offered], score[offered])
    interview_bar = np.where(applied > capacity, lowest_offered, -np.inf)

    pairs_of = np.split(np.argsort(a, kind="stable"), np.searchsorted(np.sort(a), np.arange(1, n_applicants)))
    ids = np.array([prog.program_id for prog in programs])

    def signaled(i: int, mask: np.ndarray) -> frozenset[str]:
        mine = pairs_of[i]
        return frozenset(ids[p[mine[mask[mine]]]].tolist())

    applicants = [
        Applicant(
            degree=str(degree[i]),
            step2_ck_score=int(step2[i]) if has_step2[i] else None,
            step1_result=str(step1[i]) or None,
            comlex_level2_score=int(comlex[i]) if degree_index[i] == 1 else None,
            research_items=int(research[i]),
            aoa_member=bool(aoa[i]),
            clerkship_honors=int(honors[i]),
            visa_need=str(visa[i]) if visa_said[i] else None,
            years_since_graduation=int(years[i]),
            has_home_program=bool(has_home[i]),
            away_rotations=int(away_count[i]),
            school_state=str(home_state[i]) or None,
            specialties=(targets.specialty,),
            preferred_states=preferred[i],
            application_budget=int(n_apps[i]),
            gold_signal_program_ids=signaled(i, top_signal),
            signaled_program_ids=signaled(i, second_signal),
        )
        for i in range(n_applicants)
    ]
    md, imgs = degree_index == 0, degree_index == 2
    attended = np.bincount(a[invited], minlength=n_applicants)
    md_matched = (matched_program >= 0) & md
    achieved = {
        "mean_step2ck_matched_usmd": float(step2[md_matched].mean()) if md_matched.any() else math.nan,
        "mean_research_items_matched": float(research[md_matched].mean()) if md_matched.any() else math.nan,
        "usmd_match_rate": float(md_matched.sum() / max(1, md.sum())),
        "img_match_rate": float((matched_program >= 0)[imgs].mean()) if imgs.any() else math.nan,
        "usmd_share": float(md_matched.sum() / positions),
        "fill_rate": float((matched_program >= 0).sum() / positions),
        "applicants": float(n_applicants),
        "positions": float(positions),
        "interview_rate": float(offered.mean()),
        "interviews_matched_usmd": float(attended[md_matched].mean()) if md_matched.any() else math.nan,
        "interviews_unmatched_usmd": float(attended[md & ~md_matched].mean()) if (md & ~md_matched).any() else math.nan,
    }
    for name, chosen in (
        ("interview_rate_top_signal", top_signal),
        ("interview_rate_second_signal", second_signal),
        ("interview_rate_no_signal", ~(top_signal | second_signal)),
    ):
        # As the public figure is: each program's rate of offers, then their mean over programs.
        sent = np.bincount(p[chosen], minlength=n_programs)
        got = np.bincount(p[chosen & offered], minlength=n_programs)
        achieved[name] = float(np.mean(got[sent > 0] / sent[sent > 0])) if chosen.any() else math.nan
    if targets.img_halves is not None:
        matched_imgs, threshold = (matched_program >= 0)[imgs], targets.img_halves[0].threshold
        below = step2[imgs] < threshold
        achieved["img_match_rate_lower_half"] = float(matched_imgs[below].mean()) if below.any() else math.nan
        achieved["img_match_rate_upper_half"] = float(matched_imgs[~below].mean()) if (~below).any() else math.nan
    for band in targets.bands:
        scores = step2[:n_md]
        inside = (scores >= (band.low if band.low is not None else -np.inf)) & (
            scores <= (band.high if band.high is not None else np.inf)
        )
        achieved[f"band_{band.low}_{band.high}"] = float(md_matched[:n_md][inside].mean()) if inside.any() else math.nan
    shown = [replace(prog) for prog in programs]
    return SpecialtyOutcome(
        targets.specialty,
        shown,
        applicants,
        a,
        p,
        invited,
        admitted,
        matched,
        ProgramBars(interview_bar, cutoff),
        achieved,
        drawn,
        replace(knobs),
    )
