"""What each specialty's simulated Match is calibrated to: the public figures, or documented fallbacks.

Per specialty: the mean Step 2 CK and research of matched US MD seniors, the US MD share of positions, the
fill rate, the gold and silver signals, the typical number of applications (specialty_stats.csv), the US MD
seniors' P(match) by Step 2 CK band (step2_band_match_rates.csv) and the mean interview rates by signal
over its programs (program_signal_interview_rates.csv). A missing figure takes the fallback FALLBACKS names;
the model card lists every use."""

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from smartpick_ranking.domain.catalog import Program, SpecialtyStats

ALL_SENIORS_MEAN_RESEARCH_2024 = 13.98  # mean publications of US seniors 2024 (SPECIALTY_SOURCES.md)
FALLBACKS = {
    "mean_step2ck_matched_usmd": "median of the specialties that state it",
    "mean_research_items_matched": f"mean publications of all US seniors 2024 ({ALL_SENIORS_MEAN_RESEARCH_2024})",
    "pct_positions_filled_by_usmd_seniors_2025": "median of the specialties that state it",
    "fill_rate_2025": "median of the specialties that state it",
    "signals": "none (the specialty takes part in no signaling the data states)",
    "mean_applications_usmd": f"{45} applications (assumption)",
    "band_match_rates": "no Step 2 CK band rates: the pool is sized to the fill rate and US MD share alone",
    "signal_interview_rates": "no per-program signal rates: signal weights stay at their assumed start",
    "img_outcomes": "no non-US IMG figures: the other applicants are 40% DO, 60% IMG, matching as the pools say",
}
MEAN_APPLICATIONS = 45.0
BAND_TAIL_MEAN = 9.0


@dataclass(frozen=True)
class BandRate:
    """Published P(match) of US MD seniors whose Step 2 CK lies in [low, high] (None: open end)."""

    low: int | None
    high: int | None
    p_match: float
    applicants: int


@dataclass(frozen=True)
class ImgOutcome:
    """Non-US IMGs who preferred a specialty in the 2026 Match: how many, the share matched, and the means of
    their Step 2 CK and research items (abstracts, presentations and publications, as for US MD seniors) over
    matched and unmatched together (weighted by each cohort's n; None where NRMP suppressed a cohort)."""

    applicants: int
    p_match: float
    mean_step2: float | None
    mean_research: float | None
    positions: int

    @property
    def per_position(self) -> float:
        return self.applicants / max(1, self.positions)


@dataclass(frozen=True)
class ImgStep2Half:
    """Non-US IMGs of a specialty whose Step 2 CK lies below (or at and above) their pooled median, derived from
    NRMP's quartiles of matched and of unmatched IMGs (2026): the share matched, and the half's median score.

    NRMP gives each cohort's minimum, quartiles and maximum; between them the distribution is taken as linear,
    so a half's rate is derived, not published, and uncertain by the interpolation as well as by its count."""

    lower: bool  # the half below the threshold
    threshold: float  # the pooled median Step 2 CK of matched and unmatched together
    typical_step2: float  # the half's own median (the pooled 25th or 75th percentile)
    applicants: float  # IMGs of the half (of those NRMP gives a Step 2 CK for)
    p_match: float


@dataclass(frozen=True)
class SpecialtyTargets:
    """The figures the simulated match of one specialty is calibrated to, after fallbacks."""

    specialty: str
    mean_step2ck_matched_usmd: float
    mean_research_items_matched: float
    usmd_share: float  # 0-1
    fill_rate: float  # 0-1
    top_signals: int
    second_signals: int
    mean_applications: float
    bands: tuple[BandRate, ...]
    signal_rates: tuple[float, float, float] | None  # mean interview rate: top signal, second, none
    fallbacks: tuple[str, ...]
    img: ImgOutcome | None = None  # non-US IMGs who preferred the specialty, 2026 Match
    img_halves: tuple[ImgStep2Half, ImgStep2Half] | None = None  # their rates below and above their median


def _band_key(row: Mapping[str, str]) -> tuple[int | None, int | None]:
    return (int(row["band_low"]) if row["band_low"] else None, int(row["band_high"]) if row["band_high"] else None)


def parse_band_rates(rows: Sequence[Mapping[str, str]]) -> dict[str, tuple[BandRate, ...]]:
    """step2_band_match_rates.csv by specialty; bands without applicants are left out."""
    bands: dict[str, list[BandRate]] = {}
    for row in rows:
        if row["p_match"] and int(row["n_applicants"]) > 0:
            low, high = _band_key(row)
            bands.setdefault(row["specialty"], []).append(
                BandRate(low, high, float(row["p_match"]), int(row["n_applicants"]))
            )
    return {s: tuple(b) for s, b in bands.items()}


def _pooled_mean(cohorts: Sequence[Mapping[str, str]]) -> float | None:
    known = [(int(row["n"]), float(row["mean"])) for row in cohorts if row["mean"] and row["n"]]
    if len(known) < len(cohorts) or not known:
        return None  # a suppressed cohort would bias the mean toward the other
    return sum(n * mean for n, mean in known) / sum(n for n, _ in known)


def parse_img_outcomes(rows: Sequence[Mapping[str, str]]) -> dict[str, ImgOutcome]:
    """img_charting_outcomes_2026.csv by specialty (NRMP Charting Outcomes, non-US IMGs, 2026 Main Match)."""
    by_specialty: dict[str, list[Mapping[str, str]]] = {}
    for row in rows:
        by_specialty.setdefault(row["specialty"], []).append(row)
    outcomes = {}
    for specialty, members in by_specialty.items():
        first = members[0]
        if not first["img_applicants"] or not first["img_match_rate"]:
            continue

        def pooled(measure: str, members=members) -> float | None:
            return _pooled_mean([row for row in members if row["measure"] == measure])

        parts = [pooled(measure) for measure in ("abstracts", "presentations", "publications")]
        research = None if None in parts else sum(parts)
        outcomes[specialty] = ImgOutcome(
            int(first["img_applicants"]),
            float(first["img_match_rate"]),
            pooled("step2ck"),
            research,
            int(first["positions"]),
        )
    return outcomes


_QUARTILE_POINTS = ("min", "q1", "median", "q3", "max")
_QUARTILE_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)


def parse_img_step2_halves(rows: Sequence[Mapping[str, str]]) -> dict[str, tuple[ImgStep2Half, ImgStep2Half]]:
    """img_charting_outcomes_2026.csv: per specialty whose matched and unmatched Step 2 CK NRMP both gives,
    the lower and the upper half (`ImgStep2Half`)."""
    cohorts: dict[str, dict[str, Mapping[str, str]]] = {}
    for row in rows:
        if row["measure"] == "step2ck" and row["suppressed"] != "yes" and all(row[k] for k in ("n", *_QUARTILE_POINTS)):
            cohorts.setdefault(row["specialty"], {})[row["cohort"]] = row
    halves = {}
    for specialty, of in sorted(cohorts.items()):
        if {"matched", "not_matched"} <= of.keys():
            halves[specialty] = _halves(of["matched"], of["not_matched"])
    return halves


def _halves(matched: Mapping[str, str], unmatched: Mapping[str, str]) -> tuple[ImgStep2Half, ImgStep2Half]:
    points = [[float(row[k]) for k in _QUARTILE_POINTS] for row in (matched, unmatched)]
    counts = np.array([int(matched["n"]), int(unmatched["n"])], dtype=np.float64)
    grid = np.arange(min(p[0] for p in points), max(p[-1] for p in points) + 0.05, 0.1)
    below = np.array([np.interp(grid, p, _QUARTILE_SHARES) for p in points])  # [cohort, score]: share below
    pooled = counts @ below / counts.sum()
    threshold, low, high = (float(np.interp(q, pooled, grid)) for q in (0.5, 0.25, 0.75))
    matched_below, unmatched_below = counts * np.array([np.interp(threshold, p, _QUARTILE_SHARES) for p in points])
    matched_above, unmatched_above = counts - (matched_below, unmatched_below)

    def half(lower: bool, typical: float, matched_n: float, unmatched_n: float) -> ImgStep2Half:
        return ImgStep2Half(
            lower, threshold, typical, float(matched_n + unmatched_n), float(matched_n / (matched_n + unmatched_n))
        )

    return half(True, low, matched_below, unmatched_below), half(False, high, matched_above, unmatched_above)


def mean_signal_rates(programs: Sequence[Program]) -> tuple[float, float, float] | None:
    """Mean interview rates (top signal, second signal, no signal) over the programs that state them."""
    top = [p.rate_top_signal for p in programs if p.rate_top_signal is not None]
    none = [p.rate_no_signal for p in programs if p.rate_no_signal is not None]
    if len(top) < 5 or len(none) < 5:
        return None
    second = [p.rate_second_signal for p in programs if p.rate_second_signal is not None]
    return float(np.mean(top)), float(np.mean(second)) if len(second) >= 5 else math.nan, float(np.mean(none))


def resolve_targets(
    programs: Sequence[Program],
    stats: Mapping[str, SpecialtyStats],
    bands: Mapping[str, tuple[BandRate, ...]],
    img_outcomes: Mapping[str, ImgOutcome] | None = None,
    img_halves: Mapping[str, tuple[ImgStep2Half, ImgStep2Half]] | None = None,
) -> dict[str, SpecialtyTargets]:
    """Targets for every specialty of the catalog: the public figure, or the documented fallback."""
    img_outcomes, img_halves = img_outcomes or {}, img_halves or {}
    by_specialty: dict[str, list[Program]] = {}
    for program in programs:
        by_specialty.setdefault(program.specialty, []).append(program)

    def median_of(name: str) -> float:
        return statistics.median(v for s in stats.values() if (v := getattr(s, name)) is not None)

    targets = {}
    for specialty, members in sorted(by_specialty.items()):
        figures = stats.get(specialty, SpecialtyStats(specialty))
        fallbacks: list[str] = []

        def pick(name: str, fallback: float, figures=figures, fallbacks=fallbacks) -> float:
            value = getattr(figures, name)
            if value is None:
                fallbacks.append(name)
                return fallback
            return float(value)

        step2 = pick("mean_step2ck_matched_usmd", median_of("mean_step2ck_matched_usmd"))
        research = pick("mean_research_items_matched", ALL_SENIORS_MEAN_RESEARCH_2024)
        md_share = pick(
            "pct_positions_filled_by_usmd_seniors_2025", median_of("pct_positions_filled_by_usmd_seniors_2025")
        )
        fill = pick("fill_rate_2025", median_of("fill_rate_2025"))
        applications = pick("mean_applications_usmd", MEAN_APPLICATIONS)
        if figures.signals is None:
            fallbacks.append("signals")
        if specialty not in bands:
            fallbacks.append("band_match_rates")
        if specialty not in img_outcomes:
            fallbacks.append("img_outcomes")
        rates = mean_signal_rates(members)
        if rates is None and figures.signals:
            fallbacks.append("signal_interview_rates")
        targets[specialty] = SpecialtyTargets(
            specialty=specialty,
            mean_step2ck_matched_usmd=step2,
            mean_research_items_matched=research,
            usmd_share=md_share / 100,
            fill_rate=min(1.0, fill / 100),
            top_signals=figures.gold_signals or 0,
            second_signals=figures.silver_signals or 0,
            mean_applications=applications,
            bands=bands.get(specialty, ()),
            signal_rates=rates if figures.signals else None,
            fallbacks=tuple(fallbacks),
            img=img_outcomes.get(specialty),
            img_halves=img_halves.get(specialty) if specialty in img_outcomes else None,
        )
    return targets
