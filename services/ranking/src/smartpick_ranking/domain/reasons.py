"""Why a chance is what it is: each input against a typical matched applicant of the specialty.

A reason's effect is the difference between the applicant's estimate and the estimate for the same
applicant with one input set to what is typical of a matched US MD senior in that specialty (its mean
Step 2 CK, its mean research items), or to the common case (no AOA, no away rotation, a US MD degree, no
visa need, no signal). Every listed program gets its three largest reasons, however small: the student
sees what moves the estimate even where little does."""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.applicant import Applicant
from smartpick_ranking.domain.catalog import Program, SpecialtyStats
from smartpick_ranking.domain.features import FEATURE_NAMES, build_features, for_applicant

REASONS_PER_PROGRAM = 3
LIST_REASONS = 3
SIGNAL_REASON = "signal"


@dataclass(frozen=True)
class Reason:
    feature: str
    text: str
    effect: float  # probability points this input adds (negative: takes away) against the typical case


@dataclass(frozen=True)
class Counterfactual:
    """One input set to its typical value; `typical` returns None where there is nothing to compare."""

    feature: str
    typical: Callable[[Applicant, SpecialtyStats | None], Applicant | None]
    describe: Callable[[Applicant, SpecialtyStats | None, str], str]


# Step 2 CK and research are compared wherever the specialty has a matched mean, even where the applicant is at
# it (an effect of 0 says so) or gave no score: so every listed program has a reason, however typical.
def _typical_step2(a: Applicant, s: SpecialtyStats | None) -> Applicant | None:
    if s is None or s.mean_step2ck_matched_usmd is None:
        return None
    return dataclasses.replace(a, step2_ck_score=round(s.mean_step2ck_matched_usmd))


def _typical_research(a: Applicant, s: SpecialtyStats | None) -> Applicant | None:
    if s is None or s.mean_research_items_matched is None:
        return None
    return dataclasses.replace(a, research_items=round(s.mean_research_items_matched))


def _step2_text(a: Applicant, s: SpecialtyStats | None, specialty: str) -> str:
    mean = s.mean_step2ck_matched_usmd
    if a.step2_ck_score is None:
        return f"no Step 2 CK score given (the matched mean of {specialty} is {mean:.0f})"
    gap = a.step2_ck_score - mean
    if round(gap) == 0:
        return f"Step 2 CK at the matched mean of {specialty} ({mean:.0f})"
    side = "above" if gap > 0 else "below"
    return f"Step 2 CK {abs(gap):.0f} points {side} the matched mean of {specialty} ({mean:.0f})"


def _research_text(a: Applicant, s: SpecialtyStats | None, specialty: str) -> str:
    return (
        f"{a.research_items} research items against {s.mean_research_items_matched:.1f}, "
        f"the matched mean of {specialty}"
    )


def _if(
    condition: Callable[[Applicant], bool], **typical
) -> Callable[[Applicant, SpecialtyStats | None], Applicant | None]:
    return lambda a, _s: dataclasses.replace(a, **typical) if condition(a) else None


def _without_rotations_or_home(a: Applicant, _s: SpecialtyStats | None) -> Applicant | None:
    """Away rotations and a home program, each only where the applicant said it (an unsaid input is the
    typical applicant's: nothing of theirs to explain)."""
    said = {name: zero for name, zero in (("away_rotations", 0), ("has_home_program", False)) if getattr(a, name)}
    return dataclasses.replace(a, **said) if said else None


COUNTERFACTUALS = (
    Counterfactual("step2_ck_score", _typical_step2, _step2_text),
    Counterfactual("research_items", _typical_research, _research_text),
    Counterfactual("aoa_member", _if(lambda a: a.aoa_member, aoa_member=False), lambda a, s, _: "AOA membership"),
    Counterfactual(
        "away_rotations",
        _without_rotations_or_home,
        lambda a, s, _: "away rotations and a home program in the specialty",
    ),
    Counterfactual(
        "degree",
        _if(lambda a: a.degree != "MD", degree="MD", comlex_level2_score=None),
        lambda a, s, _: f"applying as a {a.degree} rather than a US MD graduate",
    ),
    Counterfactual(
        "visa_need",
        _if(lambda a: bool(a.needs_visa), visa_need="none"),
        lambda a, s, _: f"needing {a.visa_need} visa sponsorship",
    ),
)


def counterfactual_rows(
    applicant: Applicant,
    programs: Sequence[Program],
    signals: np.ndarray,
    stats: Mapping[str, SpecialtyStats],
    no_signal: np.ndarray | None = None,
    actual: np.ndarray | None = None,
) -> tuple[np.ndarray, list[tuple[str, str, np.ndarray]]]:
    """Feature rows of the programs under each applicable counterfactual (signals as planned), and per
    counterfactual its feature, its text, and for each program the row that scores it (-1: not applicable).
    `no_signal`: the programs' chances with no signal, when already known (a plan scored them); the signal's
    counterfactual then reads them (rows from len(rows) on are entries of `no_signal`) instead of new rows.
    `actual`: the programs' own feature rows at `signals`, when already built (else they are built here)."""
    blocks: list[np.ndarray] = []
    explained: list[tuple[str, str, np.ndarray]] = []
    offset = 0
    by_specialty: dict[str, list[int]] = {}
    for i, program in enumerate(programs):
        by_specialty.setdefault(program.specialty, []).append(i)
    signal_reasons = []

    if actual is None:
        actual = build_features(applicant, programs, stats, signals)

    def add(feature: str, text: str, typical: Applicant, indices: list[int], levels: np.ndarray) -> None:
        nonlocal offset
        chosen = [programs[i] for i in indices]
        if np.array_equal(levels, signals[indices]):  # the actual rows but for the applicant's inputs
            blocks.append(for_applicant(actual[indices], applicant, typical, chosen, stats, levels))
        else:
            blocks.append(build_features(typical, chosen, stats, levels))
        rows = np.full(len(programs), -1)
        rows[indices] = np.arange(offset, offset + len(indices))
        explained.append((feature, text, rows))
        offset += len(indices)

    for specialty, indices in by_specialty.items():
        specialty_stats = stats.get(specialty)
        for counterfactual in COUNTERFACTUALS:
            typical = counterfactual.typical(applicant, specialty_stats)
            if typical is not None:
                text = counterfactual.describe(applicant, specialty_stats, specialty)
                add(counterfactual.feature, text, typical, indices, signals[indices])
        signaled = [i for i in indices if signals[i] > 0]
        if signaled and no_signal is None:
            add(SIGNAL_REASON, "your signal to this program", applicant, signaled, np.zeros(len(signaled)))
        elif signaled:
            rows = np.full(len(programs), -1)
            rows[signaled] = signaled
            signal_reasons.append(rows)
            explained.append((SIGNAL_REASON, "your signal to this program", rows))
    for rows in signal_reasons:
        rows[rows >= 0] += offset  # past the scored rows: into no_signal
    if not blocks:
        return np.empty((0, len(FEATURE_NAMES)), dtype=np.float32), explained
    return np.concatenate(blocks), explained


def program_reasons(
    actual: np.ndarray, typical: np.ndarray, explained: list[tuple[str, str, np.ndarray]]
) -> list[tuple[Reason, ...]]:
    """Each program's largest reasons by size of effect, none dropped for being small: `actual[i]` is listed
    program i's chance, `typical` the counterfactual chances `explained` indexes."""
    if not explained:
        return [() for _ in actual]
    rows = np.array([r for _, _, r in explained])  # [counterfactual, program]
    effects = actual.astype(typical.dtype)[None, :] - typical[np.maximum(rows, 0)]  # in the model's precision
    size = np.where(rows >= 0, -np.abs(effects), np.inf)  # not applicable: after every applicable one
    ranked = np.argsort(size, axis=0, kind="stable")[:REASONS_PER_PROGRAM]
    # Python lists, program by program: indexing numpy arrays one scalar at a time costs more than the rest.
    applies, effect_of = (rows >= 0).T.tolist(), effects.T.tolist()
    return [
        tuple(Reason(explained[e][0], explained[e][1], effect[e]) for e in ranks if listed[e])
        for ranks, listed, effect in zip(ranked.T.tolist(), applies, effect_of, strict=True)
    ]


def list_reasons(
    actual_chance: float,
    chances: np.ndarray,
    typical: np.ndarray,
    explained: list[tuple[str, str, np.ndarray]],
    at_least_one: Callable[[np.ndarray], float],
) -> tuple[Reason, ...]:
    """The list's largest reasons: each counterfactual's effect on P(at least one match), the largest named."""
    by_feature: dict[str, tuple[str, np.ndarray]] = {}
    for feature, text, rows in explained:
        changed = chances.copy() if feature not in by_feature else by_feature[feature][1]
        applies = rows >= 0
        changed[applies] = typical[rows[applies]]
        by_feature[feature] = (by_feature.get(feature, (text, None))[0], changed)
    found = [
        Reason(feature, text, actual_chance - at_least_one(changed)) for feature, (text, changed) in by_feature.items()
    ]
    ranked = sorted(found, key=lambda r: -abs(r.effect))[:LIST_REASONS]
    if ranked:
        first = ranked[0]
        ranked[0] = dataclasses.replace(first, text=f"{first.text}: the largest factor")
    return tuple(ranked)
